package db_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/conduit"

	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestNextMigrations applies the contract migrations waiting in db/next
// over this release's schema and expects this release's code to work on
// the result: the next release can ship them as they are.
func TestNextMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	sql, err := os.ReadFile("next/00011_drop_tag_counts.sql")
	if err != nil {
		t.Fatal(err)
	}
	up, _, ok := strings.Cut(strings.SplitN(string(sql), "-- +goose Up", 2)[1], "-- +goose Down")
	if !ok {
		t.Fatal("no -- +goose Down in the migration")
	}
	dbtest.Exec(t, url, up)

	jake := mustCreateUser(t, d, "jake")
	a := mustCreateArticle(t, d, jake.ID, "a1", "go", "sql")
	mustCreateArticle(t, d, jake.ID, "a2", "go")
	if err := d.DeleteArticle(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	// The tag list reads the shards, not the column the migration drops.
	if tags, err := d.Tags(ctx); err != nil || !slices.Equal(tags, []string{"go"}) {
		t.Errorf("Tags = %q, %v; want [go]", tags, err)
	}
	page := mustList(t, d, 0, conduit.ArticleFilter{Tag: "go"}, conduit.Page{Limit: 5})
	if !slices.Equal(slugs(page.Articles), []string{"a2"}) || page.Total != 1 {
		t.Errorf("tag go = %v (total %d), want [a2] (1)", slugs(page.Articles), page.Total)
	}
	if wrong, err := d.CheckCounters(ctx, false); err != nil || len(wrong) > 0 {
		t.Errorf("CheckCounters = %+v, %v", wrong, err)
	}
}
