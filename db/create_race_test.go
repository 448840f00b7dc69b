package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestCreateArticleAgainstTagCreators hands the new tags of an article
// from writer to writer while it is created, the chain that made the
// bench's seed fail in CI: each attempt that finds a tag created meanwhile
// rolls back the tags it had created itself, a writer waiting on one of
// them then creates it, and the next attempt waits for that writer in
// turn. The create must still succeed, with every tag, however long the
// chain; a fixed number of attempts of the one statement lost to three
// hand-offs.
func TestCreateArticleAgainstTagCreators(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	author := mustCreateUser(t, d, "author")

	// Three other writers of tags, each on its own connection, in a
	// transaction the test commits when it chooses.
	type writer struct {
		tx   pgx.Tx
		pid  uint32
		done chan error
	}
	open := func() *writer {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return &writer{tx: tx, pid: conn.PgConn().PID(), done: make(chan error, 1)}
	}
	insert := func(w *writer, name string) {
		go func() {
			_, err := w.tx.Exec(ctx, `INSERT INTO tags (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, name)
			w.done <- err
		}()
	}
	commit := func(w *writer) {
		t.Helper()
		if err := <-w.done; err != nil {
			t.Fatal(err)
		}
		if err := w.tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// waiting reports whether the backend pid waits for another
	// transaction to end (not, say, for a moment's lock on extending a
	// table, which a loaded machine shows too).
	waiting := func(pid uint32) bool {
		return dbtest.QueryInt(t, url, `SELECT count(*) FROM pg_stat_activity
			WHERE pid = $1 AND wait_event_type = 'Lock' AND wait_event = 'transactionid'`, int(pid)) == 1
	}
	// blocks reports how many backends wait for a lock that w holds.
	blocks := func(w *writer) int64 {
		return dbtest.QueryInt(t, url, `SELECT count(*) FROM pg_stat_activity
			WHERE $1::int = ANY(pg_blocking_pids(pid))`, int(w.pid))
	}
	created := make(chan error, 1)
	first, second, third := open(), open(), open()
	until := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				rows, _ := conn.Query(ctx, `SELECT pid || ' ' || state || ' ' || coalesce(wait_event, '-') || ' ' ||
					pg_blocking_pids(pid)::text || ' ' || left(query, 50) FROM pg_stat_activity
					WHERE datname = current_database() AND pid <> pg_backend_pid()`)
				activity, err := pgx.CollectRows(rows, pgx.RowTo[string])
				conn.Close(ctx)
				t.Fatalf("waited 10 s for %s (the writers are %d, %d and %d; the create has ended: %v):\n%s (%v)",
					what, first.pid, second.pid, third.pid, len(created) == 1, strings.Join(activity, "\n"), err)
			}
		}
	}

	insert(first, "c")
	if err := <-first.done; err != nil {
		t.Fatal(err)
	}
	first.done <- nil

	var article conduit.Article
	go func() {
		var err error
		article, err = d.CreateArticle(ctx, conduit.NewArticle{
			AuthorID: author.ID, Slug: "handed-on", Title: "T", Description: "D", Body: "B",
			TagList: []string{"a", "b", "c"},
		})
		created <- err
	}()
	// The create has inserted a and b, and waits for c's writer.
	until("the create to wait for c", func() bool { return blocks(first) == 1 })
	// The second writer waits for the create's b.
	insert(second, "b")
	until("b's writer to wait", func() bool { return waiting(second.pid) })
	// c is committed, so the create skipped it. The attempt that
	// skipped it rolls back a and b, b goes to the second writer, and
	// the create waits for that writer.
	commit(first)
	// The create may also win the race for b against the woken second
	// writer, and end; then there is no chain to follow.
	until("the create to wait for b, or to end", func() bool { return blocks(second) == 1 || len(created) == 1 })
	if len(created) == 1 {
		commit(second)
	} else {
		// The third writer waits for the create's a.
		insert(third, "a")
		until("a's writer to wait", func() bool { return waiting(third.pid) })
		// b is committed. An attempt that skipped it hands a to the third
		// writer and then waits for it; commit that writer only then, so
		// that such an attempt skips a in its turn.
		commit(second)
		until("a's writer to end", func() bool { return len(third.done) == 1 })
		until("the create to wait for a, or to end", func() bool { return blocks(third) == 1 || len(created) == 1 })
		commit(third)
	}

	select {
	case err := <-created:
		if err != nil {
			t.Fatalf("create: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("create still waiting after 10 s")
	}
	if got := fmtTags(article.TagList); got != "[a b c]" {
		t.Errorf("tags = %s, want [a b c]", got)
	}
	got := mustArticle(t, d, 0, "handed-on")
	if s := fmtTags(got.TagList); s != "[a b c]" {
		t.Errorf("stored tags = %s, want [a b c]", s)
	}
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM tags`); n != 3 {
		t.Errorf("%d tags, want 3", n)
	}
}
