package db

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestFindServer(t *testing.T) {
	root := t.TempDir()
	old := debianRoot
	debianRoot = root
	t.Cleanup(func() { debianRoot = old })
	t.Setenv("PATH", t.TempDir()) // neither postgres, initdb nor pg_config

	t.Run("ErrNone", func(t *testing.T) {
		_, _, err := findServer()
		if !errors.Is(err, errNoServer) {
			t.Fatalf("err = %v, want errNoServer", err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "apt-get install postgresql") || !strings.Contains(msg, "DATABASE_URL") {
			t.Fatalf("message %q: want one line naming the install and DATABASE_URL", msg)
		}
	})
	t.Run("NewestVersionFirst", func(t *testing.T) {
		for _, v := range []string{"9.6", "15", "16", "13"} {
			dir := filepath.Join(root, v, "bin")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"postgres", "initdb"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
		postgres, initdb, err := findServer()
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(root, "16", "bin"); filepath.Dir(postgres) != want || filepath.Dir(initdb) != want {
			t.Fatalf("found %s and %s, want both in %s", postgres, initdb, want)
		}
	})
}

// TestEmbeddedLeavesModesAlone starts the cluster in a directory below one
// only its owner may enter, as a home directory is: no directory that
// existed before has its mode changed. Run as root, where the server's
// account cannot reach the directory, the cluster lives under
// relocationRoot, linked from where it was asked for, and keeps its data
// across a restart.
func TestEmbeddedLeavesModesAlone(t *testing.T) {
	ctx := t.Context()
	home := t.TempDir() // mode 0700, like /root
	// Where relocated clusters go must be reachable: in /tmp itself, not
	// in t.TempDir's directory of the test, which only we may enter.
	reloc, err := os.MkdirTemp("", "conduit-relocated-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(reloc) })
	if err := os.Chmod(reloc, 0o755); err != nil {
		t.Fatal(err)
	}
	old := relocationRoot
	relocationRoot = filepath.Join(reloc, "embedded")
	t.Cleanup(func() { relocationRoot = old })

	modes := func() map[string]os.FileMode {
		m := map[string]os.FileMode{}
		for d := home; ; d = filepath.Dir(d) {
			st, err := os.Stat(d)
			if err != nil {
				t.Fatal(err)
			}
			m[d] = st.Mode()
			if filepath.Dir(d) == d {
				return m
			}
		}
	}
	before := modes()
	dir := filepath.Join(home, ".data", "postgres")
	start := func() *Embedded {
		t.Helper()
		e, err := StartEmbedded(ctx, EmbeddedConfig{Dir: dir, Fast: true})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := start()
	conn, err := pgx.Connect(ctx, e.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	after := modes()
	for d, m := range before {
		if after[d] != m {
			t.Errorf("%s: mode %v, then %v", d, m, after[d])
		}
	}
	st, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := serverAccount()
	if err != nil {
		t.Fatal(err)
	}
	if linked := st.Mode()&os.ModeSymlink != 0; linked != (acct != nil) {
		t.Errorf("%s is a link: %v; want one exactly when the server runs as another account (%v)", dir, linked, acct != nil)
	}
	e = start()
	defer e.Stop()
	conn, err = pgx.Connect(ctx, e.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT n FROM kept`).Scan(&n); err != nil || n != 7 {
		t.Fatalf("after a restart: %d, %v; want the row kept", n, err)
	}
}
