package db_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewURL(t)
	// Start from nothing, as a new production database does.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}

	t.Run("Concurrent", func(t *testing.T) {
		// Two replicas starting at once: both succeed, the schema is built once.
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				d, err := db.Open(ctx, url, db.Options{})
				if err != nil {
					t.Error(err)
					return
				}
				defer d.Close()
				if err := d.Migrate(ctx); err != nil {
					t.Errorf("Migrate: %v", err)
				}
			})
		}
		wg.Wait()
		var applied int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id = 1`).Scan(&applied); err != nil {
			t.Fatal(err)
		}
		if applied != 1 {
			t.Errorf("migration 1 recorded %d times, want 1", applied)
		}
	})
	t.Run("Again", func(t *testing.T) {
		d, err := db.Open(ctx, url, db.Options{MaxConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if _, err := d.CreateUser(ctx, conduit.User{Username: "u", Email: "u@example.com", PasswordHash: "h"}); err != nil {
			t.Errorf("CreateUser on the migrated database: %v", err)
		}
	})
}

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("ErrBadURL", func(t *testing.T) {
		if _, err := db.Open(ctx, "postgres://%zz", db.Options{}); err == nil {
			t.Fatal("Open with a malformed URL succeeded")
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		_, err := db.Open(ctx, "postgres://postgres@/none?host=/nonexistent&connect_timeout=1", db.Options{})
		if err == nil || !strings.Contains(err.Error(), "ping database") {
			t.Fatalf("Open of an unreachable server = %v, want a ping error", err)
		}
	})
}

func TestStatementsPerOperation(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	a := mustCreateArticle(t, d, jake.ID, "post", "go")
	c := mustComment(t, d, "post", jake.ID, "hello")
	// What each operation costs, BEGIN and COMMIT included: the numbers a
	// change to the store should not raise unnoticed.
	for _, tt := range []struct {
		name string
		want int64
		call func() error
	}{
		{"CreateUser", 4, func() error {
			_, err := d.CreateUser(ctx, conduit.User{Username: "new", Email: "new@example.com", PasswordHash: "h"})
			return err
		}},
		{"UserByEmail", 1, func() error { _, err := d.UserByEmail(ctx, "jake@example.com"); return err }},
		{"UpdateUser", 4, func() error {
			_, err := d.UpdateUser(ctx, jake.ID, conduit.UserChanges{Username: conduit.Some("jake")})
			return err
		}},
		{"ProfileByUsername", 1, func() error { _, err := d.ProfileByUsername(ctx, anna.ID, "jake"); return err }},
		{"Follow", 3, func() error { return d.Follow(ctx, anna.ID, jake.ID) }},
		{"ListArticles", 1, func() error {
			_, err := d.ListArticles(ctx, anna.ID, conduit.ArticleFilter{}, conduit.Page{Limit: 20})
			return err
		}},
		{"ArticleBySlug", 1, func() error { _, err := d.ArticleBySlug(ctx, anna.ID, "post"); return err }},
		{"ArticlesByID", 1, func() error { _, err := d.ArticlesByID(ctx, anna.ID, []int64{a.ID}); return err }},
		{"CreateArticle", 1, func() error {
			_, err := d.CreateArticle(ctx, conduit.NewArticle{AuthorID: jake.ID, Slug: "untagged", Title: "T", Description: "D", Body: "B"})
			return err
		}},
		{"CreateArticleWithTags", 1, func() error {
			_, err := d.CreateArticle(ctx, conduit.NewArticle{AuthorID: jake.ID, Slug: "tagged", Title: "T", Description: "D", Body: "B", TagList: []string{"a", "b"}})
			return err
		}},
		{"UpdateArticle", 4, func() error {
			_, err := d.UpdateArticle(ctx, jake.ID, a.ID, conduit.ArticleChanges{Title: conduit.Some("New")})
			return err
		}},
		{"Favorite", 4, func() error { _, err := d.Favorite(ctx, anna.ID, "post"); return err }},
		{"Unfavorite", 4, func() error { _, err := d.Unfavorite(ctx, anna.ID, "post"); return err }},
		{"Tags", 1, func() error { _, err := d.Tags(ctx); return err }},
		{"CommentPages", 1, func() error {
			_, err := d.CommentPages(ctx, anna.ID, []int64{a.ID}, conduit.Page{Limit: 20})
			return err
		}},
		{"CommentsBySlug", 1, func() error { _, err := d.CommentsBySlug(ctx, anna.ID, "post"); return err }},
		{"CommentInArticle", 1, func() error { _, err := d.CommentInArticle(ctx, anna.ID, "post", c.ID); return err }},
		{"CreateComment", 3, func() error { _, err := d.CreateComment(ctx, "post", anna.ID, "hi"); return err }},
		{"DeleteComment", 3, func() error { return d.DeleteComment(ctx, c.ID) }},
		{"DeleteArticle", 3, func() error { return d.DeleteArticle(ctx, a.ID) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := d.Statements()
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			if got := d.Statements() - before; got != tt.want {
				t.Errorf("statements = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestMigrateUsernameKeys runs the migration that makes usernames unique by
// their folded form over users an older release let in: the oldest of each
// clash keeps the name, the others are reported and keep theirs, and no
// name is changed.
func TestMigrateUsernameKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewURL(t)
	// Back to the schema before the migration (and those after it, which
	// goose would not run again otherwise), with users it allowed. Its own
	// down step leaves the column, which an older schema did not have.
	down, err := db.Open(ctx, url, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := down.MigrateDownTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	down.Close()
	dbtest.Exec(t, url, `ALTER TABLE users DROP COLUMN IF EXISTS username_key`)
	for _, name := range []string{"alice", "ALICE", "ａｌｉｃｅ", "bob", "Carol"} {
		dbtest.Exec(t, url, `INSERT INTO users (username, email, password_hash) VALUES ($1, $2, 'h')`, name, fmt.Sprintf("%x@example.com", name))
	}
	var logs strings.Builder
	d, err := db.Open(ctx, url, db.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT username || '=' || coalesce(username_key, 'NULL') FROM users ORDER BY id`)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alice=alice", "ALICE=NULL", "ａｌｉｃｅ=NULL", "bob=bob", "Carol=carol"}; !slices.Equal(got, want) {
		t.Errorf("users after the migration = %q, want %q", got, want)
	}
	for _, want := range []string{"level=WARN", `kept="\"alice\" (id `, `\"ALICE\" (id `, `\"ａｌｉｃｅ\" (id `} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("migration log lacks %q:\n%s", want, logs.String())
		}
	}
	// No one new can take the name, nor can the accounts that kept it.
	if _, err := d.CreateUser(ctx, conduit.User{Username: "Alice", Email: "new@example.com", PasswordHash: "h"}); conduit.ErrorCode(err) != conduit.Conflict {
		t.Errorf("CreateUser(Alice) = %v, want Conflict", err)
	}
}
