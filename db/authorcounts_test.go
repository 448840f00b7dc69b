package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestAuthorCounts holds migration 12's author counts to what it
// promises: an author who writes alone is counted in one row, writers of
// one author open at once count in shards of their own without waiting,
// a seventeenth waits on a row and then counts, and through all of it the
// sum of the author's shards is the count of their articles (the author's
// list total, a follower's feed total, check-counters).
func TestAuthorCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	jake := mustCreateUser(t, d, "jake")
	jane := mustCreateUser(t, d, "jane")
	reader := mustCreateUser(t, d, "reader")
	mustFollow(t, d, reader.ID, jake.ID)

	shards := func(t *testing.T) int64 {
		t.Helper()
		return dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'author' AND key = $1`, jake.ID)
	}
	// exact checks every reader of jake's count against his articles.
	exact := func(t *testing.T) {
		t.Helper()
		want := int(dbtest.QueryInt(t, url, `SELECT count(*) FROM articles WHERE author_id = $1`, jake.ID))
		if got := mustList(t, d, 0, conduit.ArticleFilter{Author: "jake"}, conduit.Page{Limit: 1}).Total; got != want {
			t.Errorf("jake's list total = %d, want %d", got, want)
		}
		if got := mustList(t, d, reader.ID, conduit.ArticleFilter{FeedOf: reader.ID}, conduit.Page{Limit: 1}).Total; got != want {
			t.Errorf("reader's feed total = %d, want %d", got, want)
		}
		if wrong, err := d.CheckCounters(ctx, false); err != nil || len(wrong) > 0 {
			t.Errorf("CheckCounters = %+v, %v; want none", wrong, err)
		}
	}
	// move begins a transaction that gives jane's article slug to jake
	// and leaves it open, as a writer of jake's count in the middle of its
	// transaction. (A move, not a create: it writes no shard of the total,
	// whose locks would be what a writer waits on.)
	move := func(t *testing.T, slug string) pgx.Tx {
		t.Helper()
		tx := beginOn(t, url)
		// The writers before it are open too: this one must not wait.
		mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := tx.Exec(mctx, `UPDATE articles SET author_id = $1 WHERE slug = $2`, jake.ID, slug); err != nil {
			t.Fatalf("move %s beside other open writers of jake's count: %v", slug, err)
		}
		return tx
	}
	for i := range 19 {
		mustCreateArticle(t, d, jane.ID, fmt.Sprintf("m%d", i))
	}
	create := func(ctx context.Context, slug string) error {
		_, err := d.CreateArticle(ctx, conduit.NewArticle{AuthorID: jake.ID, Slug: slug, Title: slug, Description: "d", Body: "b"})
		return err
	}

	t.Run("Alone", func(t *testing.T) {
		// Ids that fall in 16 shards of the total: the author's count is
		// still one row.
		var last conduit.Article
		for i := range 20 {
			last = mustCreateArticle(t, d, jake.ID, fmt.Sprintf("a%d", i))
		}
		if err := d.DeleteArticle(ctx, last.ID); err != nil {
			t.Fatal(err)
		}
		if n := shards(t); n != 1 {
			t.Errorf("an author writing alone is counted in %d rows, want 1", n)
		}
		if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'author' AND key = $1`, jane.ID); n != 1 {
			t.Errorf("jane, writing alone, is counted in %d rows, want 1", n)
		}
		exact(t)
	})

	t.Run("Together", func(t *testing.T) {
		// Three writers open at once hold shards 0 to 2; a fourth does not
		// wait for them.
		var txs []pgx.Tx
		for i := range 3 {
			txs = append(txs, move(t, fmt.Sprintf("m%d", i)))
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := create(cctx, "b3"); err != nil {
			t.Fatalf("create beside three open writers of its author: %v; want it not to wait", err)
		}
		// A delete beside them counts in a free shard too, which may go
		// below zero.
		gone := mustArticle(t, d, 0, "a0")
		if err := d.DeleteArticle(cctx, gone.ID); err != nil {
			t.Fatalf("delete beside three open writers of its author: %v; want it not to wait", err)
		}
		for _, tx := range txs {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := shards(t); n != 4 {
			t.Errorf("four writers of an author at once left %d rows, want 4", n)
		}
		exact(t)
	})

	t.Run("Seventeenth", func(t *testing.T) {
		// Sixteen open writers hold every shard: the next waits on a row
		// until one of them commits, and then counts.
		var txs []pgx.Tx
		for i := range 16 {
			txs = append(txs, move(t, fmt.Sprintf("m%d", 3+i)))
		}
		done := make(chan error, 1)
		go func() { done <- create(ctx, "c16") }()
		deadline := time.Now().Add(10 * time.Second)
		for dbtest.QueryInt(t, url, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`) == 0 {
			select {
			case err := <-done:
				t.Fatalf("the seventeenth writer finished (%v) while sixteen held every shard; want it to wait", err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatal("the seventeenth writer did not wait on a lock within 10 s")
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, tx := range txs {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			t.Fatalf("the seventeenth writer, after the others' commits: %v", err)
		}
		if n := shards(t); n != 16 {
			t.Errorf("%d rows, want 16", n)
		}
		exact(t)
	})

	t.Run("Bulk", func(t *testing.T) {
		// One statement writing the articles of 40 authors takes no
		// advisory lock (one per author would fill PostgreSQL's lock
		// table on a large load) and counts each in shard 0.
		dbtest.Exec(t, url, `INSERT INTO users (username, email, password_hash)
			SELECT 'bulk' || i, 'bulk' || i || '@example.com', 'x' FROM generate_series(1, 40) AS i`)
		tx := beginOn(t, url)
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `INSERT INTO articles (slug, author_id, title, description, body)
			SELECT 'bulk-' || u.id || '-' || i, u.id, 'T', 'D', 'B'
			FROM users u, generate_series(1, 2) AS i WHERE u.username LIKE 'bulk%'`); err != nil {
			t.Fatal(err)
		}
		if locks := advisoryLocks(t, tx); locks != 0 {
			t.Errorf("a statement writing 40 authors' articles holds %d advisory locks, want 0", locks)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts c JOIN users u ON u.id = c.key
			WHERE c.scope = 'author' AND u.username LIKE 'bulk%' AND c.shard = 0 AND c.n = 2`); n != 40 {
			t.Errorf("%d of the 40 authors are counted 2 in shard 0, want all", n)
		}
		exact(t)
	})

	t.Run("Repair", func(t *testing.T) {
		// An author's count that is off is reported whole, in shard 0, and
		// repaired into that one row.
		want := dbtest.QueryInt(t, url, `SELECT count(*) FROM articles WHERE author_id = $1`, jake.ID)
		dbtest.Exec(t, url, `INSERT INTO article_counts AS c VALUES ('author', $1, 5, 2)
			ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + 2`, jake.ID)
		wantWrong := []db.CounterMismatch{{Scope: "author", Key: jake.ID, Name: "jake", Shard: 0, Kept: want + 2, Actual: want}}
		for _, repair := range []bool{false, true} {
			got, err := d.CheckCounters(ctx, repair)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(wantWrong) {
				t.Errorf("CheckCounters(repair %v) = %+v, want %+v", repair, got, wantWrong)
			}
		}
		if n := shards(t); n != 1 {
			t.Errorf("after the repair jake is counted in %d rows, want 1", n)
		}
		exact(t)
	})
}

// TestMigrateAuthorCounts runs migration 12 over counts kept as migration
// 7 keeps them (an author's articles in the shard of their id) and back.
func TestMigrateAuthorCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	jake := mustCreateUser(t, d, "jake")
	jane := mustCreateUser(t, d, "jane")
	if err := d.MigrateDownTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustCreateArticle(t, d, jake.ID, fmt.Sprintf("j%d", i))
	}
	mustCreateArticle(t, d, jane.ID, "n1")
	// byID is how many author rows differ from the count of their
	// articles in the shard of their ids, as migration 7 keeps them.
	byID := func() int64 {
		return dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts k
			FULL JOIN (SELECT author_id, (id % 16)::smallint AS shard, count(*) AS n FROM articles GROUP BY 1, 2) t
			ON (k.key, k.shard) = (t.author_id, t.shard)
			WHERE coalesce(k.scope, 'author') = 'author' AND coalesce(k.n, 0) <> coalesce(t.n, 0)`)
	}
	if n := byID(); n != 0 {
		t.Fatalf("at migration 11, %d author shards differ from their articles", n)
	}
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'author' AND key = $1`, jake.ID); n != 10 {
		t.Fatalf("at migration 11, jake's 10 articles are in %d shards, want 10", n)
	}

	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rows := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'author'`)
	if rows != 2 {
		t.Errorf("after migration 12, %d author rows, want 2 (one each)", rows)
	}
	if wrong, err := d.CheckCounters(ctx, false); err != nil || len(wrong) > 0 {
		t.Errorf("after migration 12, CheckCounters = %+v, %v; want none", wrong, err)
	}
	mustCreateArticle(t, d, jake.ID, "j10")
	if got := mustList(t, d, 0, conduit.ArticleFilter{Author: "jake"}, conduit.Page{Limit: 1}).Total; got != 11 {
		t.Errorf("jake's total = %d, want 11", got)
	}

	if err := d.MigrateDownTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	if n := byID(); n != 0 {
		t.Errorf("after the down migration, %d author shards differ from their articles", n)
	}
	mustCreateArticle(t, d, jake.ID, "j11")
	if n := byID(); n != 0 {
		t.Errorf("after a create at migration 11 again, %d author shards differ: the triggers count by id again", n)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
}
