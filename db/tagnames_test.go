package db_test

import (
	"context"
	"slices"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestMigrateTagNames runs migration 10 over links the previous release
// wrote (no tag name beside them) and checks that every way of writing a
// link keeps its copy of the name equal to its tag's: the backfill, a
// writer that does not give the name (the previous release, psql), an
// operator's rename of a tag or move of a link, and this release's writes.
// The lists read the copies, so each step reads the articles' tags back.
func TestMigrateTagNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewURL(t)
	d, err := db.Open(ctx, url, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.MigrateDownTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	jake := mustCreateUser(t, d, "jake")
	// As the release of migration 9 wrote them.
	dbtest.Exec(t, url, `INSERT INTO tags (name) VALUES ('go'), ('sql'), ('Zig')`)
	dbtest.Exec(t, url, `INSERT INTO articles (slug, author_id, title, description, body)
		SELECT s, $1, s, 'd', 'b' FROM unnest(ARRAY['a1', 'a2']) s`, jake.ID)
	dbtest.Exec(t, url, `INSERT INTO article_tags (article_id, tag_id)
		SELECT a.id, t.id FROM articles a, tags t
		WHERE (a.slug, t.name) IN (('a1', 'sql'), ('a1', 'go'), ('a1', 'Zig'), ('a2', 'go'))`)
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	wantTags := func(t *testing.T, slug string, want ...string) {
		t.Helper()
		if got := mustArticle(t, d, 0, slug).TagList; !slices.Equal(got, want) {
			t.Errorf("%s's tags = %q, want %q", slug, got, want)
		}
		if got := mustList(t, d, 0, conduit.ArticleFilter{Author: "jake"}, conduit.Page{Limit: 10}); len(got.Articles) == 0 {
			t.Errorf("jake's list is empty")
		} else {
			for _, a := range got.Articles {
				if a.Slug == slug && !slices.Equal(a.TagList, want) {
					t.Errorf("%s's tags in the list = %q, want %q", slug, a.TagList, want)
				}
			}
		}
		if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_tags x JOIN tags t ON t.id = x.tag_id WHERE x.tag_name IS DISTINCT FROM t.name`); n != 0 {
			t.Errorf("%d links hold a name that is not their tag's", n)
		}
	}
	// Byte order: "Zig" sorts before the lower-case names.
	wantTags(t, "a1", "Zig", "go", "sql")
	wantTags(t, "a2", "go")

	t.Run("WriterWithoutTheName", func(t *testing.T) {
		dbtest.Exec(t, url, `INSERT INTO article_tags (article_id, tag_id)
			SELECT a.id, t.id FROM articles a, tags t WHERE a.slug = 'a2' AND t.name = 'sql'`)
		wantTags(t, "a2", "go", "sql")
	})
	t.Run("Rename", func(t *testing.T) {
		dbtest.Exec(t, url, `UPDATE tags SET name = 'golang' WHERE name = 'go'`)
		wantTags(t, "a1", "Zig", "golang", "sql")
		wantTags(t, "a2", "golang", "sql")
	})
	t.Run("MovedLink", func(t *testing.T) {
		dbtest.Exec(t, url, `UPDATE article_tags SET tag_id = (SELECT id FROM tags WHERE name = 'Zig')
			WHERE article_id = (SELECT id FROM articles WHERE slug = 'a2') AND tag_name = 'sql'`)
		wantTags(t, "a2", "Zig", "golang")
	})
	t.Run("NameSetByHand", func(t *testing.T) {
		dbtest.Exec(t, url, `UPDATE article_tags SET tag_name = 'wrong'`)
		wantTags(t, "a1", "Zig", "golang", "sql")
	})
	t.Run("ThisRelease", func(t *testing.T) {
		a := mustCreateArticle(t, d, jake.ID, "a3", "sql", "new", "Zig")
		wantTags(t, "a3", "Zig", "new", "sql")
		if _, err := d.UpdateArticle(ctx, jake.ID, a.ID, conduit.ArticleChanges{TagList: conduit.Some([]string{"newer", "sql"})}); err != nil {
			t.Fatal(err)
		}
		wantTags(t, "a3", "newer", "sql")
	})
	t.Run("Down", func(t *testing.T) {
		if err := d.MigrateDownTo(ctx, 9); err != nil {
			t.Fatal(err)
		}
		if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'article_tags' AND column_name = 'tag_name'`); n != 0 {
			t.Errorf("after the down migration, article_tags.tag_name is still there")
		}
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		wantTags(t, "a1", "Zig", "golang", "sql")
	})
}
