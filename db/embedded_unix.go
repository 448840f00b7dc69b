//go:build unix

package db

import (
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
// gives it the tree and makes sure it can reach it.
func prepareDataDir(dir string, acct *account, logger *slog.Logger) error {
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
	if acct == nil {
		return nil
	}
	if err := makeTraversable(filepath.Dir(dir), acct, logger); err != nil {
		return err
	}
	return handOver(dir, acct)
}

// makeTraversable lets acct search dir and every directory above it, which
// it needs to reach the data directory. It only ever adds the search bit
// for others, never the right to list or write.
func makeTraversable(dir string, acct *account, logger *slog.Logger) error {
	for {
		st, err := os.Stat(dir)
		if err != nil {
			return err
		}
		perm := st.Mode().Perm()
		bit := fs.FileMode(0o001)
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			switch {
			case int(sys.Uid) == acct.uid:
				bit = 0o100
			case int(sys.Gid) == acct.gid:
				bit = 0o010
			}
		}
		if perm&bit == 0 {
			logger.Warn("letting the PostgreSQL account traverse a directory", "dir", dir, "account", acct.name)
			if err := os.Chmod(dir, perm|0o001); err != nil {
				return fmt.Errorf("let %s traverse %s: %w", acct.name, dir, err)
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
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
