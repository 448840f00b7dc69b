package db_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// commentCountsExact checks every reader of each article's comment count
// against a count of its comments (the three statements that return a
// page's total), that no count is left for an article that is gone, and
// check-counters.
func commentCountsExact(t *testing.T, d *db.DB, url string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT a.id, a.slug, count(c.id) FROM articles a
		LEFT JOIN comments c ON c.article_id = a.id GROUP BY 1, 2 ORDER BY 1`)
	type truth struct {
		ID    int64
		Slug  string
		Count int
	}
	articles, err := pgx.CollectRows(rows, pgx.RowToStructByPos[truth])
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, a := range articles {
		ids = append(ids, a.ID)
		page, err := d.CommentPageBySlug(ctx, 0, a.Slug, conduit.Page{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, withArticle, err := d.ArticleWithComments(ctx, 0, a.Slug, conduit.Page{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != a.Count || withArticle.Total != a.Count {
			t.Errorf("%s: CommentPageBySlug total %d, ArticleWithComments total %d; want %d", a.Slug, page.Total, withArticle.Total, a.Count)
		}
	}
	pages, err := d.CommentPages(ctx, 0, ids, conduit.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pages {
		if p.Total != articles[i].Count {
			t.Errorf("%s: CommentPages total %d, want %d", articles[i].Slug, p.Total, articles[i].Count)
		}
	}
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts c
		WHERE scope = 'comments' AND NOT EXISTS (SELECT 1 FROM articles WHERE id = c.key)`); n != 0 {
		t.Errorf("%d comment counter rows of articles that are gone, want 0", n)
	}
	if wrong, err := d.CheckCounters(ctx, false); err != nil || len(wrong) > 0 {
		t.Errorf("CheckCounters = %+v, %v; want none", wrong, err)
	}
}

// TestCommentCountsUnderConcurrency runs 50 writers at once, each
// commenting on one popular article and on others, deleting some of its
// comments, and deleting an article of its own with its comments; a user
// who commented everywhere is deleted at the end. Every comment count is
// then the count of its comments.
func TestCommentCountsUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	var users []conduit.User
	for i := range 6 {
		users = append(users, mustCreateUser(t, d, fmt.Sprintf("reader%d", i)))
	}
	hot := mustCreateArticle(t, d, users[0].ID, "hot")
	var others []conduit.Article
	for i := range 4 {
		others = append(others, mustCreateArticle(t, d, users[1+i].ID, fmt.Sprintf("other%d", i)))
	}

	const writers = 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 13))
			me := users[w%len(users)]
			mine, err := d.CreateArticle(ctx, conduit.NewArticle{AuthorID: me.ID, Slug: fmt.Sprintf("w%d", w), Title: "T", Description: "D", Body: "B"})
			if err != nil {
				errs <- fmt.Errorf("writer %d: create article: %w", w, err)
				return
			}
			var made []conduit.Comment
			for i := range 6 {
				for _, slug := range []string{hot.Slug, others[r.IntN(len(others))].Slug, mine.Slug} {
					c, err := d.CreateComment(ctx, slug, users[r.IntN(len(users))].ID, fmt.Sprintf("c%d", i))
					if err != nil {
						errs <- fmt.Errorf("writer %d: comment on %s: %w", w, slug, err)
						return
					}
					made = append(made, c)
				}
			}
			for _, c := range made[:4] {
				if err := d.DeleteComment(ctx, c.ID); err != nil {
					errs <- fmt.Errorf("writer %d: delete comment: %w", w, err)
					return
				}
			}
			if w%2 == 0 {
				if err := d.DeleteArticle(ctx, mine.ID); err != nil {
					errs <- fmt.Errorf("writer %d: delete article: %w", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	time.Sleep(1100 * time.Millisecond) // backends report their statistics within a second
	if n := dbtest.QueryInt(t, url, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`); n != 0 {
		t.Errorf("%d deadlocks among the writers, want 0", n)
	}
	if got, want := dbtest.QueryInt(t, url, `SELECT count(*) FROM comments WHERE article_id = $1`, hot.ID), int64(writers*6-writers*2); got != want {
		t.Errorf("the hot article has %d comments, want %d", got, want)
	}
	commentCountsExact(t, d, url)

	// A user's deletion takes their comments everywhere and their
	// articles with everyone's comments on them, in one statement.
	dbtest.Exec(t, url, `DELETE FROM users WHERE id = $1`, users[1].ID)
	commentCountsExact(t, d, url)
}

// TestCommentCounts holds migration 13's comment counts to what it
// promises: an article commented on by one writer at a time is counted in
// one row, writers open at once count in shards of their own without
// waiting, a bulk load and an operator's move count, and check-counters
// reports and repairs a count that is off, and one left for an article
// that is gone.
func TestCommentCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	jake := mustCreateUser(t, d, "jake")
	jane := mustCreateUser(t, d, "jane")
	a := mustCreateArticle(t, d, jake.ID, "a")
	b := mustCreateArticle(t, d, jake.ID, "b")
	shards := func(t *testing.T, id int64) int64 {
		t.Helper()
		return dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'comments' AND key = $1`, id)
	}

	t.Run("Alone", func(t *testing.T) {
		var last conduit.Comment
		for i := range 20 {
			last = mustComment(t, d, "a", jane.ID, fmt.Sprintf("c%d", i))
		}
		if err := d.DeleteComment(ctx, last.ID); err != nil {
			t.Fatal(err)
		}
		if n := shards(t, a.ID); n != 1 {
			t.Errorf("an article commented on by one writer at a time is counted in %d rows, want 1", n)
		}
		if n := shards(t, b.ID); n != 0 {
			t.Errorf("an article without comments is counted in %d rows, want 0", n)
		}
		commentCountsExact(t, d, url)
	})

	t.Run("Together", func(t *testing.T) {
		// Three writers open at once hold shards 0 to 2; a fourth, and a
		// delete, do not wait for them.
		var txs []pgx.Tx
		for i := range 3 {
			tx := beginOn(t, url)
			if _, err := tx.Exec(ctx, `INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, $3)`, a.ID, jane.ID, fmt.Sprintf("open%d", i)); err != nil {
				t.Fatal(err)
			}
			txs = append(txs, tx)
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := d.CreateComment(cctx, "a", jake.ID, "beside"); err != nil {
			t.Fatalf("comment beside three open writers of the article's count: %v; want it not to wait", err)
		}
		first := dbtest.QueryInt(t, url, `SELECT min(id) FROM comments WHERE article_id = $1`, a.ID)
		if err := d.DeleteComment(cctx, first); err != nil {
			t.Fatalf("delete beside three open writers of the article's count: %v; want it not to wait", err)
		}
		for _, tx := range txs {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := shards(t, a.ID); n != 4 {
			t.Errorf("four writers of an article's count at once left %d rows, want 4", n)
		}
		commentCountsExact(t, d, url)
	})

	t.Run("BulkAndMove", func(t *testing.T) {
		// One statement commenting on 40 articles takes no advisory lock
		// and counts each in shard 0; an operator moving comments from one
		// article to another moves their counts.
		dbtest.Exec(t, url, `INSERT INTO articles (slug, author_id, title, description, body)
			SELECT 'bulk-' || i, $1, 'T', 'D', 'B' FROM generate_series(1, 40) AS i`, jane.ID)
		tx := beginOn(t, url)
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `INSERT INTO comments (article_id, author_id, body)
			SELECT a.id, $1, 'bulk' FROM articles a, generate_series(1, 2) WHERE a.slug LIKE 'bulk-%'`, jake.ID); err != nil {
			t.Fatal(err)
		}
		if locks := advisoryLocks(t, tx); locks != 0 {
			t.Errorf("a statement commenting on 40 articles holds %d advisory locks, want 0", locks)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts c JOIN articles a ON a.id = c.key
			WHERE c.scope = 'comments' AND a.slug LIKE 'bulk-%' AND c.shard = 0 AND c.n = 2`); n != 40 {
			t.Errorf("%d of the 40 articles are counted 2 in shard 0, want all", n)
		}
		dbtest.Exec(t, url, `UPDATE comments SET article_id = $1 WHERE article_id IN (SELECT id FROM articles WHERE slug IN ('bulk-1', 'bulk-2'))`, b.ID)
		if got := mustCommentTotal(t, d, "b"); got != 4 {
			t.Errorf("after 4 comments moved to b, its total is %d, want 4", got)
		}
		commentCountsExact(t, d, url)
	})

	t.Run("Repair", func(t *testing.T) {
		// A count that is off is reported whole, in shard 0, by the
		// article's slug, and repaired into that one row; a count left for
		// an article that is gone (triggers off) is reported and deleted.
		want := dbtest.QueryInt(t, url, `SELECT count(*) FROM comments WHERE article_id = $1`, a.ID)
		dbtest.Exec(t, url, `INSERT INTO article_counts AS c VALUES ('comments', $1, 7, 3)
			ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + 3`, a.ID)
		gone := b.ID + 1_000_000
		dbtest.Exec(t, url, `INSERT INTO article_counts VALUES ('comments', $1, 0, 5)`, gone)
		wantWrong := []db.CounterMismatch{
			{Scope: "comments", Key: a.ID, Name: "a", Shard: 0, Kept: want + 3, Actual: want},
			{Scope: "comments", Key: gone, Name: "", Shard: 0, Kept: 5, Actual: 0},
		}
		for _, repair := range []bool{false, true} {
			got, err := d.CheckCounters(ctx, repair)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(wantWrong) {
				t.Errorf("CheckCounters(repair %v) = %+v, want %+v", repair, got, wantWrong)
			}
		}
		if n := shards(t, a.ID); n != 1 {
			t.Errorf("after the repair a is counted in %d rows, want 1", n)
		}
		if n := shards(t, gone); n != 0 {
			t.Errorf("after the repair the article that is gone has %d rows, want 0", n)
		}
		commentCountsExact(t, d, url)
	})
}

func mustCommentTotal(t *testing.T, d *db.DB, slug string) int {
	t.Helper()
	page, err := d.CommentPageBySlug(context.Background(), 0, slug, conduit.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return page.Total
}

// TestMigrateCommentCounts runs migration 13 over comments written before
// it, and back: the counts start as the comments are, and the previous
// release's per-request count is right on either side.
func TestMigrateCommentCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	jake := mustCreateUser(t, d, "jake")
	if err := d.MigrateDownTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'comments_counted%'`); n != 0 {
		t.Fatalf("at migration 12, %d comment counting triggers, want 0", n)
	}
	mustCreateArticle(t, d, jake.ID, "a")
	mustCreateArticle(t, d, jake.ID, "b")
	for i := range 5 {
		mustComment(t, d, "a", jake.ID, fmt.Sprintf("c%d", i))
	}
	mustComment(t, d, "b", jake.ID, "only")

	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'comments'`); n != 2 {
		t.Errorf("after migration 13, %d comment counter rows, want 2 (one per article)", n)
	}
	mustComment(t, d, "a", jake.ID, "after")
	if got := mustCommentTotal(t, d, "a"); got != 6 {
		t.Errorf("a's total = %d, want 6", got)
	}
	commentCountsExact(t, d, url)

	if err := d.MigrateDownTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'comments'`); n != 0 {
		t.Errorf("after the down migration, %d comment counter rows, want 0", n)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	commentCountsExact(t, d, url)
}

// TestCommentTotalsReadOnce holds each statement that returns a page of
// comments with its total, in the plan made for its arguments and in the
// one PostgreSQL keeps for it, to reading the counts once, whatever the
// page holds (written as a scalar subquery in a lateral SELECT, PostgreSQL
// pulls it up into the join and runs it once per comment of the page): one
// probe of article_counts for an article's page, one scan for the pages of
// a list's articles. And to one scan of each article's comments, the
// page's: no count of them.
func TestCommentTotalsReadOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, url := dbtest.NewWithURL(t)
	d := oneConnection(t, url)
	jake := mustCreateUser(t, d, "jake")
	a := mustCreateArticle(t, d, jake.ID, "a")
	b := mustCreateArticle(t, d, jake.ID, "b")
	dbtest.Exec(t, url, `INSERT INTO comments (article_id, author_id, body)
		SELECT x.id, $1, 'c' || i FROM articles x, generate_series(1, 30) AS i`, jake.ID)
	conn := genericPlans(t, url)

	page := conduit.Page{Limit: 20}
	for _, c := range []struct {
		name     string
		call     func() error
		args     []any // the statement's, in order
		articles int
	}{
		{"CommentPageBySlug", func() error { _, err := d.CommentPageBySlug(ctx, 0, "a", page); return err }, []any{"a"}, 1},
		{"ArticleWithComments", func() error { _, _, err := d.ArticleWithComments(ctx, 0, "a", page); return err }, []any{int64(0), "a"}, 1},
		{"CommentPages", func() error { _, err := d.CommentPages(ctx, 0, []int64{a.ID, b.ID}, page); return err }, []any{int64(0), []int64{a.ID, b.ID}, 21, 0}, 2},
	} {
		plans, text := explainCommentPage(t, d, conn, c.name, c.call, c.args)
		for i, plan := range plans {
			which := [...]string{"its arguments'", "the kept"}[i]
			if got := loopsOver(plan, "article_counts"); got != 1 {
				t.Errorf("%s, %s plan: the comment counts of %d articles are read in %v scans, want 1:\n%s", c.name, which, c.articles, got, text)
			}
			if got := loopsOver(plan, "comments"); got != float64(c.articles) {
				t.Errorf("%s, %s plan: the comments of %d articles are scanned %v times, want %d (the page's scan alone, no count):\n%s", c.name, which, c.articles, got, c.articles, text)
			}
		}
	}
}

// loopsOver sums the loops of the nodes of plan (EXPLAIN's JSON) that
// scan relation.
func loopsOver(plan map[string]any, relation string) float64 {
	return sumOverNodes(plan, func(node map[string]any) float64 {
		if node["Relation Name"] != relation {
			return 0
		}
		return node["Actual Loops"].(float64)
	})
}

// sumOverNodes sums f of every node of plan (EXPLAIN's JSON).
func sumOverNodes(plan map[string]any, f func(node map[string]any) float64) float64 {
	n := f(plan)
	subs, _ := plan["Plans"].([]any)
	for _, s := range subs {
		n += sumOverNodes(s.(map[string]any), f)
	}
	return n
}

// TestCommentPagesFlat holds the pages of one article of many comments
// (CommentPageBySlug, ArticleWithComments) to what its pages of few cost,
// in the plan made for its arguments and in the one PostgreSQL keeps for
// each statement, on a table whose pages autovacuum has marked
// all-visible: no scan of comments yields more rows than the page and the
// one after it. (CommentPages reads its pages one way; see there.) And it
// holds the pages of articles on either side of
// walkAbove (100, 101 and 150 comments, written in pairs of equal times)
// to the comments in order, for every kind of page and each of the three
// statements.
//
// Not parallel: the open transactions of tests beside it would keep
// VACUUM from marking the pages.
func TestCommentPagesFlat(t *testing.T) {
	ctx := context.Background()
	_, url := dbtest.NewWithURL(t)
	d := oneConnection(t, url)
	jake := mustCreateUser(t, d, "jake")
	sizes := map[string]int{"hundred": 100, "hundred-one": 101, "big": 150}
	for slug := range sizes {
		mustCreateArticle(t, d, jake.ID, slug)
	}
	// Beside them, as on a site, many articles of few comments (what the
	// kept plans expect of an article), all written in turn, so that an
	// article's comments are spread over the table, two by two at the same
	// time.
	dbtest.Exec(t, url, `INSERT INTO articles (slug, author_id, title, description, body)
		SELECT 'few-' || i, $1, 'T', 'D', 'B' FROM generate_series(1, 500) AS i`, jake.ID)
	dbtest.Exec(t, url, `INSERT INTO comments (article_id, author_id, body, created_at)
		SELECT x.id, $1, x.slug || '-' || i, timestamp '2026-01-01' + (i / 2) * interval '1 second'
		FROM generate_series(1, 150) AS i, articles x
		WHERE i <= CASE x.slug WHEN 'big' THEN 150 WHEN 'hundred-one' THEN 101 WHEN 'hundred' THEN 100 ELSE 3 END
		ORDER BY i, x.id`, jake.ID)
	// The test cluster commits asynchronously: the first VACUUM, once the
	// commits are on disk, marks the rows committed, the second their
	// pages all-visible.
	dbtest.Exec(t, url, `CHECKPOINT`)
	dbtest.Exec(t, url, `VACUUM comments`)
	dbtest.Exec(t, url, `VACUUM ANALYZE`)
	if visible, pages := dbtest.QueryInt(t, url, `SELECT relallvisible FROM pg_class WHERE relname = 'comments'`),
		dbtest.QueryInt(t, url, `SELECT relpages FROM pg_class WHERE relname = 'comments'`); visible != pages {
		t.Fatalf("after VACUUM, %d of the %d pages of comments are all-visible, want all", visible, pages)
	}

	t.Run("Plans", func(t *testing.T) {
		conn := genericPlans(t, url)
		page := conduit.Page{Limit: 20}
		// A list's page of 20 articles, the large one among them, and each
		// article's first 20 comments.
		list := []int64{mustArticle(t, d, 0, "big").ID}
		for i := range 19 {
			list = append(list, mustArticle(t, d, 0, fmt.Sprintf("few-%d", i+1)).ID)
		}
		pageRows := page.Limit + 1 // what a page of 20 reads of an article of 150
		for _, c := range []struct {
			name  string
			call  func() error
			stmts []prepared
			most  []int // rows of comments per statement
		}{
			{"CommentPageBySlug", func() error { _, err := d.CommentPageBySlug(ctx, 0, "big", page); return err },
				[]prepared{{args: []any{"big"}}}, []int{pageRows}},
			{"ArticleWithComments", func() error { _, _, err := d.ArticleWithComments(ctx, 0, "big", page); return err },
				[]prepared{{args: []any{int64(0), "big"}}}, []int{pageRows}},
			// The others have 3 comments each, read by the first statement
			// (EXPLAIN rounds the rows of each of its 20 loops to a whole
			// row), the large one's by the second.
			{"CommentPages", func() error { _, err := d.CommentPages(ctx, 0, list, page); return err },
				[]prepared{{marker: "i.article_id", args: []any{int64(0), list, page.Limit + 1, 0}}, {marker: "unnest($1", args: []any{list[:1]}}},
				[]int{3*(len(list)-1) + len(list)/2, pageRows}},
		} {
			plans, text := explainCommentPages(t, d, conn, c.name, c.call, c.stmts...)
			for i, plan := range plans { // its arguments' plan, then the kept one, of each statement
				if most := mostRowsOf(plan, "comments"); most > float64(c.most[i/2]) {
					t.Errorf("%s: a scan of comments in statement %d (plan %d) yields %v rows, more than the %d of its pages (of 20) for an article of 150 and of 3:\n%s", c.name, i/2+1, i%2+1, most, c.most[i/2], text)
				}
			}
		}
	})

	t.Run("Pages", func(t *testing.T) {
		for slug, n := range sizes {
			all, err := d.CommentsBySlug(ctx, 0, slug) // newest first
			if err != nil || len(all) != n {
				t.Fatalf("%s: CommentsBySlug = %d comments, %v; want %d", slug, len(all), err, n)
			}
			cur := func(i int) *conduit.Cursor { c := all[i].Cursor(); return &c }
			article := mustArticle(t, d, 0, slug)
			for _, c := range []struct {
				name    string
				p       conduit.Page
				want    []conduit.Comment
				hasMore bool
			}{
				{"First", conduit.Page{Limit: 20}, all[:20], true},
				{"After", conduit.Page{Limit: 20, After: cur(29)}, all[30:50], true},
				{"AfterToTheEnd", conduit.Page{Limit: 20, After: cur(n - 11)}, all[n-10:], false},
				{"Before", conduit.Page{Limit: 10, Before: cur(60)}, all[:10], true},
				{"FromEnd", conduit.Page{Limit: 20, FromEnd: true}, all[n-20:], true},
				{"FromEndBefore", conduit.Page{Limit: 20, Before: cur(60), FromEnd: true}, all[40:60], true},
			} {
				check := func(how string, got conduit.CommentPage) {
					t.Helper()
					if fmt.Sprint(commentBodies(got.Comments)) != fmt.Sprint(commentBodies(c.want)) || got.HasMore != c.hasMore || got.Total != n {
						t.Errorf("%s, %s, %s: %v, hasMore %v, total %d; want %v, %v, %d", slug, c.name, how,
							commentBodies(got.Comments), got.HasMore, got.Total, commentBodies(c.want), c.hasMore, n)
					}
				}
				page, err := d.CommentPageBySlug(ctx, 0, slug, c.p)
				if err != nil {
					t.Fatal(err)
				}
				check("CommentPageBySlug", page)
				_, page, err = d.ArticleWithComments(ctx, 0, slug, c.p)
				if err != nil {
					t.Fatal(err)
				}
				check("ArticleWithComments", page)
				pages, err := d.CommentPages(ctx, 0, []int64{article.ID}, c.p)
				if err != nil {
					t.Fatal(err)
				}
				check("CommentPages", pages[0])
			}
			// An offset, which only CommentPages takes (the legacy list's
			// way), walks the index past the comments before the page.
			pages, err := d.CommentPages(ctx, 0, []int64{article.ID}, conduit.Page{Limit: 20, Offset: 70})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := commentBodies(pages[0].Comments), commentBodies(all[70:90]); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s, Offset 70: %v, want %v", slug, got, want)
			}
		}
		// A list of articles large and small, one of them twice: each page
		// as the article's own.
		slugs := []string{"big", "few-1", "hundred-one", "big", "hundred"}
		var ids []int64
		for _, slug := range slugs {
			ids = append(ids, mustArticle(t, d, 0, slug).ID)
		}
		p := conduit.Page{Limit: 5}
		pages, err := d.CommentPages(ctx, 0, ids, p)
		if err != nil || len(pages) != len(ids) {
			t.Fatalf("CommentPages = %d pages, %v; want %d", len(pages), err, len(ids))
		}
		for i, slug := range slugs {
			want, err := d.CommentPageBySlug(ctx, 0, slug, p)
			if err != nil {
				t.Fatal(err)
			}
			if got := pages[i]; got.ArticleID != ids[i] || fmt.Sprint(commentBodies(got.Comments)) != fmt.Sprint(commentBodies(want.Comments)) ||
				got.HasMore != want.HasMore || got.Total != want.Total {
				t.Errorf("list, %s: %v, hasMore %v, total %d; want %v, %v, %d", slug,
					commentBodies(got.Comments), got.HasMore, got.Total, commentBodies(want.Comments), want.HasMore, want.Total)
			}
		}
	})
}

// genericPlans returns a connection to url that plans every statement as
// PostgreSQL plans a prepared one, as the pool's are, from its sixth
// execution on: for any value of its parameters.
func genericPlans(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn := connectTo(t, url)
	if _, err := conn.Exec(context.Background(), `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	return conn
}

// prepared is a statement that a call prepares: the one whose text holds
// marker (any, if the call prepares only one), to explain with args. A
// statement with parameters is explained in the plan made for their
// values, unless kept: then in the plan PostgreSQL keeps for it (its
// generic plan, on a connection of genericPlans), which a server runs
// after its first executions.
type prepared struct {
	marker string
	args   []any
	kept   bool
}

// explainCommentPages runs call, which prepares the statements want, each
// reading a comment count, on d's one connection, and returns their plans,
// in the order of want, as EXPLAIN (ANALYZE, FORMAT JSON) gives them on
// conn, parsed and as text: two for each, the plan made for its arguments
// and the plan PostgreSQL keeps for it.
func explainCommentPages(t *testing.T, d *db.DB, conn *pgx.Conn, name string, call func() error, want ...prepared) ([]map[string]any, string) {
	t.Helper()
	return explainPrepared(t, d, conn, name, "scope = 'comments'", true, call, want...)
}

// explainPrepared is explainCommentPages of the statements whose text
// holds holding, with one plan for each statement (as its want says)
// unless alsoKept.
func explainPrepared(t *testing.T, d *db.DB, conn *pgx.Conn, name, holding string, alsoKept bool, call func() error, want ...prepared) ([]map[string]any, string) {
	t.Helper()
	ctx := context.Background()
	before, err := d.PlanCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := call(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	after, err := d.PlanCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var fresh []string
	for s := range after {
		if _, ok := before[s]; !ok && strings.Contains(s, holding) {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) != len(want) {
		t.Fatalf("%s: %d statements holding %q were prepared, want %d:\n%s", name, len(fresh), holding, len(want), strings.Join(fresh, "\n\n"))
	}
	var plans []map[string]any
	var text strings.Builder
	for _, w := range want {
		sql := ""
		for _, s := range fresh {
			if strings.Contains(s, w.marker) {
				sql = s
			}
		}
		if sql == "" {
			t.Fatalf("%s: no statement prepared holds %q:\n%s", name, w.marker, strings.Join(fresh, "\n\n"))
		}
		plans = append(plans, explainOne(t, conn, name, sql, w.args, w.kept, &text))
		if alsoKept && !w.kept {
			plans = append(plans, explainOne(t, conn, name, sql, w.args, true, &text))
		}
	}
	return plans, text.String()
}

// explainOne returns the plan of sql for args, or the plan PostgreSQL keeps
// for it if kept, and writes its JSON to text.
func explainOne(t *testing.T, conn *pgx.Conn, name, sql string, args []any, kept bool, text *strings.Builder) map[string]any {
	t.Helper()
	ctx := context.Background()
	query := "EXPLAIN (ANALYZE, FORMAT JSON) " + sql
	if kept {
		if _, err := conn.Exec(ctx, "PREPARE kept AS "+sql); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, sql)
		}
		query, args = "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE kept("+sqlLiterals(t, args)+")", nil
	}
	var out []byte
	err := conn.QueryRow(ctx, query, args...).Scan(&out)
	if kept {
		if _, err := conn.Exec(ctx, "DEALLOCATE kept"); err != nil {
			t.Fatal(err)
		}
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, sql)
	}
	var plan []struct{ Plan map[string]any }
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatal(err)
	}
	text.Write(out)
	text.WriteString("\n")
	return plan[0].Plan
}

// sqlLiterals writes args as the literals of an EXECUTE's arguments.
func sqlLiterals(t *testing.T, args []any) string {
	t.Helper()
	lits := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case int:
			lits[i] = strconv.Itoa(v)
		case int64:
			lits[i] = strconv.FormatInt(v, 10)
		case string:
			lits[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case time.Time:
			lits[i] = "'" + v.Format(time.RFC3339Nano) + "'::timestamptz"
		case []int64:
			ids := make([]string, len(v))
			for j, id := range v {
				ids[j] = strconv.FormatInt(id, 10)
			}
			lits[i] = "ARRAY[" + strings.Join(ids, ", ") + "]::bigint[]"
		default:
			t.Fatalf("no literal for %T", a)
		}
	}
	return strings.Join(lits, ", ")
}

// explainCommentPage is explainCommentPages of a call that prepares one
// statement.
func explainCommentPage(t *testing.T, d *db.DB, conn *pgx.Conn, name string, call func() error, args []any) ([]map[string]any, string) {
	t.Helper()
	return explainCommentPages(t, d, conn, name, call, prepared{args: args})
}

// mostRowsOf returns the most rows a node of plan (EXPLAIN's JSON) that
// scans relation yields in all its loops together (EXPLAIN gives the
// average of a loop).
func mostRowsOf(plan map[string]any, relation string) float64 {
	return mostRowsAs(plan, relation, "")
}

// mostRowsAs is mostRowsOf the scans of relation under alias, or under any
// alias if alias is empty.
func mostRowsAs(plan map[string]any, relation, alias string) float64 {
	var most float64
	if plan["Relation Name"] == relation && (alias == "" || plan["Alias"] == alias) {
		most = plan["Actual Rows"].(float64) * plan["Actual Loops"].(float64)
	}
	subs, _ := plan["Plans"].([]any)
	for _, s := range subs {
		most = max(most, mostRowsAs(s.(map[string]any), relation, alias))
	}
	return most
}
