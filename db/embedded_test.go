package db_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

func TestEmbeddedRestartKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A directory too deep for a unix socket path, so that the socket goes
	// to a temporary directory of its own.
	root := dbtest.ClusterDir(t)
	dir := filepath.Join(root, strings.Repeat("deep/", 20), "postgres")
	start := func(t *testing.T) *db.Embedded {
		t.Helper()
		e, err := db.StartEmbedded(ctx, db.EmbeddedConfig{Dir: dir, Fast: true})
		if err != nil {
			t.Fatalf("StartEmbedded: %v", err)
		}
		t.Cleanup(func() { e.Stop() })
		return e
	}
	connect := func(t *testing.T, e *db.Embedded) *pgx.Conn {
		t.Helper()
		conn, err := pgx.Connect(ctx, e.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(ctx) })
		return conn
	}

	e := start(t)
	// Not relocated (and so removed with the test's directory): the
	// server's account reaches the directory dbtest.ClusterDir made.
	if st, err := os.Lstat(dir); err != nil {
		t.Error(err)
	} else if st.Mode()&os.ModeSymlink != 0 {
		t.Errorf("%s is a link; want the cluster in it, not elsewhere", dir)
	}
	if !strings.Contains(e.URL(), "/conduit?") {
		t.Errorf("URL = %s, want the conduit database", e.URL())
	}
	conn := connect(t, e)
	if _, err := conn.Exec(ctx, `CREATE TABLE kept AS SELECT 'still here'::text AS note`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	t.Run("AttachesToRunning", func(t *testing.T) {
		// `make seed` while `make run` is up: the second process uses the
		// server the first one runs, and leaves it running.
		other, err := db.StartEmbedded(ctx, db.EmbeddedConfig{Dir: dir, Database: "other"})
		if err != nil {
			t.Fatalf("second StartEmbedded on the same directory: %v", err)
		}
		var one int
		if err := connect(t, other).QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
			t.Fatalf("the attached server's database: %v", err)
		}
		if err := other.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := connect(t, e).QueryRow(ctx, `SELECT count(*) FROM kept`).Scan(&one); err != nil {
			t.Fatalf("the first server after the attached one stopped: %v", err)
		}
	})
	if err := e.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := e.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid after Stop: %v, want it gone", err)
	}

	e = start(t)
	var note string
	if err := connect(t, e).QueryRow(ctx, `SELECT note FROM kept`).Scan(&note); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if note != "still here" {
		t.Errorf("note = %q after a restart, want %q", note, "still here")
	}
}
