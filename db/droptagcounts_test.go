package db_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestMigrateDropTagCounts runs migration 11, the contract half of
// migrations 2 and 9: before it, a writer linking a tag waits for every
// open transaction that linked the same tag (the triggers of
// tags.article_count lock the tag's row until the commit); after it, it
// does not. Its down migration restores the column with exact counts and
// the triggers that keep it, for a rollback to a release that reads it.
func TestMigrateDropTagCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	jake := mustCreateUser(t, d, "jake")
	jane := mustCreateUser(t, d, "jane")
	mustCreateArticle(t, d, jake.ID, "a1", "go", "sql")
	gone := mustCreateArticle(t, d, jake.ID, "a2", "go")
	if err := d.DeleteArticle(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}

	// open begins a transaction that links the tag go to a new article of
	// jake's and leaves it open, as a writer in the middle of its create.
	open := func(t *testing.T, slug string) pgx.Tx {
		t.Helper()
		tx := beginOn(t, url)
		if _, err := tx.Exec(ctx, `WITH a AS (
				INSERT INTO articles (slug, author_id, title, description, body)
				VALUES ($1, $2, $1, 'd', 'b') RETURNING id)
			INSERT INTO article_tags (article_id, tag_id, tag_name)
			SELECT a.id, t.id, t.name FROM a, tags t WHERE t.name = 'go'`, slug, jake.ID); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	// create creates an article of jane's tagged go, as this release's store
	// does. Its id follows the open writer's, so that their counter shards
	// (id % 16) differ: what is left to wait on is the tag.
	create := func(ctx context.Context, slug string) error {
		_, err := d.CreateArticle(ctx, conduit.NewArticle{
			AuthorID: jane.ID, Slug: slug, Title: slug, Description: "d", Body: "b", TagList: []string{"go"},
		})
		return err
	}
	waitingOnLocks := func() int64 {
		return dbtest.QueryInt(t, url, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`)
	}
	column := func() bool {
		return dbtest.QueryInt(t, url, `SELECT count(*) FROM information_schema.columns
			WHERE table_name = 'tags' AND column_name = 'article_count'`) == 1
	}

	t.Run("Before", func(t *testing.T) {
		if err := d.MigrateDownTo(ctx, 10); err != nil {
			t.Fatal(err)
		}
		// The down migration counted the links: go 1, sql 1.
		if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM tags t
			WHERE article_count <> (SELECT count(*) FROM article_tags x WHERE x.tag_id = t.id)`); n != 0 {
			t.Errorf("after the down migration, %d tags whose article_count differs from their links", n)
		}
		tx := open(t, "b1")
		done := make(chan error, 1)
		go func() { done <- create(ctx, "b2") }()
		deadline := time.Now().Add(10 * time.Second)
		for waitingOnLocks() == 0 {
			select {
			case err := <-done:
				t.Fatalf("at migration 10 the create finished (%v) while another writer of its tag was open; want it to wait", err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatal("at migration 10 the create did not wait on a lock within 10 s")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("create after the other writer's commit: %v", err)
		}
		// The triggers kept the column: go has a1, b1, b2.
		if n := dbtest.QueryInt(t, url, `SELECT article_count FROM tags WHERE name = 'go'`); n != 3 {
			t.Errorf("go's article_count = %d, want 3", n)
		}
	})

	t.Run("After", func(t *testing.T) {
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if column() {
			t.Fatal("after migration 11, tags.article_count is still there")
		}
		tx := open(t, "c1")
		defer tx.Rollback(ctx)
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := create(cctx, "c2"); err != nil {
			t.Fatalf("create while another writer of its tag is open: %v; want it not to wait", err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		// This release reads only the shards: the list, the tag's total and
		// the counters' check are as they were.
		if tags, err := d.Tags(ctx); err != nil || !slices.Equal(tags, []string{"go", "sql"}) {
			t.Errorf("Tags = %q, %v; want [go sql]", tags, err)
		}
		page, err := d.ListArticles(ctx, 0, conduit.ArticleFilter{Tag: "go"}, conduit.Page{Limit: 10})
		if err != nil || page.Total != 5 || len(page.Articles) != 5 {
			t.Errorf("tag go: %d articles of %d, %v; want 5 of 5", len(page.Articles), page.Total, err)
		}
		if wrong, err := d.CheckCounters(ctx, false); err != nil || len(wrong) > 0 {
			t.Errorf("CheckCounters = %+v, %v; want none", wrong, err)
		}
	})

	t.Run("DownAgain", func(t *testing.T) {
		if err := d.MigrateDownTo(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if !column() {
			t.Fatal("after the down migration, no tags.article_count")
		}
		if n := dbtest.QueryInt(t, url, `SELECT article_count FROM tags WHERE name = 'go'`); n != 5 {
			t.Errorf("go's article_count = %d after the down migration, want 5", n)
		}
		mustCreateArticle(t, d, jake.ID, "d1", "go")
		if n := dbtest.QueryInt(t, url, `SELECT article_count FROM tags WHERE name = 'go'`); n != 6 {
			t.Errorf("go's article_count = %d after a create, want 6: the triggers are back", n)
		}
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
