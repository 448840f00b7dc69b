package db_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// depthArticles is how many articles TestPageCostAtDepth writes.
const depthArticles = 100_000

// TestPageCostAtDepth writes 100,000 articles and reads pages near the
// start, the middle and the end of the list, counting what PostgreSQL
// reads for each (buffers, from EXPLAIN ANALYZE: a count, not a time).
// A keyset page (GraphQL's after:) costs the same at any depth, for the
// whole list and for each filter (author, tag, favorited, feed); a filter
// matching few articles or none costs no more than one matching many; an
// offset page (the legacy list's) has the same rows as the keyset page at
// that depth, and walks only the index to get there.
func TestPageCostAtDepth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	// bob follows only quiet, who never writes: his feed is empty.
	bob := mustCreateUser(t, d, "bob")
	quiet := mustCreateUser(t, d, "quiet")
	mustFollow(t, d, bob.ID, quiet.ID)
	// reader follows the two writers: every article is in the feed.
	reader := mustCreateUser(t, d, "reader")
	mustFollow(t, d, reader.ID, jake.ID)
	mustFollow(t, d, reader.ID, anna.ID)
	// A hundred thousand NOTIFYs would only fill the queue: nobody listens.
	dbtest.Exec(t, url, `ALTER TABLE articles DISABLE TRIGGER articles_notify`)
	dbtest.Exec(t, url, `
		INSERT INTO articles (slug, author_id, title, description, body, created_at)
		SELECT 'a-' || i, CASE WHEN i % 4 = 0 THEN $2::bigint ELSE $1::bigint END, 'Title ' || i, 'D', 'B',
			timestamp '2026-01-01' + i * interval '1 second'
		FROM generate_series(1, $3::int) AS i`, jake.ID, anna.ID, depthArticles)
	// Every second article has the tag common, one in ten thousand the tag
	// rare; anna favorited every third.
	mustCreateArticle(t, d, jake.ID, "tagged", "common", "rare")
	dbtest.Exec(t, url, `DELETE FROM articles WHERE slug = 'tagged'`)
	dbtest.Exec(t, url, `
		INSERT INTO article_tags (article_id, tag_id, article_created_at)
		SELECT a.id, t.id, a.created_at FROM articles a JOIN tags t
			ON (t.name = 'common' AND a.id % 2 = 0) OR (t.name = 'rare' AND a.id % 10000 = 0)`)
	dbtest.Exec(t, url, `
		INSERT INTO favorites (user_id, article_id, article_created_at)
		SELECT $1, id, created_at FROM articles WHERE id % 3 = 0`, anna.ID)
	dbtest.Exec(t, url, `VACUUM ANALYZE articles, article_tags, favorites`)

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	buffers := func(f conduit.ArticleFilter, p conduit.Page) (int, string) {
		t.Helper()
		return listBlocks(t, conn, jake.ID, f, p)
	}
	// at returns the cursor of the article n places from the newest.
	at := func(f conduit.ArticleFilter, n int) *conduit.Cursor {
		t.Helper()
		page := mustList(t, d, jake.ID, f, conduit.Page{Limit: 1, Offset: n})
		if len(page.Articles) != 1 {
			t.Fatalf("no article %d places down", n)
		}
		a := page.Articles[0]
		return &conduit.Cursor{CreatedAt: a.CreatedAt, ID: a.ID}
	}

	for _, tc := range []struct {
		name   string
		filter conduit.ArticleFilter
		total  int
	}{
		{"all", conduit.ArticleFilter{}, depthArticles},
		{"author", conduit.ArticleFilter{Author: "anna"}, depthArticles / 4},
		{"tag", conduit.ArticleFilter{Tag: "common"}, depthArticles / 2},
		{"favorited", conduit.ArticleFilter{FavoritedBy: "anna"}, depthArticles / 3},
		{"feed", conduit.ArticleFilter{FeedOf: reader.ID}, depthArticles},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, _ := buffers(tc.filter, conduit.Page{Limit: 20})
			for _, depth := range []int{tc.total / 2, tc.total - 30} {
				after := at(tc.filter, depth-1)
				keyset := conduit.Page{Limit: 20, After: after}
				deep, plan := buffers(tc.filter, keyset)
				t.Logf("%s: keyset page at %d reads %d blocks, the first page %d", tc.name, depth, deep, first)
				// What the page's own rows cost (their tags, the viewer's
				// flags) varies with them by a few blocks; a walk to the
				// depth would cost thousands.
				if deep > first*5/4 {
					t.Errorf("%s: keyset page at depth %d reads %d blocks, the first page %d: the cost grows with depth\n%s", tc.name, depth, deep, first, plan)
				}
				byCursor := mustList(t, d, jake.ID, tc.filter, keyset)
				byOffset := mustList(t, d, jake.ID, tc.filter, conduit.Page{Limit: 20, Offset: depth})
				if got, want := slugs(byOffset.Articles), slugs(byCursor.Articles); strings.Join(got, " ") != strings.Join(want, " ") || len(got) != 20 {
					t.Errorf("%s: offset page at %d = %v, keyset page = %v", tc.name, depth, got, want)
				}
				if byOffset.Total != tc.total || byCursor.Total != tc.total {
					t.Errorf("%s: totals %d (offset) and %d (keyset), want %d", tc.name, byOffset.Total, byCursor.Total, tc.total)
				}
			}
		})
	}

	// A feed that the newest articles fill, and one they do not (its
	// author wrote one article in a thousand): the same pages as the
	// lists they stand for.
	sparse := mustCreateUser(t, d, "sparse")
	fan := mustCreateUser(t, d, "fan")
	mustFollow(t, d, fan.ID, sparse.ID)
	dbtest.Exec(t, url, `UPDATE articles SET author_id = $1 WHERE id % 1000 = 7`, sparse.ID)
	for _, tc := range []struct {
		feed, list conduit.ArticleFilter
	}{
		{conduit.ArticleFilter{FeedOf: reader.ID}, conduit.ArticleFilter{}},
		{conduit.ArticleFilter{FeedOf: fan.ID}, conduit.ArticleFilter{Author: "sparse"}},
	} {
		for _, p := range []conduit.Page{{Limit: 20}, {Limit: 20, Offset: 90}, {Limit: 20, Offset: 95}} {
			feed, list := mustList(t, d, jake.ID, tc.feed, p), mustList(t, d, jake.ID, tc.list, p)
			if got, want := strings.Join(slugs(feed.Articles), " "), strings.Join(slugs(list.Articles), " "); got != want || feed.HasMore != list.HasMore {
				t.Errorf("feed %+v, page %+v = %s (more: %v), want %s (more: %v)", tc.feed, p, got, feed.HasMore, want, list.HasMore)
			}
		}
	}

	// The authors moved by hand are counted where they went.
	if wrong, err := d.CheckCounters(ctx, false); err != nil || len(wrong) > 0 {
		t.Errorf("after moving articles to another author, CheckCounters = %+v, %v", wrong, err)
	}

	// A filter that matches few articles or none costs no more than one
	// that matches many: the page is not found by walking every article.
	// (Filters combined walk the rows of one of them, which the planner
	// picks; they are not held to this.)
	for _, f := range []conduit.ArticleFilter{
		{Tag: "rare"}, {Tag: "no such tag"}, {FavoritedBy: "jake"}, {FavoritedBy: "nobody"}, {Author: "nobody"},
		{FeedOf: bob.ID}, {FeedOf: quiet.ID},
	} {
		n, plan := buffers(f, conduit.Page{Limit: 20})
		t.Logf("%+v: the first page reads %d blocks", f, n)
		if n > 200 {
			t.Errorf("%+v: the first page reads %d blocks; a list of few articles must not walk all of them\n%s", f, n, plan)
		}
	}

	// The legacy list's deep offsets: the page is chosen by a scan of the
	// index alone, which skips the entries before it; the rest of the row
	// is read for the page's 20 only. What it costs at each depth is
	// logged (and in BENCHMARKS.md). The walk also visits each heap page
	// whose rows the visibility map does not yet mark visible to all.
	var last int
	for _, offset := range []int{0, 10_000, depthArticles - 20} {
		n, plan := buffers(conduit.ArticleFilter{}, conduit.Page{Limit: 20, Offset: offset})
		t.Logf("offset %d reads %d blocks", offset, n)
		if !strings.Contains(plan, `"Index Only Scan"`) || !strings.Contains(plan, `"articles_created_at_idx"`) {
			t.Errorf("offset %d: the page is not chosen by an index-only scan of articles_created_at_idx:\n%s", offset, plan)
		}
		if n < last {
			t.Errorf("offset %d reads %d blocks, fewer than a shallower one (%d)", offset, n, last)
		}
		last = n
	}
	start := time.Now()
	mustList(t, d, jake.ID, conduit.ArticleFilter{}, conduit.Page{Limit: 20, Offset: depthArticles - 20})
	t.Logf("the deepest offset page took %v (for the record, not asserted)", time.Since(start))
}

// listBlocks returns the blocks the list statement for f and p, read by
// viewerID, reads, and its plan.
func listBlocks(t *testing.T, conn *pgx.Conn, viewerID int64, f conduit.ArticleFilter, p conduit.Page) (int, string) {
	t.Helper()
	sql, args := db.ListArticlesSQL(viewerID, f, p)
	var out []byte
	// The first run warms the cache, so that both count hits alike.
	for range 2 {
		if err := conn.QueryRow(context.Background(), "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+sql, args...).Scan(&out); err != nil {
			t.Fatal(err)
		}
	}
	var plan []struct {
		Plan struct {
			Hit  int `json:"Shared Hit Blocks"`
			Read int `json:"Shared Read Blocks"`
		}
	}
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatal(err)
	}
	return plan[0].Plan.Hit + plan[0].Plan.Read, string(out)
}

// TestFeedTotalCost holds a feed's page, its total included, to what the
// reader follows: with 3,000 authors, each counted in all 16 shards, a
// reader of three of them reads a few hundred blocks, not every author's
// counters (about 400 blocks of them, more once they bloat), and the
// total is exact.
func TestFeedTotalCost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	reader := mustCreateUser(t, d, "reader")
	dbtest.Exec(t, url, `ALTER TABLE articles DISABLE TRIGGER articles_notify`)
	dbtest.Exec(t, url, `
		INSERT INTO users (username, email, password_hash)
		SELECT 'author' || i, 'author' || i || '@example.com', 'x' FROM generate_series(1, 3000) AS i`)
	dbtest.Exec(t, url, `
		INSERT INTO articles (slug, author_id, title, description, body, created_at)
		SELECT 'a-' || u.id || '-' || i, u.id, 'T', 'D', 'B', timestamp '2026-01-01' + (u.id * 16 + i) * interval '1 second'
		FROM users u, generate_series(1, 16) AS i WHERE u.username LIKE 'author%' ORDER BY u.id, i`)
	dbtest.Exec(t, url, `
		INSERT INTO follows (follower_id, followee_id)
		SELECT $1, id FROM users WHERE username IN ('author1', 'author1500', 'author3000')`, reader.ID)
	// Written one statement at a time, each author is counted in one row
	// (migration 12); the other 15 shards are what writers of one author
	// at once leave, here at zero.
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'author'`); n != 3000 {
		t.Fatalf("%d author counters, want 3000: one each", n)
	}
	dbtest.Exec(t, url, `
		INSERT INTO article_counts (scope, key, shard, n)
		SELECT 'author', id, s, 0 FROM users, generate_series(1, 15) AS s WHERE username LIKE 'author%'`)
	dbtest.Exec(t, url, `VACUUM ANALYZE`)
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'author'`); n != 3000*16 {
		t.Fatalf("%d author counters, want %d", n, 3000*16)
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	feed := conduit.ArticleFilter{FeedOf: reader.ID}
	n, plan := listBlocks(t, conn, reader.ID, feed, conduit.Page{Limit: 20})
	t.Logf("the feed's first page reads %d blocks", n)
	if n > 250 {
		t.Errorf("the feed's first page reads %d blocks: its total reads more than the counters of the authors followed\n%s", n, plan)
	}
	page := mustList(t, d, reader.ID, feed, conduit.Page{Limit: 20})
	if page.Total != 48 || len(page.Articles) != 20 {
		t.Errorf("feed: %d articles of %d, want 20 of 48", len(page.Articles), page.Total)
	}
}

// TestLinksOfAnOlderWriter inserts tag links and favorites as the previous
// release (and psql) does, without the article's created_at, and expects
// the migration's trigger to have set it: during a rolling deploy both
// releases write, and the lists of this one order by it.
func TestLinksOfAnOlderWriter(t *testing.T) {
	t.Parallel()
	d, url := dbtest.NewWithURL(t)
	jake := mustCreateUser(t, d, "jake")
	a := mustCreateArticle(t, d, jake.ID, "a1")
	dbtest.Exec(t, url, `INSERT INTO tags (name) VALUES ('old')`)
	dbtest.Exec(t, url, `INSERT INTO article_tags (article_id, tag_id) SELECT $1, id FROM tags WHERE name = 'old'`, a.ID)
	dbtest.Exec(t, url, `INSERT INTO favorites (user_id, article_id) VALUES ($1, $2)`, jake.ID, a.ID)
	for _, table := range []string{"article_tags", "favorites"} {
		if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM `+table+` l JOIN articles a ON a.id = l.article_id
			WHERE l.article_created_at IS DISTINCT FROM a.created_at`); n != 0 {
			t.Errorf("%s: %d rows without their article's created_at", table, n)
		}
	}
	wantSlugs(t, mustList(t, d, 0, conduit.ArticleFilter{Tag: "old"}, conduit.Page{Limit: 5}).Articles, "a1")
	wantSlugs(t, mustList(t, d, 0, conduit.ArticleFilter{FavoritedBy: "jake"}, conduit.Page{Limit: 5}).Articles, "a1")
}
