package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
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
	for _, f := range []conduit.ArticleFilter{{}, {Tag: "go"}, {Author: "jake"}, {FavoritedBy: "anna"}, {FeedOf: anna.ID}, {Tag: "t1", Author: "jake"}} {
		for range runs {
			mustList(t, d, anna.ID, f, page)
		}
	}
	for range runs {
		if _, err := d.CommentPageBySlug(ctx, anna.ID, "a1", page); err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.ArticleWithComments(ctx, anna.ID, "a1", page); err != nil {
			t.Fatal(err)
		}
		if _, err := d.CommentPages(ctx, anna.ID, []int64{1, 2}, page); err != nil {
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
