//go:build unix

package db

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestReachableDataDir asks for clusters on behalf of an account that owns
// nothing here, as the postgres account does when we are root. Below a
// directory it can reach, the missing directories are made for it to
// search and the cluster stays where it was asked for. Below one it cannot
// (a home directory), the cluster goes to relocationRoot, linked from
// there, and the directory's mode is left alone.
func TestReachableDataDir(t *testing.T) {
	acct := &account{name: "stranger", uid: os.Getuid() + 54321, gid: os.Getgid() + 54321}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	mkdir := func(mode os.FileMode) string {
		dir, err := os.MkdirTemp("", "conduit-reach-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	old := relocationRoot
	relocationRoot = filepath.Join(mkdir(0o755), "embedded")
	t.Cleanup(func() { relocationRoot = old })

	t.Run("Reachable", func(t *testing.T) {
		base := mkdir(0o755)
		dir := filepath.Join(base, "clone", ".data", "postgres")
		got, err := reachableDataDir(dir, acct, logger)
		if err != nil || got != dir {
			t.Fatalf("reachableDataDir = %q, %v; want %q", got, err, dir)
		}
		for _, d := range []string{filepath.Join(base, "clone"), filepath.Join(base, "clone", ".data")} {
			if st, err := os.Stat(d); err != nil {
				t.Error(err)
			} else if st.Mode().Perm()&0o001 == 0 {
				t.Errorf("%s: %v; want a directory others may search", d, st.Mode())
			}
		}
		if !canReach(filepath.Dir(dir), acct) {
			t.Errorf("%s: the account cannot reach it", filepath.Dir(dir))
		}
	})

	t.Run("Unreachable", func(t *testing.T) {
		home := mkdir(0o700)
		dir := filepath.Join(home, ".data", "postgres")
		got, err := reachableDataDir(dir, acct, logger)
		if err != nil || filepath.Dir(got) != relocationRoot {
			t.Fatalf("reachableDataDir = %q, %v; want a directory in %s", got, err, relocationRoot)
		}
		if link, err := os.Readlink(dir); err != nil || link != got {
			t.Errorf("%s links to %q (%v), want %q", dir, link, err, got)
		}
		if st, err := os.Stat(home); err != nil {
			t.Error(err)
		} else if st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v; want it left 0700", home, st.Mode())
		}
	})
}
