package db

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
