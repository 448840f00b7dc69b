package db

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/conduit-dev/conduit/conduit"
)

// commentFields selects the comment c, written by u, but for what depends
// on the viewer.
const commentFields = `c.id, c.body, c.created_at, c.updated_at,
	u.id AS author_id, u.username AS author_username, u.bio AS author_bio, u.image AS author_image`

// pagedCommentColumns selects, from a subquery c of viewedComment's
// columns, those columns again. CommentPageBySlug joins the comments'
// authors inside its subquery, by the primary key, once per comment: joined
// outside it, on the bench's data, the planner expected 3 comments where
// there were 20 and hashed the whole users table for them (pgbench, one
// article's 20 comments, 2 clients: about 10,000 statements a second, and
// 13,000–15,000 with the join inside). Where the outer join found no
// comment, every column is NULL, and following false, as the scanner
// expects.
const pagedCommentColumns = `c.id, c.body, c.created_at, c.updated_at,
	c.author_id, c.author_username, c.author_bio, c.author_image, coalesce(c.author_following, FALSE)`

// commentColumns selects the comment c, written by u, as viewer $1 sees it.
const commentColumns = commentFields + `, ` + followsAuthor + ` AS author_following`

// viewedComment is viewedArticle for comments.
func viewedComment(viewerID int64) (columns string, args sqlArgs) {
	following, args := viewerFollowsAuthor(viewerID)
	return commentFields + `, ` + following + ` AS author_following`, args
}

// commentScanner reads rows of the article's id and commentColumns, and of
// any columns after them, through one set of scan targets, as
// articleScanner does for articles. The comment's columns are NULL where an
// outer join from the article found no comment: that is how one statement
// tells "no article" (no row) from "no comments" (a row of NULLs). pgx's
// RowToStructByName into a struct of pointers matched the columns to the
// fields by name on every row and allocated each value: GET
// /api/articles/{slug}/comments of 20 comments, in-process, made 363
// allocations (33.6 KB), now 176 (25.4 KB); GraphQL's first 5 comments of 20
// articles (resolvers.BenchmarkCommentsLoader, a page of articles included)
// through CommentPages, 3,486 (306 KB), now 2,393 (221 KB).
type commentScanner struct {
	articleID            int64
	id, authorID         pgtype.Int8
	body, username       pgtype.Text
	createdAt, updatedAt pgtype.Timestamptz
	bio, image           *string
	following            bool
	targets              []any
}

// newCommentScanner returns a scanner whose rows end with the columns
// scanned into more, which keep the last row's values.
func newCommentScanner(more ...any) *commentScanner {
	s := &commentScanner{}
	s.targets = append([]any{&s.articleID, &s.id, &s.body, &s.createdAt, &s.updatedAt,
		&s.authorID, &s.username, &s.bio, &s.image, &s.following}, more...)
	return s
}

// scan scans one row, and returns its comment and false if it holds none.
// The row's article id stays in s.articleID.
func (s *commentScanner) scan(r pgx.CollectableRow) (conduit.Comment, bool, error) {
	// Cleared, so that no row can share a bio or an image with the row
	// before it, whatever pgx does with a pointer it finds set (today it
	// allocates each value anew).
	s.bio, s.image = nil, nil
	if err := r.Scan(s.targets...); err != nil {
		return conduit.Comment{}, false, err
	}
	if !s.id.Valid {
		return conduit.Comment{}, false, nil
	}
	return conduit.Comment{
		ID:        s.id.Int64,
		ArticleID: s.articleID,
		Body:      s.body.String,
		CreatedAt: s.createdAt.Time,
		UpdatedAt: s.updatedAt.Time,
		Author: conduit.Profile{
			ID:        s.authorID.Int64,
			Username:  s.username.String,
			Bio:       s.bio,
			Image:     s.image,
			Following: s.following,
		},
	}, true, nil
}

// scannedComment is a row of commentScanner: a comment, or found false.
type scannedComment struct {
	conduit.Comment
	found bool
}

// row scans one row for pgx's collectors.
func (s *commentScanner) row(r pgx.CollectableRow) (scannedComment, error) {
	c, found, err := s.scan(r)
	return scannedComment{c, found}, err
}

// collectComments returns the comments of every row, scanned by s, in
// order (in a slice of capacity size at least), and whether there was any
// row at all; it closes rows. s keeps the last row's article id and extra
// columns.
func collectComments(rows pgx.Rows, s *commentScanner, size int) ([]conduit.Comment, bool, error) {
	defer rows.Close()
	cs := make([]conduit.Comment, 0, size)
	seen := false
	for rows.Next() {
		seen = true
		c, found, err := s.scan(rows)
		if err != nil {
			return nil, false, err
		}
		if found {
			cs = append(cs, c)
		}
	}
	return cs, seen, rows.Err()
}

// commentTotal is a subquery of one row and column, total: how many
// comments the article whose id is the SQL expression article has, the
// sum of its count's shards, which the database keeps (migration 13). It
// costs one probe of article_counts' index however many comments there
// are. It is an aggregate, so that PostgreSQL runs it once per article as
// a lateral item: a scalar subquery in a lateral SELECT is pulled up into
// the join and runs once per comment of the page
// (TestCommentTotalsReadOnce).
func commentTotal(article string) string {
	return `(SELECT coalesce(sum(n), 0)::bigint AS total FROM article_counts WHERE scope = 'comments' AND key = ` + article + `)`
}

// walkAbove is how many comments an article has before its pages are read
// by a walk of the index in order (see commentPageRows).
const walkAbove = 100

// commentPageRows returns the rows of page p of the comments of the
// article whose id is the SQL expression article and whose comment count
// is n.total (commentTotal, a lateral item before it), each selecting
// columns of the comment c and of whatever join adds (an author), as a
// parenthesized query to put in a FROM, and the direction of the page's
// order. The rows come in the page's order as PostgreSQL
// yields them, which it does not promise: the callers put them in order
// again (inPageOrder).
// The page of one article (CommentPageBySlug, ArticleWithComments) is
// read so, and the pages of a list's articles (CommentPages) only for its
// articles of more than walkAbove comments, see there.
//
// The statements are prepared, and PostgreSQL keeps one plan for each,
// made for an article's average number of comments (3 on the bench's
// data). For so few it reads every comment of the article and sorts them,
// the cheapest way for a few, which an article of 10,000 comments then
// paid in full: 2 ms a page (pgbench, 2 clients: 470–495 statements a
// second). So the page is read one of two ways, chosen by the article's
// kept count in a one-time filter, which runs only the way that applies:
// up to walkAbove comments that plan, and past it a walk of the index on
// (article_id, created_at, id) in order, which chooses the page's ids from
// the index alone and stops after the page, the rows then read by id
// (20,200–21,000 statements a second at 10,000 comments). The walk alone
// would cost an article of 20 comments 21 more reads by id (19,000
// statements a second against 25,000); the two ways cost it about 4 µs
// of machine time (20,700–22,600 against 22,900–24,600). The walk reads
// no comment row only where autovacuum has marked the index's pages
// all-visible; on pages not marked yet (just after a bulk load) the plan
// may read every id of the article again. TestCommentPagesFlat.
func commentPageRows(args *sqlArgs, article, columns, join string, p conduit.Page) (sql, dir string) {
	window, dir := keyset(args, "c", p)
	walk, _ := keyset(args, "pg", p)
	few := strconv.Itoa(walkAbove)
	const total = "n.total"
	return `(
			SELECT ` + columns + ` FROM comments c` + join + `
			WHERE ` + total + ` <= ` + few + ` AND c.article_id = ` + article + ` AND ` + window + `
			ORDER BY c.created_at ` + dir + `, c.id ` + dir + `
			` + pageBounds(args, p) + `
		) UNION ALL (
			SELECT ` + columns + ` FROM (
				SELECT pg.id FROM comments pg
				WHERE pg.article_id = ` + article + ` AND ` + walk + `
				ORDER BY pg.created_at ` + dir + `, pg.id ` + dir + `
				` + pageBounds(args, p) + `
			) pg JOIN comments c ON c.id = pg.id` + join + `
			WHERE ` + total + ` > ` + few + `
		)`, dir
}

// CommentPages returns, for each article id in order, one page of its
// comments newest first, in one statement however many articles are asked
// for, and one more when any of them has more than walkAbove comments:
// each article's page is read from the index on (article_id, created_at,
// id) by a lateral subquery, and each article appears at least once, with
// its total, even when its page is empty.
func (d *DB) CommentPages(ctx context.Context, viewerID int64, articleIDs []int64, p conduit.Page) ([]conduit.CommentPage, error) {
	if len(articleIDs) == 0 {
		return []conduit.CommentPage{}, nil
	}
	limit := max(p.Limit, 0)
	args := sqlArgs{viewerID, articleIDs}
	window, dir := keyset(&args, "c", p)
	// The authors are joined outside the pages here, unlike in
	// CommentPageBySlug: one hash of the users serves the pages of every
	// article asked for (pgbench, the first 5 comments of 20 articles on the
	// bench's data, 2 clients: 6,800–7,400 statements a second joined
	// outside, 6,000–7,100 inside), and inside, PostgreSQL found the
	// generic plan dearer than its custom ones and planned the statement
	// anew on every run (TestPagesKeepTheirPlans). For the same reason the
	// totals are read in one scan for all the articles, not by commentTotal
	// per article, and each page is read one way, not commentPageRows' two:
	// the generic plan expects 10 articles, and with either it cost enough
	// more than the custom plans of 2 that PostgreSQL at times kept
	// planning anew (2 runs of 24 for commentTotal, under -race).
	//
	// One way is the plan PostgreSQL finds for the articles' average, and
	// where it expects few rows an article (on a small site) that is a read
	// and a sort of all the article's comments: an article of 10,000 would
	// cost them all in every list it is in. So the lateral page skips an
	// article with more than walkAbove comments, by a one-time filter on its
	// total, and those are read by walkedCommentPages, in a second
	// statement, which lists of articles of ordinary size never run
	// (TestCommentPagesFlat).
	sql := `
		SELECT i.article_id, ` + commentColumns + `, coalesce(n.total, 0)
		FROM (SELECT DISTINCT unnest($2::bigint[]) AS article_id) i
		LEFT JOIN (
			SELECT key, sum(n)::bigint AS total FROM article_counts
			WHERE scope = 'comments' AND key = ANY ($2::bigint[]) GROUP BY key
		) n ON n.key = i.article_id
		LEFT JOIN LATERAL (
			SELECT c.* FROM comments c
			WHERE coalesce(n.total, 0) <= ` + strconv.Itoa(walkAbove) + ` AND c.article_id = i.article_id AND ` + window + `
			ORDER BY c.created_at ` + dir + `, c.id ` + dir + `
			LIMIT ` + args.add(limit+1) + ` OFFSET ` + args.add(max(p.Offset, 0)) + ` -- parameters here, unlike pageBounds: see TestPagesKeepTheirPlans
		) c ON TRUE
		LEFT JOIN users u ON u.id = c.author_id
		ORDER BY i.article_id, c.created_at ` + dir + `, c.id ` + dir
	rows, _ := d.pool.Query(ctx, sql, args...)
	defer rows.Close()
	var total int
	s := newCommentScanner(&total)
	byArticle := make(map[int64]*conduit.CommentPage, len(articleIDs))
	for rows.Next() {
		c, found, err := s.scan(rows)
		if err != nil {
			return nil, d.storeError("select comment pages", "", err)
		}
		page := byArticle[s.articleID]
		if page == nil {
			page = &conduit.CommentPage{ArticleID: s.articleID, Comments: []conduit.Comment{}, Total: total}
			byArticle[s.articleID] = page
		}
		if found {
			page.Comments = append(page.Comments, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, d.storeError("select comment pages", "", err)
	}
	var large []int64
	for id, page := range byArticle {
		if page.Total > walkAbove {
			large = append(large, id)
		}
	}
	if len(large) > 0 {
		if err := d.walkedCommentPages(ctx, viewerID, large, p, byArticle); err != nil {
			return nil, err
		}
	}
	pages := make([]conduit.CommentPage, len(articleIDs))
	for i, id := range articleIDs {
		page := byArticle[id]
		if page == nil { // cannot happen: every id yields a row
			pages[i] = conduit.CommentPage{ArticleID: id, Comments: []conduit.Comment{}}
			continue
		}
		pages[i] = *page
		// Copied, so that a duplicated id does not share a backing array.
		pages[i].Comments = slices.Clone(page.Comments)
		trimPage(&pages[i], limit, p.FromEnd)
	}
	return pages, nil
}

// walkedCommentPages reads, as CommentPageBySlug reads one article's, the
// page p of the comments of each article of ids, which CommentPages found
// to have more than walkAbove comments, and puts it, with its total, in the
// article's page in pages.
func (d *DB) walkedCommentPages(ctx context.Context, viewerID int64, ids []int64, p conduit.Page, pages map[int64]*conduit.CommentPage) error {
	columns, args := viewedComment(viewerID)
	sql := commentPagesOf(&args, columns, `unnest(`+args.add(ids)+`::bigint[]) AS a(id)`, "", p)
	rows, _ := d.pool.Query(ctx, sql, args...)
	defer rows.Close()
	var total int
	s := newCommentScanner(&total)
	for rows.Next() {
		c, found, err := s.scan(rows)
		if err != nil {
			return d.storeError("select comment pages", "", err)
		}
		page := pages[s.articleID]
		page.Total = total
		if found {
			page.Comments = append(page.Comments, c)
		}
	}
	if err := rows.Err(); err != nil {
		return d.storeError("select comment pages", "", err)
	}
	for _, id := range ids {
		inPageOrder(pages[id].Comments, p.FromEnd)
	}
	return nil
}

// trimPage makes page, read with one comment more than limit in the
// direction of the page, the page itself: the extra comment only tells
// that there are more, and a page read from the end is put newest first.
func trimPage(page *conduit.CommentPage, limit int, fromEnd bool) {
	if len(page.Comments) > limit {
		page.HasMore = true
		page.Comments = page.Comments[:limit]
	}
	if fromEnd {
		slices.Reverse(page.Comments)
	}
}

// ArticleWithComments returns the article with the slug and one page of
// its comments, newest first, in one statement: what ArticleBySlug and
// CommentPages return for it. The page comes on the article's one row as
// arrays, one per column, so that the article is sent once however many
// comments there are. The arrays are aggregated, without an ORDER BY of
// their own, from the page as its ordered subquery yields it: one sort
// instead of one per array. PostgreSQL keeps that order when nothing is
// joined above the subquery, but does not promise it, so the page is put
// in order again here if it ever comes otherwise. Returns NotFound if no
// article has the slug.
func (d *DB) ArticleWithComments(ctx context.Context, viewerID int64, slug string, p conduit.Page) (conduit.Article, conduit.CommentPage, error) {
	limit := max(p.Limit, 0)
	args := sqlArgs{viewerID, slug}
	pageRows, _ := commentPageRows(&args, "a.id", `c.id, c.body, c.created_at, c.updated_at, c.author_id, cu.username, cu.bio, cu.image,
					EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = $1 AND fo.followee_id = cu.id) AS following`,
		` JOIN users cu ON cu.id = c.author_id`, p)
	sql := `
		SELECT ` + articleColumns + `, n.total AS comment_total,
			p.ids, p.bodies, p.created_ats, p.updated_ats,
			p.author_ids, p.author_usernames, p.author_bios, p.author_images, p.author_following` + articleFrom + `
		CROSS JOIN LATERAL ` + commentTotal("a.id") + ` n
		CROSS JOIN LATERAL (
			SELECT array_agg(c.id) AS ids, array_agg(c.body) AS bodies,
				array_agg(c.created_at) AS created_ats, array_agg(c.updated_at) AS updated_ats,
				array_agg(c.author_id) AS author_ids, array_agg(c.username) AS author_usernames,
				array_agg(c.bio) AS author_bios, array_agg(c.image) AS author_images,
				array_agg(c.following) AS author_following
			FROM (` + pageRows + `) c
		) p
		WHERE a.slug = $2`
	rows, _ := d.pool.Query(ctx, sql, args...)
	var r commentArrays
	article, err := pgx.CollectExactlyOneRow(rows, newArticleScanner(&r.CommentTotal, &r.IDs, &r.Bodies,
		&r.CreatedAts, &r.UpdatedAts, &r.AuthorIDs, &r.AuthorUsernames, &r.AuthorBios, &r.AuthorImages, &r.AuthorFollowing).row)
	if err != nil {
		return conduit.Article{}, conduit.CommentPage{}, d.storeError("select article with comments", conduit.ThingArticle, err)
	}
	page := conduit.CommentPage{ArticleID: article.ID, Comments: make([]conduit.Comment, len(r.IDs)), Total: r.CommentTotal}
	for i := range r.IDs {
		page.Comments[i] = conduit.Comment{
			ID:        r.IDs[i],
			ArticleID: article.ID,
			Body:      r.Bodies[i],
			CreatedAt: r.CreatedAts[i],
			UpdatedAt: r.UpdatedAts[i],
			Author: conduit.Profile{
				ID:        r.AuthorIDs[i],
				Username:  r.AuthorUsernames[i],
				Bio:       r.AuthorBios[i],
				Image:     r.AuthorImages[i],
				Following: r.AuthorFollowing[i],
			},
		}
	}
	inPageOrder(page.Comments, p.FromEnd)
	trimPage(&page, limit, p.FromEnd)
	return article, page, nil
}

// inPageOrder sorts comments as a page read in its direction lists them:
// newest first, or oldest first when read from the end. They nearly always
// come so already, which costs one pass to see.
func inPageOrder(comments []conduit.Comment, fromEnd bool) {
	newestFirst := func(a, b conduit.Comment) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	}
	order := newestFirst
	if fromEnd {
		order = func(a, b conduit.Comment) int { return newestFirst(b, a) }
	}
	if !slices.IsSortedFunc(comments, order) {
		slices.SortFunc(comments, order)
	}
}

// CommentPageBySlug returns one page of the comments of the article with
// the slug, newest first, with its total and the article's id, in one
// statement: a row per comment, or one row of NULLs for an article without
// any (no row at all means no article). It reads nothing else of the
// article, and costs what CommentsBySlug does for a page of the same size.
// Returns NotFound if no article has the slug.
func (d *DB) CommentPageBySlug(ctx context.Context, viewerID int64, slug string, p conduit.Page) (conduit.CommentPage, error) {
	limit := max(p.Limit, 0)
	columns, args := viewedComment(viewerID)
	sql := commentPagesOf(&args, columns, "articles a", "WHERE a.slug = "+args.add(slug), p)
	rows, _ := d.pool.Query(ctx, sql, args...)
	var page conduit.CommentPage
	s := newCommentScanner(&page.Total)
	cs, found, err := collectComments(rows, s, limit+1)
	if err != nil {
		return conduit.CommentPage{}, d.storeError("select comment page", conduit.ThingArticle, err)
	}
	page.ArticleID, page.Comments = s.articleID, cs
	if !found {
		return conduit.CommentPage{}, conduit.NotFoundError(conduit.ThingArticle, nil)
	}
	inPageOrder(page.Comments, p.FromEnd)
	trimPage(&page, limit, p.FromEnd)
	return page, nil
}

// commentPagesOf returns a statement of page p of the comments of each
// article a of from (a FROM item, with where its WHERE clause, or empty):
// per comment a row of a.id, pagedCommentColumns (of viewedComment's
// columns) and the article's total, or one row of NULLs and the total for
// an article without any on the page. The rows come as the page's
// subquery yields them, without an ORDER BY of their own, as
// ArticleWithComments' do: each article's in the page's order nearly
// always, which inPageOrder checks. Sorting them again in PostgreSQL cost
// the page of an article of 20 comments a second sort of its rows:
// 74-81 µs of execution against 81-82 (EXPLAIN ANALYZE, bench data).
func commentPagesOf(args *sqlArgs, columns, from, where string, p conduit.Page) string {
	pageRows, _ := commentPageRows(args, "a.id", columns, ` JOIN users u ON u.id = c.author_id`, p)
	return `
		SELECT a.id, ` + pagedCommentColumns + `, n.total
		FROM ` + from + `
		CROSS JOIN LATERAL ` + commentTotal("a.id") + ` n
		LEFT JOIN LATERAL (` + pageRows + `) c ON TRUE
		` + where
}

// commentArrays is what follows the article on the row of
// ArticleWithComments: its page of comments, column by column (nil when
// empty).
type commentArrays struct {
	CommentTotal    int
	IDs             []int64
	Bodies          []string
	CreatedAts      []time.Time
	UpdatedAts      []time.Time
	AuthorIDs       []int64
	AuthorUsernames []string
	AuthorBios      []*string
	AuthorImages    []*string
	AuthorFollowing []bool
}

// CommentsBySlug returns every comment of the article with the slug,
// newest first. Returns NotFound if no article has the slug.
func (d *DB) CommentsBySlug(ctx context.Context, viewerID int64, slug string) ([]conduit.Comment, error) {
	columns, args := viewedComment(viewerID)
	rows, _ := d.pool.Query(ctx, `
		SELECT a.id AS article_id, `+columns+`
		FROM articles a
		LEFT JOIN (comments c JOIN users u ON u.id = c.author_id) ON c.article_id = a.id
		WHERE a.slug = `+args.add(slug)+`
		ORDER BY c.created_at DESC, c.id DESC`, args...)
	cs, article, err := collectComments(rows, newCommentScanner(), 0)
	if err != nil {
		return nil, d.storeError("select comments", "", err)
	}
	if !article {
		return nil, conduit.NotFoundError(conduit.ThingArticle, nil)
	}
	return cs, nil
}

// CommentsByID returns the comments that exist, in any order.
func (d *DB) CommentsByID(ctx context.Context, viewerID int64, ids []int64) ([]conduit.Comment, error) {
	columns, args := viewedComment(viewerID)
	rows, _ := d.pool.Query(ctx, `
		SELECT c.article_id, `+columns+`
		FROM comments c JOIN users u ON u.id = c.author_id
		WHERE c.id = ANY(`+args.add(ids)+`)`, args...)
	cs, _, err := collectComments(rows, newCommentScanner(), len(ids))
	if err != nil {
		return nil, d.storeError("select comments by id", "", err)
	}
	return cs, nil
}

// CommentInArticle returns comment id if it belongs to the article with the
// slug. Returns NotFound saying "article not found" or "comment not found".
func (d *DB) CommentInArticle(ctx context.Context, viewerID int64, slug string, id int64) (conduit.Comment, error) {
	rows, _ := d.pool.Query(ctx, `
		SELECT a.id AS article_id, `+commentColumns+`
		FROM articles a
		LEFT JOIN (comments c JOIN users u ON u.id = c.author_id) ON c.article_id = a.id AND c.id = $3
		WHERE a.slug = $2`, viewerID, slug, id)
	r, err := pgx.CollectExactlyOneRow(rows, newCommentScanner().row)
	if err != nil {
		return conduit.Comment{}, d.storeError("select comment", conduit.ThingArticle, err)
	}
	if !r.found {
		return conduit.Comment{}, conduit.NotFoundError(conduit.ThingComment, nil)
	}
	return r.Comment, nil
}

// CreateComment adds a comment by authorID to the article with the slug
// and returns it as its author sees it. Returns NotFound.
func (d *DB) CreateComment(ctx context.Context, slug string, authorID int64, body string) (conduit.Comment, error) {
	var created conduit.Comment
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `
			WITH c AS (
				INSERT INTO comments (article_id, author_id, body)
				SELECT id, $1::bigint, $2::text FROM articles WHERE slug = $3
				RETURNING *
			)
			SELECT c.article_id, `+commentColumns+`
			FROM c JOIN users u ON u.id = c.author_id`, authorID, body, slug)
		r, err := pgx.CollectExactlyOneRow(rows, newCommentScanner().row)
		created = r.Comment
		return err
	})
	return created, d.storeError("insert comment", conduit.ThingArticle, err)
}

// DeleteComment deletes comment id. Returns NotFound.
func (d *DB) DeleteComment(ctx context.Context, id int64) error {
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM comments WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return conduit.NotFoundError(conduit.ThingComment, nil)
		}
		return nil
	})
	return d.storeError("delete comment", "", err)
}
