package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
)

// articleFields selects the article a, written by u, but for what depends
// on the viewer: everything a page shows comes from one row, so that a page
// is one statement. Tags sort in byte order, as the service sorts them,
// whatever the database's collation.
const articleFields = `a.id, a.slug, a.title, a.description, a.body,
	ARRAY (SELECT x.tag_name FROM article_tags x
	       WHERE x.article_id = a.id ORDER BY x.tag_name COLLATE "C") AS tag_list,
	a.created_at, a.updated_at, a.favorites_count,
	u.id AS author_id, u.username AS author_username, u.bio AS author_bio, u.image AS author_image`

// followsAuthor says whether viewer $1 follows the author u.
const followsAuthor = `EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = $1 AND fo.followee_id = u.id)`

// viewerFollowsAuthor returns followsAuthor for viewer and the arguments its
// statement starts with, as viewedArticle does: FALSE and none for a
// reader signed out, who follows no one.
func viewerFollowsAuthor(viewerID int64) (string, sqlArgs) {
	if viewerID == 0 {
		return `FALSE`, sqlArgs{}
	}
	return followsAuthor, sqlArgs{viewerID}
}

// articleColumns selects the article a, written by u, as viewer $1 sees it.
//
// Whether the viewer favorited it is one probe of the favorites' key per
// article. Without the OFFSET 0, PostgreSQL may turn the EXISTS into a
// hash of the viewer's favorites, built once per statement, and it does so
// in the plan it keeps for a list when the site's readers have few
// favorites: it then reads every favorite of the viewer, however many. A
// viewer of 10,000 favorites paid 3.4 ms for a page of the list instead of
// 0.2, and the feed of the scaling run fell to 0.72 of its rate at a
// million articles. PostgreSQL keeps an OFFSET in an EXISTS as the fence it
// traditionally is (simplify_EXISTS_query). The probes cost a viewer of a
// few favorites about 2% of a list's statements per second (pgbench on the
// bench's data); looking the page's ids up as an array instead cost the
// same, but a kept plan could scan the viewer's favorites for them.
const articleColumns = articleFields + `,
	EXISTS (SELECT 1 FROM favorites f WHERE f.user_id = $1 AND f.article_id = a.id OFFSET 0) AS favorited,
	` + followsAuthor + ` AS author_following`

// anonymousArticleColumns selects the article a as a reader signed out
// sees it, who has no favorites and follows no one.
const anonymousArticleColumns = articleFields + `, FALSE AS favorited, FALSE AS author_following`

// viewedArticle returns the columns of an article as viewer sees it and the
// arguments its statement starts with: the viewer as $1, or, for a reader
// signed out (0), the columns without the lookups of the viewer's
// favorites and follows, and no argument. Most reads are signed out: one
// article without them ran 11–26% more statements per second (pgbench on
// the bench's data, 2 clients); a page of 20 gained nothing measurable, when
// its lookups were hashed once per statement. A guard in SQL instead (a CASE
// on $1) would not do: PostgreSQL plans such a statement anew for each
// viewer, its custom plan being cheaper than the one it keeps.
func viewedArticle(viewerID int64) (columns string, args sqlArgs) {
	if viewerID == 0 {
		return anonymousArticleColumns, sqlArgs{}
	}
	return articleColumns, sqlArgs{viewerID}
}

// articleFrom joins each article to its author for articleColumns.
const articleFrom = ` FROM articles a JOIN users u ON u.id = a.author_id`

// articleScanner reads rows of articleColumns, and of any columns after
// them, straight into articles: one set of scan targets serves every row
// of a statement. pgx's RowToStructByPos built the targets of each row by
// reflection, about a fifth of what scanning a page of articles cost
// (CPU profile of the list under load), and its rows were copied into
// articles after: a page of 20 allocated 35 KB, now 11.
type articleScanner struct {
	a       conduit.Article
	targets []any
}

// newArticleScanner returns a scanner whose rows end with the columns
// scanned into more, which keep the last row's values.
func newArticleScanner(more ...any) *articleScanner {
	s := &articleScanner{}
	a := &s.a
	s.targets = append([]any{&a.ID, &a.Slug, &a.Title, &a.Description, &a.Body, &a.TagList,
		&a.CreatedAt, &a.UpdatedAt, &a.FavoritesCount,
		&a.Author.ID, &a.Author.Username, &a.Author.Bio, &a.Author.Image,
		&a.Favorited, &a.Author.Following}, more...)
	return s
}

// row scans one row; as a pgx.RowToFunc it serves pgx's collectors.
func (s *articleScanner) row(r pgx.CollectableRow) (conduit.Article, error) {
	// The targets are reused from row to row, and the article is returned
	// by value: bio, image and tags are a pointer and a slice, which pgx
	// allocates anew for each value it decodes today. Zeroed first, so
	// that no row can share one with the row before it, whatever pgx does.
	s.a = conduit.Article{}
	if err := r.Scan(s.targets...); err != nil {
		return conduit.Article{}, err
	}
	if s.a.TagList == nil {
		s.a.TagList = []string{}
	}
	return s.a, nil
}

// sqlArgs collects the arguments of a statement built piece by piece.
type sqlArgs []any

// add appends v and returns its placeholder.
func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// articleFilter returns the condition on articles a that f asks for (all
// but a tag: see articleSource). Each
// filter looks its name up in a subquery, so an unknown name matches
// nothing rather than failing.
func articleFilter(args *sqlArgs, f conduit.ArticleFilter) string {
	// A tag is never among them: articleSource reads a tag's articles from
	// its links, and only the other filters become conditions.
	conds := []string{"TRUE"}
	if f.Author != "" {
		conds = append(conds, `a.author_id = (SELECT id FROM users WHERE username = `+args.add(f.Author)+`)`)
	}
	if f.FavoritedBy != "" {
		conds = append(conds, `a.id IN (SELECT f.article_id FROM favorites f JOIN users fu ON fu.id = f.user_id
			WHERE fu.username = `+args.add(f.FavoritedBy)+`)`)
	}
	if f.FeedOf != 0 {
		conds = append(conds, `a.author_id IN (SELECT followee_id FROM follows WHERE follower_id = `+args.add(f.FeedOf)+`)`)
	}
	return strings.Join(conds, " AND ")
}

// keyset returns the conditions on rows of alias that keep the window
// between p's cursors, and the direction to read it in: newest first, or
// oldest first when the page is taken from the end of the window.
func keyset(args *sqlArgs, alias string, p conduit.Page) (cond, dir string) {
	return keysetOn(args, alias+".created_at", alias+".id", p)
}

// keysetOn is keyset on the columns createdAt and id, wherever they are.
func keysetOn(args *sqlArgs, createdAt, id string, p conduit.Page) (cond, dir string) {
	cond = "TRUE"
	if p.After != nil {
		cond += fmt.Sprintf(" AND (%s, %s) < (%s, %s)", createdAt, id, args.add(p.After.CreatedAt), args.add(p.After.ID))
	}
	if p.Before != nil {
		cond += fmt.Sprintf(" AND (%s, %s) > (%s, %s)", createdAt, id, args.add(p.Before.CreatedAt), args.add(p.Before.ID))
	}
	if p.FromEnd {
		return cond, "ASC"
	}
	return cond, "DESC"
}

// articleSource says which rows a list's page is read from, in the list's
// order, for filter f and page p: where (FROM), which rows (cond, on the
// filters f names), and the columns to order and window them by. A tag's
// articles and a user's favorites come from their own links, in order,
// from the indexes of migration 8: a rare tag then costs what a popular
// one does. The filters other than that one become conditions on the
// joined article, which bounds the walk by the tag's (or the favorites')
// size. A feed merges the newest articles of each author followed, each
// read from the author's index: it costs the number of authors followed
// times the rows up to the page's end, however many articles others wrote
// (walking all articles for the followed ones would cost the whole table
// to a reader who follows only quiet authors). Everything else walks the
// articles, newest first (by author: from the author's own index).
func articleSource(args *sqlArgs, f conduit.ArticleFilter, p conduit.Page) (from, cond, createdAt, id string) {
	rest := f
	switch {
	case f == conduit.ArticleFilter{FeedOf: f.FeedOf} && f.FeedOf != 0:
		return feedSource(args, f.FeedOf, p), "TRUE", "l.created_at", "l.id"
	case f.Tag != "":
		from, createdAt, id = "article_tags l", "l.article_created_at", "l.article_id"
		cond = `l.tag_id = (SELECT id FROM tags WHERE name = ` + args.add(f.Tag) + `)`
		rest.Tag = ""
	case f.FavoritedBy != "":
		from, createdAt, id = "favorites l", "l.article_created_at", "l.article_id"
		cond = `l.user_id = (SELECT id FROM users WHERE username = ` + args.add(f.FavoritedBy) + `)`
		rest.FavoritedBy = ""
	default:
		return "articles a", articleFilter(args, f), "a.created_at", "a.id"
	}
	if rest != (conduit.ArticleFilter{}) {
		from += " JOIN articles a ON a.id = l.article_id"
		cond += " AND " + articleFilter(args, rest)
	}
	return from, cond, createdAt, id
}

// articleTotal returns a scalar subquery for the number of articles
// matching f: the sum of the kept counters (migration 7) when f is one of
// the filters they keep, which costs the same at any size of the site;
// otherwise a count of the matching rows. An unknown name counts 0 either
// way.
func articleTotal(args *sqlArgs, f conduit.ArticleFilter) string {
	const sum = `(SELECT coalesce(sum(n), 0)::bigint FROM article_counts WHERE `
	switch f {
	case conduit.ArticleFilter{}:
		return sum + `scope = 'all' AND key = 0)`
	case conduit.ArticleFilter{Tag: f.Tag}:
		return sum + `scope = 'tag' AND key = (SELECT id FROM tags WHERE name = ` + args.add(f.Tag) + `))`
	case conduit.ArticleFilter{Author: f.Author}:
		return sum + `scope = 'author' AND key = (SELECT id FROM users WHERE username = ` + args.add(f.Author) + `))`
	case conduit.ArticleFilter{FavoritedBy: f.FavoritedBy}:
		return sum + `scope = 'favorited' AND key = (SELECT id FROM users WHERE username = ` + args.add(f.FavoritedBy) + `))`
	case conduit.ArticleFilter{FeedOf: f.FeedOf}:
		// The counters of the authors followed, in one scan of the index
		// for the array of them: a join of the two, which the planner
		// prefers, hashes every author's counters, which grows with the
		// site, and a sum per author followed (a lateral subquery) costs
		// an aggregate each, a third slower for the whole statement with
		// 156 authors followed of 500 (pgbench on the bench's data). An
		// author's count is one row unless they write from many
		// connections at once (migration 12).
		return sum + `scope = 'author' AND key = ANY (ARRAY (
			SELECT followee_id FROM follows WHERE follower_id = ` + args.add(f.FeedOf) + `)))`
	}
	// Filters combined: no counter keeps these. They are counted from the
	// rows the page is read from, so at most a tag's or a user's favorites.
	from, cond, _, _ := articleSource(args, f, conduit.Page{})
	return `(SELECT count(*) FROM ` + from + ` WHERE ` + cond + `)`
}

// feedWalk bounds how many of the newest articles a feed's page looks
// through for its authors before it merges their own lists instead.
const feedWalk = 2000

// feedSource returns the rows of the feed of user, newest first, as a
// subquery l, for page p. Most feeds follow authors who write: their page
// is among the newest articles, found by walking those (at most feedWalk
// of them) and keeping the followed authors'. When that walk does not
// fill the page, the newest rows of each author followed are merged from
// the author's index instead, which costs the authors followed times the
// page's end, whatever the size of the site: a reader who follows only
// quiet authors does not walk the whole table. The walk either finds the
// page's rows in order, and so all of the feed up to them, or the merge
// runs; one statement either way.
func feedSource(args *sqlArgs, user int64, p conduit.Page) string {
	// In the statement's text, as pageBounds writes a page's limit, unless
	// an offset makes it one of many.
	need := strconv.Itoa(max(p.Limit, 0) + 1)
	if p.Offset > 0 {
		need = args.add(max(p.Limit, 0) + 1 + p.Offset)
	}
	followees := `(SELECT followee_id FROM follows WHERE follower_id = ` + args.add(user) + `)`
	walkWindow, dir := keyset(args, "a", p)
	mergeWindow, _ := keyset(args, "a", p)
	order := fmt.Sprintf("created_at %[1]s, id %[1]s", dir)
	return `(WITH walk AS (
			SELECT r.id, r.created_at FROM (
				SELECT a.id, a.created_at, a.author_id FROM articles a WHERE ` + walkWindow + `
				ORDER BY a.` + order + ` LIMIT ` + strconv.Itoa(feedWalk) + `
			) r
			WHERE r.author_id IN ` + followees + `
			ORDER BY r.` + order + ` LIMIT ` + need + `
		)
		SELECT id, created_at FROM walk WHERE (SELECT count(*) FROM walk) >= ` + need + `
		UNION ALL
		SELECT m.id, m.created_at FROM ` + followees + ` fo (followee_id) CROSS JOIN LATERAL (
			SELECT a.id, a.created_at FROM articles a WHERE a.author_id = fo.followee_id AND ` + mergeWindow + `
			ORDER BY a.` + order + ` LIMIT ` + need + `
		) m
		WHERE (SELECT count(*) FROM walk) < ` + need + `
	) l`
}

// pageBounds returns the LIMIT and OFFSET of page p, one row more than p
// asks for. The limit is written in the statement, not sent as a
// parameter, and so is an offset of 0: PostgreSQL plans a parameter's
// LIMIT as a tenth of the table, so the plan it could keep for the
// statement (its generic plan) reads thousands of rows for a page of 20
// (43 ms against 0.8 on the bench's data), and it plans the statement
// anew at each execution instead: 1.1 ms of planning for 0.8 of work. With
// the bounds in the text, the kept plan is the page's own. Page sizes are
// few (conduit.MaxPageSize at most), so are the statements; a deep offset
// stays a parameter, planned per execution, which its walk outweighs.
func pageBounds(args *sqlArgs, p conduit.Page) string {
	bounds := "LIMIT " + strconv.Itoa(max(p.Limit, 0)+1)
	if p.Offset > 0 {
		bounds += " OFFSET " + args.add(p.Offset)
	}
	return bounds
}

// listArticles returns the statement of ListArticles and its arguments.
func listArticles(viewerID int64, f conduit.ArticleFilter, p conduit.Page) (string, []any) {
	columns, args := viewedArticle(viewerID)
	from, cond, createdAt, id := articleSource(&args, f, p)
	window, dir := keysetOn(&args, createdAt, id, p)
	// The page's ids are chosen from an index in the list's order before
	// anything is joined (see articleSource), reading only that index when
	// one filter or none is given: a deep offset costs a walk of the
	// index's entries up to it, and nothing else. The total is an
	// uncorrelated subquery, computed once. One row more than asked for
	// tells whether there are more, even when 0 rows are asked for.
	page := `WITH page AS (
			SELECT ` + id + ` AS id FROM ` + from + ` WHERE ` + cond + ` AND ` + window + `
			ORDER BY ` + createdAt + ` ` + dir + `, ` + id + ` ` + dir + `
			` + pageBounds(&args, p) + `
		)
		SELECT ` + columns + `, ` + articleTotal(&args, f) + ` AS total
		FROM page JOIN articles a ON a.id = page.id JOIN users u ON u.id = a.author_id
		ORDER BY ` + fmt.Sprintf("a.created_at %[1]s, a.id %[1]s", dir)
	return page, args
}

// ListArticles returns one page of the articles matching f, newest first,
// in one statement whatever the page size. Only a page that comes back
// empty after an offset or a cursor costs a second statement, for the total.
func (d *DB) ListArticles(ctx context.Context, viewerID int64, f conduit.ArticleFilter, p conduit.Page) (conduit.ArticlePage, error) {
	limit := max(p.Limit, 0)
	page, args := listArticles(viewerID, f, p)
	rows, _ := d.pool.Query(ctx, page, args...)
	var total int
	found, err := pgx.AppendRows(make([]conduit.Article, 0, limit+1), rows, newArticleScanner(&total).row)
	if err != nil {
		return conduit.ArticlePage{}, d.storeError("list articles", "", err)
	}

	var out conduit.ArticlePage
	switch {
	case len(found) > 0:
		out.Total = total
	case p.Offset > 0 || p.After != nil || p.Before != nil:
		// Past the end of the window: no row came back to carry the total.
		var countArgs sqlArgs
		if err := d.pool.QueryRow(ctx, `SELECT `+articleTotal(&countArgs, f), countArgs...).Scan(&out.Total); err != nil {
			return conduit.ArticlePage{}, d.storeError("count articles", "", err)
		}
	}
	if len(found) > limit {
		out.HasMore = true
		found = found[:limit]
	}
	if p.FromEnd {
		slices.Reverse(found)
	}
	out.Articles = found
	return out, nil
}

// articleBySlug returns the statement of ArticleBySlug and its arguments.
func articleBySlug(viewerID int64, slug string) (string, []any) {
	columns, args := viewedArticle(viewerID)
	return `SELECT ` + columns + articleFrom + ` WHERE a.slug = ` + args.add(slug), args
}

// articlesByID returns the statement of ArticlesByID and its arguments.
func articlesByID(viewerID int64, ids []int64) (string, []any) {
	columns, args := viewedArticle(viewerID)
	return `SELECT ` + columns + articleFrom + ` WHERE a.id = ANY(` + args.add(ids) + `)`, args
}

// ArticleBySlug returns NotFound if no article has the slug.
func (d *DB) ArticleBySlug(ctx context.Context, viewerID int64, slug string) (conduit.Article, error) {
	sql, args := articleBySlug(viewerID, slug)
	rows, _ := d.pool.Query(ctx, sql, args...)
	a, err := pgx.CollectExactlyOneRow(rows, newArticleScanner().row)
	if err != nil {
		return conduit.Article{}, d.storeError("select article", conduit.ThingArticle, err)
	}
	return a, nil
}

// ArticlesByID returns the articles that exist, in any order.
func (d *DB) ArticlesByID(ctx context.Context, viewerID int64, ids []int64) ([]conduit.Article, error) {
	sql, args := articlesByID(viewerID, ids)
	rows, _ := d.pool.Query(ctx, sql, args...)
	found, err := pgx.CollectRows(rows, newArticleScanner().row)
	if err != nil {
		return nil, d.storeError("select articles", "", err)
	}
	return found, nil
}

// articleByID reads article id as viewer sees it, inside a write.
func articleByID(ctx context.Context, q querier, viewerID, id int64) (conduit.Article, error) {
	rows, _ := q.Query(ctx, `SELECT `+articleColumns+articleFrom+` WHERE a.id = $2`, viewerID, id)
	a, err := pgx.CollectExactlyOneRow(rows, newArticleScanner().row)
	if err != nil {
		return conduit.Article{}, fmt.Errorf("select article: %w", err)
	}
	return a, nil
}

// createArticle inserts the article $1..$5 and links it to the tags named
// in $6, creating those that do not exist yet, in one statement, so one
// round trip and one transaction: it writes everything or nothing. It
// returns no row when the slug is taken, having written nothing.
//
// A tag that exists is only read, never locked or written here. A tag
// that a concurrent writer creates while this statement runs is not seen
// by its snapshot, and the insert skips it: then fewer tags are linked than
// named, and retry_write (migration 8) aborts the statement as a
// serialization failure. Running it again is not enough: the aborted
// statement rolls back the tags it created, a writer waiting on one of them
// creates it, and the next run can lose to that writer in turn, as often as
// such hand-offs chain. So CreateArticle then writes in a transaction whose
// first statement creates the tags, waiting for every concurrent creator,
// and whose second, this one, sees them all. Inserting
// with DO UPDATE instead would return the tag, but lock tag rows in name
// order while the counting triggers lock them in id order: two writers of
// new tags would deadlock.
const createArticle = `
	WITH a AS (
		INSERT INTO articles (slug, author_id, title, description, body)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (slug) DO NOTHING
		RETURNING id, slug, title, description, body, created_at, updated_at, author_id
	),
	names AS (SELECT DISTINCT name FROM unnest($6::text[]) AS name),
	known AS (SELECT t.id, t.name FROM tags t JOIN names USING (name)),
	created AS (
		INSERT INTO tags (name)
		SELECT name FROM names WHERE name NOT IN (SELECT name FROM known) AND EXISTS (SELECT FROM a)
		ORDER BY name
		ON CONFLICT (name) DO NOTHING
		RETURNING id, name
	),
	linked AS (
		INSERT INTO article_tags (article_id, tag_id, tag_name, article_created_at)
		SELECT a.id, t.id, t.name, a.created_at FROM a, (SELECT id, name FROM known UNION ALL SELECT id, name FROM created) t
		ORDER BY t.id
		RETURNING tag_id
	)
	SELECT a.id, a.created_at, a.updated_at, u.username, u.bio, u.image,
		CASE WHEN (SELECT count(*) FROM linked) = (SELECT count(*) FROM names) THEN 0
		ELSE retry_write('a tag was created by a concurrent writer') END
	FROM a JOIN users u ON u.id = a.author_id`

// CreateArticle inserts a and links its tags. Returns Conflict on "slug"
// if the slug is taken, having written nothing.
func (d *DB) CreateArticle(ctx context.Context, a conduit.NewArticle) (conduit.Article, error) {
	// The tags as the select would have returned them: distinct, in byte order.
	tags := append([]string{}, a.TagList...)
	slices.Sort(tags)
	tags = slices.Compact(tags)
	created := conduit.Article{
		Slug: a.Slug, Title: a.Title, Description: a.Description, Body: a.Body, TagList: tags,
		// New, so nobody's favorite yet; and its author cannot follow themself.
		Author: conduit.Profile{ID: a.AuthorID},
	}
	insert := func(q querier) error {
		var retry int
		err := q.QueryRow(ctx, createArticle, a.Slug, a.AuthorID, a.Title, a.Description, a.Body, tags).Scan(
			&created.ID, &created.CreatedAt, &created.UpdatedAt,
			&created.Author.Username, &created.Author.Bio, &created.Author.Image, &retry)
		if errors.Is(err, pgx.ErrNoRows) {
			return conduit.TakenError(nil, "slug")
		}
		return err
	}
	err := insert(d.pool)
	if isRetryable(err) {
		// A tag was created meanwhile (or a deadlock was broken): the
		// slow way, which cannot lose to a creator of tags.
		err = d.inTx(ctx, func(tx pgx.Tx) error {
			if err := createTags(ctx, tx, tags); err != nil {
				return err
			}
			return insert(tx)
		})
	}
	return created, d.storeError("insert article", "", err)
}

// createTags creates the tags with the names that do not exist yet. It
// waits for any concurrent transaction creating one of them, so that the
// transaction's next statement sees every tag named. The names go in
// sorted, so that two transactions creating the same tags take their locks
// in the same order and cannot deadlock.
func createTags(ctx context.Context, tx pgx.Tx, names []string) error {
	if _, err := tx.Exec(ctx, `
		INSERT INTO tags (name)
		SELECT DISTINCT name FROM unnest($1::text[]) AS name ORDER BY name
		ON CONFLICT (name) DO NOTHING`, names); err != nil {
		return fmt.Errorf("insert tags: %w", err)
	}
	return nil
}

// linkTags links article id to the tags with the names, creating the tags
// that do not exist yet.
func linkTags(ctx context.Context, tx pgx.Tx, id int64, names []string) error {
	if len(names) == 0 {
		return nil
	}
	// Two statements, because one would not see a tag that a concurrent
	// transaction created while this one waited on it.
	if err := createTags(ctx, tx, names); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO article_tags (article_id, tag_id, tag_name, article_created_at)
		SELECT $1::bigint, id, name, (SELECT created_at FROM articles WHERE id = $1) FROM tags WHERE name = ANY($2)
		ON CONFLICT DO NOTHING`, id, names); err != nil {
		return fmt.Errorf("link tags: %w", err)
	}
	return nil
}

// UpdateArticle applies the set fields of ch to article id, moves UpdatedAt
// and returns the article as viewerID sees it. Returns NotFound, or
// Conflict on "slug" having written nothing.
func (d *DB) UpdateArticle(ctx context.Context, viewerID, id int64, ch conduit.ArticleChanges) (conduit.Article, error) {
	sets := []string{"updated_at = now()"}
	args := sqlArgs{id}
	for _, c := range []struct {
		column string
		value  conduit.Optional[string]
	}{
		{"slug", ch.Slug}, {"title", ch.Title}, {"description", ch.Description}, {"body", ch.Body},
	} {
		if c.value.Set {
			sets = append(sets, c.column+" = "+args.add(c.value.Value))
		}
	}
	var updated conduit.Article
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		if ch.TagList.Set {
			// The article's shard of the total first, as DeleteArticle
			// and CreateArticle take it. The tag counters a retag moves
			// are that shard's, in two statements (the links dropped,
			// then those added), where a delete of another article of
			// the shard moves them in one, in id order: without this,
			// each could hold a counter the other waits for (seen as
			// deadlocks in TestCountersUnderConcurrency). Before the
			// article's row, which a delete locks after the shard.
			if _, err := tx.Exec(ctx, `
				SELECT 1 FROM article_counts
				WHERE scope = 'all' AND key = 0 AND shard = $1 % 16
				FOR UPDATE`, id); err != nil {
				return fmt.Errorf("lock the article's shard: %w", err)
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE articles SET `+strings.Join(sets, ", ")+` WHERE id = $1`, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return conduit.NotFoundError(conduit.ThingArticle, nil)
		}
		if ch.TagList.Set {
			// Every tag the change touches is locked first, in id order, as
			// the triggers that count links lock them: two changes trading
			// tags (one drops what the other adds) then queue instead of
			// each holding the tag the other waits for.
			if _, err := tx.Exec(ctx, `
				SELECT 1 FROM tags
				WHERE id IN (SELECT tag_id FROM article_tags WHERE article_id = $1) OR name = ANY($2)
				ORDER BY id FOR NO KEY UPDATE`, id, ch.TagList.Value); err != nil {
				return fmt.Errorf("lock tags: %w", err)
			}
			if _, err := tx.Exec(ctx, `
				DELETE FROM article_tags
				WHERE article_id = $1 AND tag_id NOT IN (SELECT id FROM tags WHERE name = ANY($2))`,
				id, ch.TagList.Value); err != nil {
				return fmt.Errorf("unlink tags: %w", err)
			}
			if err := linkTags(ctx, tx, id, ch.TagList.Value); err != nil {
				return err
			}
		}
		updated, err = articleByID(ctx, tx, viewerID, id)
		return err
	})
	return updated, d.storeError("update article", "", err)
}

// DeleteArticle deletes article id; its comments, favorites and tag links
// go with it (ON DELETE CASCADE). Returns NotFound.
func (d *DB) DeleteArticle(ctx context.Context, id int64) error {
	// The article's shard of the total is locked before the delete: the
	// cascade's triggers move the tag counters first and the total last,
	// where CreateArticle moves the total first, and two writers of one
	// shard would otherwise each hold what the other waits for. The
	// author's count needs no such lock: its writer counts in a shard that
	// no other writer holds (migration 12), unless 16 writers of the author
	// are open at once; a deadlock then is broken and retried (inTx).
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			WITH locked AS (
				SELECT 1 FROM article_counts c
				WHERE c.scope = 'all' AND c.key = 0 AND c.shard = $1 % 16
				FOR UPDATE
			)
			DELETE FROM articles WHERE id = $1 AND (SELECT count(*) FROM locked) >= 0`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return conduit.NotFoundError(conduit.ThingArticle, nil)
		}
		return nil
	})
	return d.storeError("delete article", "", err)
}

// Favorite marks the article with the slug as a favorite of user and
// returns it as user sees it; doing it twice is not an error. Returns
// NotFound if no article has the slug.
func (d *DB) Favorite(ctx context.Context, userID int64, slug string) (conduit.Article, error) {
	// The count moves by the rows actually inserted, so a repeated favorite
	// counts once; the UPDATE re-reads the row it waited for, so concurrent
	// favorites all count.
	return d.setFavorite(ctx, userID, slug, `
		WITH article AS (SELECT id, created_at FROM articles WHERE slug = $2),
		added AS (
			INSERT INTO favorites (user_id, article_id, article_created_at) SELECT $1::bigint, id, created_at FROM article
			ON CONFLICT DO NOTHING
			RETURNING article_id
		),
		counted AS (
			UPDATE articles SET favorites_count = favorites_count + 1
			WHERE id IN (SELECT article_id FROM added)
		)
		SELECT id FROM article`)
}

// Unfavorite undoes Favorite, idempotently. Returns NotFound.
func (d *DB) Unfavorite(ctx context.Context, userID int64, slug string) (conduit.Article, error) {
	return d.setFavorite(ctx, userID, slug, `
		WITH article AS (SELECT id FROM articles WHERE slug = $2),
		removed AS (
			DELETE FROM favorites WHERE user_id = $1 AND article_id IN (SELECT id FROM article)
			RETURNING article_id
		),
		counted AS (
			UPDATE articles SET favorites_count = favorites_count - 1
			WHERE id IN (SELECT article_id FROM removed)
		)
		SELECT id FROM article`)
}

// setFavorite runs change, which returns the id of the article with the
// slug $2 having favorited or unfavorited it for user $1, and reads the
// article back in a statement of its own, which sees the new count.
func (d *DB) setFavorite(ctx context.Context, userID int64, slug, change string) (conduit.Article, error) {
	var a conduit.Article
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, change, userID, slug).Scan(&id); err != nil {
			return err
		}
		var err error
		a, err = articleByID(ctx, tx, userID, id)
		return err
	})
	return a, d.storeError("set favorite", conduit.ThingArticle, err)
}

// Tags returns every tag in use, most used first, ties alphabetical.
func (d *DB) Tags(ctx context.Context) ([]string, error) {
	// From migration 7's shards, which hold the tags in use only (migration
	// 9) and no row a writer keeps locked for long: up to 16 rows a tag,
	// 0.27 ms a query on the bench's data against 0.12 for
	// tags.article_count, which migration 11 drops with the triggers
	// that kept it, because they locked a tag's row. The service keeps the
	// list it reads (conduit.Config.TagListTTL), so this runs about once a
	// second, not once a request.
	rows, _ := d.pool.Query(ctx, `
		SELECT t.name
		FROM (SELECT key, sum(n) AS n FROM article_counts WHERE scope = 'tag' GROUP BY key) c
		JOIN tags t ON t.id = c.key
		WHERE c.n > 0
		ORDER BY c.n DESC, t.name COLLATE "C"`)
	tags, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, d.storeError("select tags", "", err)
	}
	return tags, nil
}
