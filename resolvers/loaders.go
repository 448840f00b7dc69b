package resolvers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"

	"github.com/conduit-dev/conduit/conduit"
)

// batchWait is how long a loader collects keys before it fetches them:
// enough for concurrent resolvers (several node lookups, several root
// fields) to meet in one batch, little enough not to be felt.
const batchWait = 5 * time.Millisecond

// loaders batch the lookups of one request, so that node lookups by id share
// one call per type. Lists of articles (Articles, Feed) come with authors,
// following, favorited, favoritesCount and tags already filled in by the
// service in one statement, so those fields need no loader, and the pages
// of comments of a list's articles come together through gqlgen's batch
// resolvers (see commentPages).
//
// Each loader is made when first asked for: most requests use none of them.
type loaders struct {
	svc *conduit.Service

	profile lazyLoader[int64, conduit.Profile]
	article lazyLoader[int64, conduit.Article]
	comment lazyLoader[int64, conduit.Comment]

	// The lists of articles whose comments are fetched together (see
	// articleList): by the address of each article, and lone articles by id.
	mu    sync.Mutex
	lists map[*conduit.Article]listEntry
	lone  map[int64]*articleList

	// The answers of root lookups, kept for the rest of the request: a
	// document may alias one lookup many times, and each alias would
	// otherwise run its own statement.
	viewerMemo   memo[struct{}, *conduit.User]
	tagsMemo     memo[struct{}, []string]
	articlesMemo memo[articleKey, *conduit.Article]
	profilesMemo memo[string, *conduit.Profile]
}

// memo runs a lookup once per key and hands every caller its answer,
// errors included; callers that come while it runs wait for it.
type memo[K comparable, V any] struct {
	mu sync.Mutex
	// The first key asked for is kept beside the map, which is made for a
	// second key only: most requests ask one, and a map of one article's
	// key was most of what a request's memo allocated (about 900 bytes).
	firstKey K
	first    *memoCall[V]
	calls    map[K]*memoCall[V]
}

type memoCall[V any] struct {
	once  sync.Once
	value V
	err   error
}

// call returns the call of key, and whether it was made just now; m.mu
// must be held.
func (m *memo[K, V]) call(key K) (c *memoCall[V], made bool) {
	switch {
	case m.first == nil:
		m.firstKey, m.first = key, new(memoCall[V])
		return m.first, true
	case m.firstKey == key:
		return m.first, false
	}
	if c := m.calls[key]; c != nil {
		return c, false
	}
	if m.calls == nil {
		m.calls = make(map[K]*memoCall[V])
	}
	c = new(memoCall[V])
	m.calls[key] = c
	return c, true
}

func (m *memo[K, V]) do(key K, fetch func() (V, error)) (V, error) {
	m.mu.Lock()
	c, _ := m.call(key)
	m.mu.Unlock()
	c.once.Do(func() { c.value, c.err = fetch() })
	return c.value, c.err
}

// prime makes value the answer for key, unless key was asked for already.
func (m *memo[K, V]) prime(key K, value V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, made := m.call(key); made {
		c.value = value
		c.once.Do(func() {})
	}
}

// viewer returns the viewer's account (nil when anonymous), looked up once
// per request.
func (l *loaders) viewer(ctx context.Context) (*conduit.User, error) {
	return l.viewerMemo.do(struct{}{}, func() (*conduit.User, error) { return l.svc.OptionalViewer(ctx) })
}

// tags returns every tag in use, looked up once per request.
func (l *loaders) tags(ctx context.Context) ([]string, error) {
	return l.tagsMemo.do(struct{}{}, func() ([]string, error) { return l.svc.Tags(ctx) })
}

// articleKey is what an article looked up by slug was fetched with: alone,
// with one page of its comments, or as no more than its id with that page.
type articleKey struct {
	slug     string
	comments bool
	lean     bool
	page     pageKey
}

// articleBySlug returns the article with the slug, or nil, looked up once per
// slug, page of comments and request. When the selection of the field of
// ctx asks for one page of the article's comments (see commentsAhead), the
// article comes with that page in one statement, and the page is kept
// where Article.comments will look for it (see primeComments): the
// statements are those of the legacy surface, one for an article and its
// comments. When the selection asks for nothing else of the article, that
// statement reads the comments alone, as the legacy surface's does, and
// the article is its id and slug: enough for every field selected.
// Aliases that ask for the same article with different pages, or with
// more of it, get each their own article, with its own page.
func (l *loaders) articleBySlug(ctx context.Context, slug string) (*conduit.Article, error) {
	p, lean, ok := commentsAhead(ctx)
	if !ok {
		return l.articlesMemo.do(articleKey{slug: slug}, func() (*conduit.Article, error) { return orNull(l.svc.Article(ctx, slug)) })
	}
	return l.articlesMemo.do(articleKey{slug: slug, comments: true, lean: lean, page: newPageKey(p)}, func() (*conduit.Article, error) {
		var a conduit.Article
		var page conduit.CommentPage
		var err error
		if lean {
			page, err = l.svc.CommentPageBySlug(ctx, slug, p)
			a = conduit.Article{ID: page.ArticleID, Slug: slug}
		} else {
			a, page, err = l.svc.ArticleWithComments(ctx, slug, p)
		}
		if conduit.ErrorCode(err) == conduit.Invalid {
			// The page's error, which belongs to the comments field: it
			// gets it by asking for the page itself.
			return orNull(l.svc.Article(ctx, slug))
		}
		article, err := orNull(a, err)
		if article != nil {
			l.primeComments(article, p, page)
		}
		return article, err
	})
}

// primeComments makes page the answer of page p of the comments of a, an
// article no list holds yet, so that Article.comments finds it without a
// statement. a is a list of its own, not the lone list of its id: another
// way to the same article (node, a comment's article) may have asked for
// its comments already, and sharing would make what it costs depend on
// which of the two ran first.
func (l *loaders) primeComments(a *conduit.Article, p conduit.Page, page conduit.CommentPage) {
	list := &articleList{ids: []int64{a.ID}}
	list.pages.prime(newPageKey(p), []conduit.CommentPage{page})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.initLists(1)
	if _, ok := l.lists[a]; !ok {
		l.lists[a] = listEntry{list: list}
	}
}

// profileByUsername returns the profile of the user with the username, or nil,
// looked up once per username and request.
func (l *loaders) profileByUsername(ctx context.Context, username string) (*conduit.Profile, error) {
	return l.profilesMemo.do(username, func() (*conduit.Profile, error) { return orNull(l.svc.Profile(ctx, username)) })
}

// lazyLoader is a dataloader made on first use.
type lazyLoader[K comparable, V any] struct {
	once   sync.Once
	loader *dataloadgen.Loader[K, V]
}

// get returns the loader, made by newLoader the first time.
func (l *lazyLoader[K, V]) get(newLoader func() *dataloadgen.Loader[K, V]) *dataloadgen.Loader[K, V] {
	l.once.Do(func() { l.loader = newLoader() })
	return l.loader
}

// newLoaders returns a fresh set of loaders over svc. Each loader caches
// what it fetched, so a set must not outlive the request (or, for a
// mutation, the mutation) it was made for.
func newLoaders(svc *conduit.Service) *loaders {
	return &loaders{svc: svc}
}

func (l *loaders) profileLoader() *dataloadgen.Loader[int64, conduit.Profile] {
	return l.profile.get(func() *dataloadgen.Loader[int64, conduit.Profile] {
		return dataloadgen.NewMappedLoader(byID(l.svc.ProfilesByID, func(p conduit.Profile) int64 { return p.ID }), dataloadgen.WithWait(batchWait))
	})
}

func (l *loaders) articleLoader() *dataloadgen.Loader[int64, conduit.Article] {
	return l.article.get(func() *dataloadgen.Loader[int64, conduit.Article] {
		return dataloadgen.NewMappedLoader(byID(l.svc.ArticlesByID, func(a conduit.Article) int64 { return a.ID }), dataloadgen.WithWait(batchWait))
	})
}

func (l *loaders) commentLoader() *dataloadgen.Loader[int64, conduit.Comment] {
	return l.comment.get(func() *dataloadgen.Loader[int64, conduit.Comment] {
		return dataloadgen.NewMappedLoader(byID(l.svc.CommentsByID, func(c conduit.Comment) int64 { return c.ID }), dataloadgen.WithWait(batchWait))
	})
}

// byID makes the fetch function of a loader from a service method that
// returns the things with the ids, in any order, leaving out missing ones
// (the loader reports those as dataloadgen.ErrNotFound).
func byID[T any](fetch func(context.Context, []int64) ([]T, error), id func(T) int64) func(context.Context, []int64) (map[int64]T, error) {
	return func(ctx context.Context, ids []int64) (map[int64]T, error) {
		items, err := fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		m := make(map[int64]T, len(items))
		for _, it := range items {
			m[id(it)] = it
		}
		return m, nil
	}
}

// pageKey is a conduit.Page in a comparable form (no pointers).
type pageKey struct {
	limit         int
	fromEnd       bool
	after, before cursorKey
}

type cursorKey struct {
	set bool
	at  int64 // Unix nanoseconds
	id  int64
}

func newPageKey(p conduit.Page) pageKey {
	return pageKey{limit: p.Limit, fromEnd: p.FromEnd, after: newCursorKey(p.After), before: newCursorKey(p.Before)}
}

func newCursorKey(c *conduit.Cursor) cursorKey {
	if c == nil {
		return cursorKey{}
	}
	return cursorKey{set: true, at: c.CreatedAt.UnixNano(), id: c.ID}
}

// commentPages returns page p of the comments of each of articles, in
// order, fetched with one service call for the list they belong to (see
// articleList).
func (l *loaders) commentPages(ctx context.Context, articles []*conduit.Article, p conduit.Page) ([]conduit.CommentPage, error) {
	list, at := l.listOf(articles)
	pages, err := list.pages.do(newPageKey(p), func() ([]conduit.CommentPage, error) {
		return l.svc.CommentPages(ctx, list.ids, p)
	})
	if err != nil {
		return nil, err
	}
	if len(pages) != len(list.ids) {
		return nil, fmt.Errorf("comment pages: %d pages for %d articles", len(pages), len(list.ids))
	}
	return pages[at : at+len(articles)], nil
}

// articleList is articles whose pages of comments are fetched together,
// with one service call per page, by whichever of them asks first.
//
// Article.comments is a batch resolver, so gqlgen hands it all the
// articles of a list at once: they are one articleList. But gqlgen batches
// a field over the elements of a list only, and under edges { node } each
// article is the one child of its edge, so Article.comments gets those one
// at a time. ArticleEdge.node is a batch resolver too, for that reason: it
// sees every edge at once and records their articles as one list, and each
// of them then finds its list here by its address. Waiting for the edges'
// articles to come in instead would split the batch whenever the scheduler
// is slow to start one, and a page would cost more by luck.
//
// An article is served by the first list it was recorded in, so that the
// nodes and the edges of one connection, and aliases of either, share
// their statements. An article of Query.article that came with its page
// of comments is a list of its own (see primeComments). Any other article
// no list holds (Query.article, Query.node, Comment.article, a payload's
// article) is a list of its own, one per article id: nothing tells its resolver whether another such article is
// on its way, so two of them cost two statements, always, and the one
// article a query names does not wait for a batch window.
type articleList struct {
	ids   []int64
	pages memo[pageKey, []conduit.CommentPage]
}

// listEntry places an article in its articleList.
type listEntry struct {
	list  *articleList
	index int
}

// holds tells whether articles are those of e's list from e's place on.
func (e listEntry) holds(articles []*conduit.Article) bool {
	if e.index+len(articles) > len(e.list.ids) {
		return false
	}
	for i, a := range articles {
		if e.list.ids[e.index+i] != a.ID {
			return false
		}
	}
	return true
}

// listOf returns the list that serves articles, the articles of one list
// or one article, and where in it they start. Articles seen for the first
// time become a new list (a lone one shares the list of its id).
func (l *loaders) listOf(articles []*conduit.Article) (*articleList, int) {
	if len(articles) == 0 {
		return &articleList{}, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.lists[articles[0]]; ok && e.holds(articles) {
		return e.list, e.index
	}
	l.initLists(len(articles))
	var list *articleList
	if len(articles) == 1 {
		list = l.lone[articles[0].ID]
	}
	if list == nil {
		list = &articleList{ids: make([]int64, len(articles))}
		for i, a := range articles {
			list.ids[i] = a.ID
		}
		if len(articles) == 1 {
			l.lone[articles[0].ID] = list
		}
	}
	for i, a := range articles {
		if _, ok := l.lists[a]; !ok {
			l.lists[a] = listEntry{list: list, index: i}
		}
	}
	return list, 0
}

// initLists makes the maps of lists, with room for n articles; l.mu is held.
func (l *loaders) initLists(n int) {
	if l.lists == nil {
		l.lists = make(map[*conduit.Article]listEntry, n)
		l.lone = make(map[int64]*articleList)
	}
}

type loadersKey struct{}

// loadersFor returns the loaders of the request ctx belongs to.
func loadersFor(ctx context.Context) *loaders {
	return ctx.Value(loadersKey{}).(*loaders)
}

func withLoaders(ctx context.Context, l *loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

// freshLoadersPerMutation gives each root field of a mutation its own set of
// loaders: mutations run one after the other, and what a loader cached
// before one of them may be stale after it.
func freshLoadersPerMutation(svc *conduit.Service) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Mutation {
			ctx = withLoaders(ctx, newLoaders(svc))
		}
		return next(ctx)
	}
}
