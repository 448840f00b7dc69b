package db_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

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

// longTail is a site whose statistics describe rare keys: 200 readers of
// one article, one tag and one favorite each, and as many fans as asked of
// the two articles under its newest (popular). Among them, jake wrote
// 3,001 articles, all tagged go, and fan favorited all of them.
type longTail struct {
	d         *db.DB
	url       string
	conn      *pgx.Conn // plans as the pool's connections do after a few runs (genericPlans)
	jake, fan conduit.User
	reader    int64 // reader1, of one favorite
	popular   []string
}

// newLongTail builds a longTail site with fans fans of its popular
// articles, vacuumed and analyzed.
func newLongTail(t *testing.T, fans int) longTail {
	t.Helper()
	_, url := dbtest.NewWithURL(t)
	s := longTail{d: oneConnection(t, url), url: url, conn: genericPlans(t, url), popular: []string{"bulk-1", "bulk-2"}}
	s.jake, s.fan = mustCreateUser(t, s.d, "jake"), mustCreateUser(t, s.d, "fan")
	mustCreateArticle(t, s.d, s.jake.ID, "a0", "go")
	mustFavorite(t, s.d, s.fan.ID, "a0")
	dbtest.Exec(t, url, `INSERT INTO articles (slug, author_id, title, description, body, created_at)
		SELECT 'bulk-' || i, $1, 'Bulk ' || i, 'd', 'b', now() - i * interval '1 minute' FROM generate_series(1, 3000) i`, s.jake.ID)
	dbtest.Exec(t, url, `INSERT INTO article_tags (article_id, tag_id)
		SELECT a.id, t.id FROM articles a, tags t WHERE starts_with(a.slug, 'bulk-') AND t.name = 'go'`)
	dbtest.Exec(t, url, `INSERT INTO favorites (user_id, article_id)
		SELECT $1, id FROM articles WHERE starts_with(slug, 'bulk-')`, s.fan.ID)
	dbtest.Exec(t, url, `INSERT INTO users (username, email, password_hash)
		SELECT 'reader' || i, 'reader' || i || '@example.com', 'h' FROM generate_series(1, 200) i`)
	dbtest.Exec(t, url, `INSERT INTO articles (slug, author_id, title, description, body, created_at)
		SELECT 'rare-' || substr(u.username, 7), u.id, 'Rare', 'd', 'b', now() - interval '1 year' - u.id * interval '1 minute'
		FROM users u WHERE starts_with(u.username, 'reader')`)
	dbtest.Exec(t, url, `INSERT INTO tags (name) SELECT 'rare' || i FROM generate_series(1, 200) i`)
	dbtest.Exec(t, url, `INSERT INTO article_tags (article_id, tag_id)
		SELECT a.id, t.id FROM articles a JOIN tags t ON 'rare' || substr(a.slug, 6) = t.name WHERE starts_with(a.slug, 'rare-')`)
	dbtest.Exec(t, url, `INSERT INTO favorites (user_id, article_id)
		SELECT u.id, a.id FROM users u JOIN articles a ON a.slug = 'rare-' || substr(u.username, 7) WHERE starts_with(u.username, 'reader')`)
	dbtest.Exec(t, url, `INSERT INTO users (username, email, password_hash)
		SELECT 'fanof' || i, 'fanof' || i || '@example.com', 'h' FROM generate_series(1, $1) i`, fans)
	dbtest.Exec(t, url, `INSERT INTO favorites (user_id, article_id)
		SELECT u.id, a.id FROM users u, articles a WHERE starts_with(u.username, 'fanof') AND a.slug = ANY ($1)`, s.popular)
	// As Favorite keeps it, for the rows written here directly.
	dbtest.Exec(t, url, `UPDATE articles a SET favorites_count = (SELECT count(*) FROM favorites f WHERE f.article_id = a.id)`)
	dbtest.Exec(t, url, "VACUUM ANALYZE")
	s.reader = dbtest.QueryInt(t, url, `SELECT id FROM users WHERE username = 'reader1'`)
	return s
}

// TestListsWalkTheirLinksInOrder proves that a page of a tag's articles, of
// a user's favorites or of an author's articles reads them from their own
// index in the list's order and stops after the page (or after the offset
// and the page), whatever the statistics say of the other keys: on a
// longTail site without fans, a tag on 3,001 articles, a reader of 3,001
// favorites and an author of 3,001 articles do not have all of them read
// and sorted for a second page, in the plan made for the page's arguments
// or in the one PostgreSQL keeps for the statement. Each page holds the
// rows the links hold, in their order.
func TestListsWalkTheirLinksInOrder(t *testing.T) {
	t.Parallel()
	s := newLongTail(t, 0)

	// The slugs of the whole list, newest first, as its links hold them.
	tagged := querySlugs(t, s.conn, `SELECT a.slug FROM article_tags l JOIN articles a ON a.id = l.article_id JOIN tags t ON t.id = l.tag_id
		WHERE t.name = 'go' ORDER BY a.created_at DESC, a.id DESC`)
	favorited := querySlugs(t, s.conn, `SELECT a.slug FROM favorites l JOIN articles a ON a.id = l.article_id
		WHERE l.user_id = $1 ORDER BY a.created_at DESC, a.id DESC`, s.fan.ID)
	written := querySlugs(t, s.conn, `SELECT slug FROM articles WHERE author_id = $1 ORDER BY created_at DESC, id DESC`, s.jake.ID)
	if len(tagged) != 3001 || len(favorited) != 3001 || len(written) != 3001 {
		t.Fatalf("%d tagged, %d favorited and %d written, want 3,001 each", len(tagged), len(favorited), len(written))
	}
	// A cursor at the 40th article of each (the same articles, in the same
	// order), and one at the 200th for a page taken from its end.
	cursorAt := func(slug string) *conduit.Cursor {
		a := mustArticle(t, s.d, 0, slug)
		return &conduit.Cursor{CreatedAt: a.CreatedAt, ID: a.ID}
	}
	after, before := cursorAt(tagged[39]), cursorAt(tagged[199])

	for _, l := range []struct {
		name     string
		filter   conduit.ArticleFilter
		index    string // the walk's
		expected []string
	}{
		{"Tag", conduit.ArticleFilter{Tag: "go"}, "article_tags_tag_id_created_at_idx", tagged},
		{"Favorited", conduit.ArticleFilter{FavoritedBy: "fan"}, "favorites_user_id_created_at_idx", favorited},
		{"Author", conduit.ArticleFilter{Author: "jake"}, "articles_author_id_created_at_idx", written},
	} {
		for _, c := range []pageCase{
			{"First", conduit.Page{Limit: 20}, 0},
			{"Offset20", conduit.Page{Limit: 20, Offset: 20}, 20},
			{"Offset40", conduit.Page{Limit: 20, Offset: 40}, 40},
			{"Offset200", conduit.Page{Limit: 20, Offset: 200}, 200},
			{"After", conduit.Page{Limit: 20, After: after}, 40},
			{"Before", conduit.Page{Limit: 20, Before: before, FromEnd: true}, 179},
		} {
			t.Run(l.name+"/"+c.name, func(t *testing.T) {
				// What the page reads: the offset, the page and the row
				// more that tells whether more follow.
				bound := float64(c.page.Offset + c.page.Limit + 1)
				s.wantPage(t, s.fan.ID, l.filter, c, l.index, bound, l.expected)
			})
		}
	}
}

// TestFeedMergesItsAuthorsInOrder proves that a feed whose page is not
// among the newest articles reads each followed author's own articles in
// order and stops after the page (or the offset and the page), even for an
// author of many articles among authors of one: on a longTail site, a
// reader who follows the other 199 readers and elder, whose 3,000 articles
// are older than all of theirs, does not have all of elder's read and
// sorted for a page, in the plan made for its arguments or in the one
// PostgreSQL keeps. The walk of the newest articles (feedWalk) finds
// none of theirs: they are jake's. (A page after a cursor in this feed is
// found by the walk, which starts at the cursor.) Each page holds the
// feed's rows in order.
func TestFeedMergesItsAuthorsInOrder(t *testing.T) {
	t.Parallel()
	s := newLongTail(t, 0)
	elder := mustCreateUser(t, s.d, "elder")
	dbtest.Exec(t, s.url, `INSERT INTO articles (slug, author_id, title, description, body, created_at)
		SELECT 'old-' || i, $1, 'Old ' || i, 'd', 'b', now() - interval '2 years' - i * interval '1 minute' FROM generate_series(1, 3000) i`, elder.ID)
	viewer := s.reader
	mustFollow(t, s.d, viewer, elder.ID)
	dbtest.Exec(t, s.url, `INSERT INTO follows (follower_id, followee_id)
		SELECT $1, id FROM users WHERE starts_with(username, 'reader') AND id <> $1`, viewer)
	dbtest.Exec(t, s.url, "VACUUM ANALYZE")
	const readers = 199 // followed, of one article each

	feed := querySlugs(t, s.conn, `SELECT slug FROM articles
		WHERE author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)
		ORDER BY created_at DESC, id DESC`, viewer)
	if len(feed) != readers+3000 {
		t.Fatalf("the feed holds %d articles, want %d", len(feed), readers+3000)
	}

	for _, c := range []pageCase{
		{"First", conduit.Page{Limit: 20}, 0},
		{"Offset20", conduit.Page{Limit: 20, Offset: 20}, 20},
		{"Offset200", conduit.Page{Limit: 20, Offset: 200}, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Each reader yields their article, and elder at most what the
			// page needs: the offset, the page and the row more. EXPLAIN
			// gives a loop's rows as their mean, rounded (rowsRead): a row
			// of slack per author followed.
			bound := float64(c.page.Offset + c.page.Limit + 1 + 2*readers)
			s.wantPage(t, viewer, conduit.ArticleFilter{FeedOf: viewer}, c, "articles_author_id_created_at_idx", bound, feed)
		})
	}
}

// pageCase is a page of a list, and where in the list it starts.
type pageCase struct {
	name  string
	page  conduit.Page
	first int // the index in the list of the page's first article
}

// wantPage checks the page c of the list f that viewer sees: both plans of
// its statement (for its arguments, and kept) take between the page's
// size and bound rows from index, and the page holds list's articles from
// c.first on, with list's length as its total.
func (s longTail) wantPage(t *testing.T, viewer int64, f conduit.ArticleFilter, c pageCase, index string, bound float64, list []string) {
	t.Helper()
	sql, args := db.ListArticlesSQL(viewer, f, c.page)
	var text strings.Builder
	for _, kept := range []bool{false, true} {
		plan := explainOne(t, s.conn, c.name, sql, args, kept, &text)
		if got := rowsThrough(plan, index); got < float64(c.page.Limit) || got > bound {
			t.Errorf("kept %t: %s yields %.0f rows, want %d to %.0f:\n%s", kept, index, got, c.page.Limit, bound, text.String())
		}
	}
	page := mustList(t, s.d, viewer, f, c.page)
	if want := list[c.first : c.first+c.page.Limit]; !slices.Equal(slugs(page.Articles), want) {
		t.Errorf("page = %v,\nwant %v", slugs(page.Articles), want)
	}
	if page.Total != len(list) {
		t.Errorf("total = %d, want %d", page.Total, len(list))
	}
}

// querySlugs returns the slugs that sql selects on conn.
func querySlugs(t *testing.T, conn *pgx.Conn, sql string, args ...any) []string {
	t.Helper()
	rows, _ := conn.Query(context.Background(), sql, args...)
	slugs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return slugs
}

// TestFavoritedFlagsProbeOneRow proves that whether the viewer favorited
// an article is found by one probe of a favorite, not by reading the
// article's favorites for the viewer's: on a longTail site with 200 fans
// of two articles, where an article has one favorite or none on average, a
// page that holds the two reads at most one favorite per article, for a
// viewer of 3,001 favorites, of one and of two, in every list, one article
// and articles by id, in the plan made for the arguments and in the one
// PostgreSQL keeps.
func TestFavoritedFlagsProbeOneRow(t *testing.T) {
	t.Parallel()
	s := newLongTail(t, 200)
	viewers := []int64{s.fan.ID, s.reader, dbtest.QueryInt(t, s.url, `SELECT id FROM users WHERE username = 'fanof1'`)}
	check := func(t *testing.T, name, sql string, args []any, articles int) {
		t.Helper()
		var text strings.Builder
		for _, kept := range []bool{false, true} {
			plan := explainOne(t, s.conn, name, sql, args, kept, &text)
			if got := rowsRead(plan, "favorites", "f"); got > float64(articles) {
				t.Errorf("kept %t: the flags read %.0f favorites for %d articles, want at most one each:\n%s", kept, got, articles, text.String())
			}
		}
	}
	for _, viewer := range viewers {
		for _, f := range []conduit.ArticleFilter{{}, {Author: "jake"}, {Tag: "go"}, {FavoritedBy: "fan"}} {
			t.Run(fmt.Sprintf("%d/%+v", viewer, f), func(t *testing.T) {
				page := conduit.Page{Limit: 20}
				got := mustList(t, s.d, viewer, f, page)
				if !slices.Contains(slugs(got.Articles), s.popular[0]) {
					t.Fatalf("page %v holds no popular article", slugs(got.Articles))
				}
				sql, args := db.ListArticlesSQL(viewer, f, page)
				check(t, "list", sql, args, page.Limit+1)
			})
		}
		t.Run(fmt.Sprintf("%d/ArticleBySlug", viewer), func(t *testing.T) {
			a := mustArticle(t, s.d, viewer, s.popular[0])
			const want = 201 // fan's and the fans'
			if a.FavoritesCount != want || a.Favorited != (viewer != s.reader) {
				t.Errorf("favoritesCount, favorited = %d, %t, want %d, %t", a.FavoritesCount, a.Favorited, want, viewer != s.reader)
			}
			sql, args := db.ArticleBySlugSQL(viewer, s.popular[0])
			check(t, "ArticleBySlug", sql, args, 1)
		})
		t.Run(fmt.Sprintf("%d/ArticlesByID", viewer), func(t *testing.T) {
			var ids []int64
			for _, slug := range append([]string{"a0", "bulk-3"}, s.popular...) {
				ids = append(ids, mustArticle(t, s.d, 0, slug).ID)
			}
			sql, args := db.ArticlesByIDSQL(viewer, ids)
			check(t, "ArticlesByID", sql, args, len(ids))
		})
	}
}

// rowsRead returns the rows that the scans of relation under alias in plan
// read, in all their loops together: those they yield and those their
// filters remove. EXPLAIN gives a loop's rows as the mean of the loops,
// rounded to a whole row (PostgreSQL 15), so the sum is the mean times the
// loops: within half a row per loop of the true sum.
func rowsRead(plan map[string]any, relation, alias string) float64 {
	return sumOverNodes(plan, func(node map[string]any) float64 {
		if node["Relation Name"] != relation || node["Alias"] != alias {
			return 0
		}
		removed, _ := node["Rows Removed by Filter"].(float64)
		return (node["Actual Rows"].(float64) + removed) * node["Actual Loops"].(float64)
	})
}

// rowsThrough returns the rows that the scans of index in plan yield, in
// all their loops together, as rowsRead counts them.
func rowsThrough(plan map[string]any, index string) float64 {
	return sumOverNodes(plan, func(node map[string]any) float64 {
		if node["Index Name"] != index {
			return 0
		}
		return node["Actual Rows"].(float64) * node["Actual Loops"].(float64)
	})
}

// TestMigrateLinkStatistics checks that migration 14 sets the statistics
// TestListsWalkTheirLinksInOrder relies on, and its down migration resets
// them.
func TestMigrateLinkStatistics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	const set = `SELECT count(*) FROM pg_attribute
		WHERE attrelid IN ('article_tags'::regclass, 'favorites'::regclass) AND attname IN ('tag_id', 'user_id')
		AND 'n_distinct=1' = ANY (attoptions)`
	if n := dbtest.QueryInt(t, url, set); n != 2 {
		t.Errorf("migrated, %d columns with n_distinct=1, want 2", n)
	}
	if err := d.MigrateDownTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	if n := dbtest.QueryInt(t, url, set); n != 0 {
		t.Errorf("after the down migration, %d columns with n_distinct=1, want 0", n)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := dbtest.QueryInt(t, url, set); n != 2 {
		t.Errorf("migrated again, %d columns with n_distinct=1, want 2", n)
	}
}
