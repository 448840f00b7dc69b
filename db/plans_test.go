package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestPagesKeepTheirPlans proves that PostgreSQL keeps the plan of every
// page statement (a list of articles for each filter, a page of comments)
// instead of planning it at each execution: planning the list cost more
// than running it (1.1 ms against 0.8 on the bench's data) when the
// page's LIMIT was a parameter, whose generic plan PostgreSQL estimates
// for a tenth of the table and so rejects. It counts the plans
// pg_prepared_statements reports: after its first five executions, which
// PostgreSQL always plans, a statement must run on its kept plan.
//
// CommentPages, the comments of a list's articles, keeps its LIMIT a
// parameter: it reads its articles from an array, whose size a kept plan
// can only guess, and with the limit in the text the custom plan's
// estimate came out so much lower that PostgreSQL planned it at every
// execution; with both unknown, it keeps the generic plan.
func TestPagesKeepTheirPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, url := dbtest.NewWithURL(t)
	d := oneConnection(t, url)
	jake, anna := mustCreateUser(t, d, "jake"), mustCreateUser(t, d, "anna")
	mustFollow(t, d, anna.ID, jake.ID)
	for i := range 30 {
		mustCreateArticle(t, d, jake.ID, fmt.Sprint("a", i), "go", fmt.Sprint("t", i%3))
		mustFavorite(t, d, anna.ID, fmt.Sprint("a", i))
	}
	for i := range 5 {
		mustComment(t, d, "a1", anna.ID, fmt.Sprint("comment ", i))
	}
	// Enough articles that a tenth of them is far more than a page: the
	// bulk of them in one statement, with a tag each, as the triggers
	// count them.
	dbtest.Exec(t, url, `INSERT INTO articles (slug, author_id, title, description, body, created_at)
		SELECT 'bulk-' || i, $1, 'Bulk ' || i, 'd', 'b', now() - i * interval '1 minute' FROM generate_series(1, 5000) i`, jake.ID)
	dbtest.Exec(t, url, `INSERT INTO article_tags (article_id, tag_id)
		SELECT a.id, t.id FROM articles a, tags t WHERE starts_with(a.slug, 'bulk-') AND t.name = 'go'`)
	dbtest.Exec(t, url, "ANALYZE")

	const runs = 12
	page := conduit.Page{Limit: 20}
	// The first comments of a page of articles are read as a GraphQL list
	// asks for them: for the page's 20 ids (not the 10 that a generic plan
	// assumes an array holds).
	var ids []int64
	for _, f := range []conduit.ArticleFilter{{}, {Tag: "go"}, {Author: "jake"}, {FavoritedBy: "anna"}, {FeedOf: anna.ID}, {Tag: "t1", Author: "jake"}} {
		for range runs {
			got := mustList(t, d, anna.ID, f, page)
			if f == (conduit.ArticleFilter{}) {
				ids = ids[:0]
				for _, a := range got.Articles {
					ids = append(ids, a.ID)
				}
			}
		}
	}
	if len(ids) != page.Limit {
		t.Fatalf("%d articles in the first page, want %d", len(ids), page.Limit)
	}
	for range runs {
		if _, err := d.CommentPageBySlug(ctx, anna.ID, "a1", page); err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.ArticleWithComments(ctx, anna.ID, "a1", page); err != nil {
			t.Fatal(err)
		}
		if _, err := d.CommentPages(ctx, anna.ID, ids, page); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := d.PlanCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for sql, c := range counts {
		if !strings.Contains(sql, "LIMIT ") {
			continue
		}
		pages++
		if generic, custom := c[0], c[1]; custom > 5 || generic+custom != runs {
			t.Errorf("%d generic and %d custom plans in %d runs, want at most 5 custom, of\n%s", generic, custom, runs, sql)
		}
	}
	if want := 9; pages != want {
		t.Errorf("%d page statements prepared, want %d", pages, want)
	}
}

// TestListsLookUpTheirOwnFavorites proves that a page of articles, and
// articles read by id, look up whether the viewer favorited each among
// those articles alone: on a site whose 2,000 readers have one favorite
// each, a viewer of 3,000 does not have all of them read for a page of
// 20, whatever the list. (The list of a user's favorites reads them as its
// rows, from their own index: that walk is not the lookup.) The flags are
// what the favorites hold, for the viewer, another reader and no one.
func TestListsLookUpTheirOwnFavorites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, url := dbtest.NewWithURL(t)
	d := oneConnection(t, url)
	conn := genericPlans(t, url)
	jake, fan := mustCreateUser(t, d, "jake"), mustCreateUser(t, d, "fan")
	mustFollow(t, d, fan.ID, jake.ID)
	for i := range 30 {
		mustCreateArticle(t, d, jake.ID, fmt.Sprint("a", i), "go")
	}
	for i := 0; i < 30; i += 3 {
		mustFavorite(t, d, fan.ID, fmt.Sprint("a", i))
	}
	dbtest.Exec(t, url, `INSERT INTO articles (slug, author_id, title, description, body, created_at)
		SELECT 'bulk-' || i, $1, 'Bulk ' || i, 'd', 'b', now() - i * interval '1 minute' FROM generate_series(1, 3000) i`, jake.ID)
	dbtest.Exec(t, url, `INSERT INTO article_tags (article_id, tag_id)
		SELECT a.id, t.id FROM articles a, tags t WHERE starts_with(a.slug, 'bulk-') AND t.name = 'go'`)
	dbtest.Exec(t, url, `INSERT INTO favorites (user_id, article_id)
		SELECT $1, id FROM articles WHERE starts_with(slug, 'bulk-')`, fan.ID)
	dbtest.Exec(t, url, `INSERT INTO users (username, email, password_hash)
		SELECT 'reader' || i, 'reader' || i || '@example.com', 'h' FROM generate_series(1, 2000) i`)
	dbtest.Exec(t, url, `INSERT INTO favorites (user_id, article_id)
		SELECT u.id, (SELECT min(id) FROM articles) + u.id % 3000 FROM users u WHERE starts_with(u.username, 'reader')`)
	dbtest.Exec(t, url, "VACUUM ANALYZE")
	var readerID int64
	if err := conn.QueryRow(ctx, `SELECT id FROM users WHERE username = 'reader1'`).Scan(&readerID); err != nil {
		t.Fatal(err)
	}
	// One of the first page and one further on, whatever the one above.
	mustFavorite(t, d, readerID, "a28")
	mustFavorite(t, d, readerID, "bulk-3")

	// The first page holds a0–a29's newest, a third of them favorited; the
	// second reaches into the bulk, every one of them favorited.
	first, second := conduit.Page{Limit: 20}, conduit.Page{Limit: 20, Offset: 20}
	// What the favorites hold, asked of them directly.
	wantFavorited := func(viewer int64, slug string) bool {
		t.Helper()
		var yes bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM favorites f JOIN articles a ON a.id = f.article_id
			WHERE f.user_id = $1 AND a.slug = $2)`, viewer, slug).Scan(&yes); err != nil {
			t.Fatal(err)
		}
		return yes
	}
	for _, c := range []struct {
		name   string
		filter conduit.ArticleFilter
		page   conduit.Page
	}{
		{"All", conduit.ArticleFilter{}, first},
		{"AllFurther", conduit.ArticleFilter{}, second},
		{"Tag", conduit.ArticleFilter{Tag: "go"}, second},
		{"Author", conduit.ArticleFilter{Author: "jake"}, second},
		{"Favorited", conduit.ArticleFilter{FavoritedBy: "fan"}, first},
		{"Feed", conduit.ArticleFilter{FeedOf: fan.ID}, second},
	} {
		t.Run(c.name, func(t *testing.T) {
			sql, args := db.ListArticlesSQL(fan.ID, c.filter, c.page)
			var text strings.Builder
			plan := explainOne(t, conn, c.name, sql, args, true, &text)
			page := mustList(t, d, fan.ID, c.filter, c.page)
			if len(page.Articles) != c.page.Limit {
				t.Fatalf("%d articles, want %d", len(page.Articles), c.page.Limit)
			}
			// The page and the row more that tells whether more follow.
			bound := float64(c.page.Limit + 1)
			if got := mostRowsAs(plan, "favorites", "f"); got > bound {
				t.Errorf("the lookup of favorites yields %.0f rows, want at most %.0f:\n%s", got, bound, text.String())
			}
			for _, a := range page.Articles {
				if want := wantFavorited(fan.ID, a.Slug); a.Favorited != want {
					t.Errorf("%s: favorited %t, want %t", a.Slug, a.Favorited, want)
				}
			}
			others, err := d.ListArticles(ctx, readerID, c.filter, c.page)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range others.Articles {
				if want := wantFavorited(readerID, a.Slug); a.Favorited != want {
					t.Errorf("%s as reader1: favorited %t, want %t", a.Slug, a.Favorited, want)
				}
			}
		})
	}

	t.Run("ByID", func(t *testing.T) {
		var ids []int64
		for _, a := range mustList(t, d, 0, conduit.ArticleFilter{}, conduit.Page{Limit: 25, Offset: 15}).Articles {
			ids = append(ids, a.ID)
		}
		plans, text := explainPrepared(t, d, conn, "ArticlesByID", "favorites f", false, func() error {
			_, err := d.ArticlesByID(ctx, fan.ID, ids[:20])
			return err
		}, prepared{args: []any{fan.ID, ids[:20]}, kept: true})
		if got := mostRowsOf(plans[0], "favorites"); got > 20 {
			t.Errorf("a scan of favorites yields %.0f rows, want at most 20:\n%s", got, text)
		}
		for _, viewer := range []int64{fan.ID, readerID, 0} {
			found, err := d.ArticlesByID(ctx, viewer, ids)
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != len(ids) {
				t.Fatalf("%d articles, want %d", len(found), len(ids))
			}
			for _, a := range found {
				if want := viewer != 0 && wantFavorited(viewer, a.Slug); a.Favorited != want {
					t.Errorf("%s as %d: favorited %t, want %t", a.Slug, viewer, a.Favorited, want)
				}
			}
		}
	})
}
