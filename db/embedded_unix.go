//go:build unix

package db

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// serverAccount returns the account the server must run as: nil (this
// process's own) unless we are root, which PostgreSQL refuses to run as.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return &account{name: name, uid: uid, gid: gid}, nil
	}
	return nil, errors.New("running as root, and there is no unprivileged account (postgres or nobody) to run PostgreSQL as")
}

// prepareDataDir creates dir and, when the server runs as another account,
// gives it the tree. reachableDataDir has made sure the account can reach
// it.
func prepareDataDir(dir string, acct *account) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// PostgreSQL refuses a data directory that others may read or that its
	// group may write.
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o027 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	return handOver(dir, acct)
}

// relocationRoot is where the clusters live that the server's account
// could not reach where they were asked for; a variable so that tests can
// point it elsewhere.
var relocationRoot = "/var/lib/conduit/embedded"

// reachableDataDir returns the directory the cluster asked for at dir
// really lives in. Running as ourselves, that is dir. Running as root, the
// server's account must be able to search every directory above it, which
// a home directory (mode 0700) forbids; rather than change the
// permissions of the user's directories, the cluster then lives in a
// directory under relocationRoot made for it, and dir becomes a symbolic
// link to it, so that it stays where the user looks and survives restarts.
// The directories missing above dir are made searchable (0755, less the
// umask) when the account can reach the nearest one that exists: made for
// the cluster, they are nobody's to keep private, and made 0700 they would
// send a cluster asked for in a reachable place (a clone's .data/postgres,
// a test's temporary directory) to relocationRoot. Removing the directory
// it was asked for would then remove only the link, and leave the
// cluster behind. A cluster that already exists at an unreachable dir is
// not moved silently: that is an error saying what to do.
func reachableDataDir(dir string, acct *account, logger *slog.Logger) (string, error) {
	if acct == nil {
		return dir, nil
	}
	if target, err := filepath.EvalSymlinks(dir); err == nil {
		dir = target
	}
	parent := filepath.Dir(dir)
	if canReach(parent, acct) {
		return dir, nil
	}
	if _, err := os.Stat(parent); errors.Is(err, fs.ErrNotExist) && canReach(existingAncestor(parent), acct) {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return "", err
		}
		if canReach(parent, acct) {
			return dir, nil
		}
	}
	if st, err := os.Lstat(dir); err == nil {
		entries, _ := os.ReadDir(dir)
		if !st.IsDir() || len(entries) > 0 {
			return "", fmt.Errorf("the %s account, which runs PostgreSQL, cannot reach %s: move the cluster to a directory it can reach and point DATA_DIR at it", acct.name, dir)
		}
		if err := os.Remove(dir); err != nil { // an empty directory: the link takes its place
			return "", err
		}
	}
	sum := sha256.Sum256([]byte(dir))
	real := filepath.Join(relocationRoot, filepath.Base(dir)+"-"+hex.EncodeToString(sum[:4]))
	if err := os.MkdirAll(relocationRoot, 0o755); err != nil {
		return "", err
	}
	if !canReach(relocationRoot, acct) {
		return "", fmt.Errorf("the %s account, which runs PostgreSQL, can reach neither %s nor %s: set DATA_DIR to a directory it can reach", acct.name, dir, relocationRoot)
	}
	if err := os.MkdirAll(real, 0o700); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", err
	}
	if err := os.Symlink(real, dir); err != nil {
		return "", err
	}
	logger.Info("the PostgreSQL account cannot reach the data directory: keeping the cluster where it can, linked from there",
		"account", acct.name, "dir", dir, "cluster", real)
	return real, nil
}

// existingAncestor returns the nearest of dir and the directories above it
// that exists.
func existingAncestor(dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}

// canReach tells whether acct may search dir and every directory above
// it, as it must to open a path below dir.
func canReach(dir string, acct *account) bool {
	for {
		st, err := os.Stat(dir)
		if err != nil {
			return false
		}
		bit := fs.FileMode(0o001)
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			switch {
			case int(sys.Uid) == acct.uid:
				bit = 0o100
			case int(sys.Gid) == acct.gid:
				bit = 0o010
			}
		}
		if st.Mode().Perm()&bit == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// handOver gives path, and everything under it, to acct.
func handOver(path string, acct *account) error {
	if acct == nil {
		return nil
	}
	return filepath.WalkDir(path, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if sys, ok := info.Sys().(*syscall.Stat_t); ok && int(sys.Uid) == acct.uid && int(sys.Gid) == acct.gid {
			return nil
		}
		if err := os.Lchown(p, acct.uid, acct.gid); err != nil {
			return fmt.Errorf("give %s to %s: %w", p, acct.name, err)
		}
		return nil
	})
}

// postgresRunning tells whether pid is a live PostgreSQL server. Where
// /proc is missing, any live process counts.
func postgresRunning(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) || !procMounted()
	}
	return strings.TrimSpace(string(comm)) == "postgres"
}

func procMounted() bool {
	_, err := os.Stat("/proc/self")
	return err == nil
}

// killGroup kills the server and its backends, which share its process group.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// credential is what exec needs to run a process as a, or nil for our own account.
func (a *account) credential() *syscall.Credential {
	if a == nil {
		return nil
	}
	// No supplementary groups: they would be root's.
	return &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid), Groups: []uint32{}}
}
