package resolvers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
)

// batchWait is how long a loader collects keys before it fetches them:
// enough for concurrent resolvers (several node lookups, several root
// fields) to meet in one batch, little enough not to be felt.
const batchWait = 5 * time.Millisecond

// commentPageWait is batchWait for pages of comments. The comments of a
// connection's articles do not depend on it (see commentPageOf): it only
// lets articles outside any list (aliased root fields, node lookups) share
// a statement. Those resolvers start together, so a short wait catches
// most of them, and it keeps the common case, the comments of the one
// article a query names, from idling for the full batchWait.
const commentPageWait = 500 * time.Microsecond

// loaders batch the lookups of one request, so that a page of N articles
// asking for their comments costs one service call, not N, and node
// lookups by id share one call per type. Lists of articles (Articles, Feed)
// come with authors, following, favorited, favoritesCount and tags already
// filled in by the service in one statement, so those fields need no loader.
//
// Each loader is made when first asked for: most requests use none of them.
type loaders struct {
	svc *conduit.Service

	profile     lazyLoader[int64, conduit.Profile]
	article     lazyLoader[int64, conduit.Article]
	comment     lazyLoader[int64, conduit.Comment]
	commentPage lazyLoader[commentPageKey, conduit.CommentPage]

	mu         sync.Mutex
	prefetched map[prefetchKey]*sync.Once

	// The answers of root lookups, kept for the rest of the request: a
	// document may alias one lookup many times, and each alias would
	// otherwise run its own statement.
	viewerMemo   memo[struct{}, *conduit.User]
	tagsMemo     memo[struct{}, []string]
	articlesMemo memo[string, *conduit.Article]
	profilesMemo memo[string, *conduit.Profile]
}

// memo runs a lookup once per key and hands every caller its answer,
// errors included; callers that come while it runs wait for it.
type memo[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*memoCall[V]
}

type memoCall[V any] struct {
	once  sync.Once
	value V
	err   error
}

func (m *memo[K, V]) do(key K, fetch func() (V, error)) (V, error) {
	m.mu.Lock()
	if m.calls == nil {
		m.calls = make(map[K]*memoCall[V])
	}
	c := m.calls[key]
	if c == nil {
		c = new(memoCall[V])
		m.calls[key] = c
	}
	m.mu.Unlock()
	c.once.Do(func() { c.value, c.err = fetch() })
	return c.value, c.err
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

// articleBySlug returns the article with the slug, or nil, looked up once per
// slug and request.
func (l *loaders) articleBySlug(ctx context.Context, slug string) (*conduit.Article, error) {
	return l.articlesMemo.do(slug, func() (*conduit.Article, error) { return orNull(l.svc.Article(ctx, slug)) })
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

func (l *loaders) commentPageLoader() *dataloadgen.Loader[commentPageKey, conduit.CommentPage] {
	return l.commentPage.get(func() *dataloadgen.Loader[commentPageKey, conduit.CommentPage] {
		svc := l.svc
		return dataloadgen.NewMappedLoader(func(ctx context.Context, keys []commentPageKey) (map[commentPageKey]conduit.CommentPage, error) {
			return commentPages(ctx, svc, keys)
		}, dataloadgen.WithWait(commentPageWait))
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

// commentPageKey asks for one page of the comments of one article. Keys
// with the same page are fetched together.
type commentPageKey struct {
	articleID int64
	page      pageKey
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

func newCommentPageKey(articleID int64, p conduit.Page) commentPageKey {
	return commentPageKey{articleID: articleID, page: pageKey{
		limit: p.Limit, fromEnd: p.FromEnd, after: newCursorKey(p.After), before: newCursorKey(p.Before),
	}}
}

func newCursorKey(c *conduit.Cursor) cursorKey {
	if c == nil {
		return cursorKey{}
	}
	return cursorKey{set: true, at: c.CreatedAt.UnixNano(), id: c.ID}
}

func (k pageKey) page() conduit.Page {
	return conduit.Page{Limit: k.limit, FromEnd: k.fromEnd, After: k.after.cursor(), Before: k.before.cursor()}
}

func (k cursorKey) cursor() *conduit.Cursor {
	if !k.set {
		return nil
	}
	return &conduit.Cursor{CreatedAt: time.Unix(0, k.at).UTC(), ID: k.id}
}

// commentPages fetches the pages the keys ask for with one service call per
// distinct page (usually one for the whole batch).
func commentPages(ctx context.Context, svc *conduit.Service, keys []commentPageKey) (map[commentPageKey]conduit.CommentPage, error) {
	ids := make(map[pageKey][]int64)
	var order []pageKey
	for _, k := range keys {
		if _, ok := ids[k.page]; !ok {
			order = append(order, k.page)
		}
		ids[k.page] = append(ids[k.page], k.articleID)
	}
	out := make(map[commentPageKey]conduit.CommentPage, len(keys))
	failed := dataloadgen.MappedFetchError[commentPageKey]{}
	for _, pk := range order {
		pages, err := svc.CommentPages(ctx, ids[pk], pk.page())
		for i, id := range ids[pk] {
			key := commentPageKey{articleID: id, page: pk}
			switch {
			case err != nil:
				failed[key] = err
			case i < len(pages):
				out[key] = pages[i]
			}
		}
	}
	if len(failed) > 0 {
		return out, failed
	}
	return out, nil
}

// commentPageOf returns page p of the comments of article a. When a is one
// of the articles of a connection, whichever of their resolvers asks first
// fetches the pages of all of them with one service call and primes the
// loader with them: the resolvers of a list run concurrently, and a batch
// collected by waiting for them splits in two whenever the scheduler is
// slow to start one, which would make the cost of a page depend on luck.
// When a is the only article the operation can be asking about at this
// point (see alone), there is nothing to wait for, and its page is fetched
// the same way, at once. Otherwise the loader batches it.
func (l *loaders) commentPageOf(ctx context.Context, a *conduit.Article, p conduit.Page) (conduit.CommentPage, error) {
	if list := siblingArticles(ctx); len(list) > 1 {
		l.prefetchCommentPages(ctx, list, p)
	} else if alone(ctx) {
		l.prefetchCommentPages(ctx, []*conduit.Article{a}, p)
	}
	return l.commentPageLoader().Load(ctx, newCommentPageKey(a.ID, p))
}

// alone tells whether the current field belongs to an object that no other
// resolver can be fetching a different article's comments alongside: the
// operation has a single root field, and nothing between it and the
// current field is an element of a list. An object field of the schema
// that is an Article (Query.article, Query.node, Comment.article, the
// payloads' article) holds one article, so every concurrent request for a
// page of comments outside lists is then for this same article, which the
// prefetch (once per article and page) and the loader's cache share.
func alone(ctx context.Context) bool {
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil || len(op.SelectionSet) != 1 {
		return false
	}
	if _, ok := op.SelectionSet[0].(*ast.Field); !ok {
		return false
	}
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if fc.Index != nil {
			return false
		}
	}
	return true
}

// prefetchKey names one page of comments for every article of one list;
// a list is known by its first article (an article alone is a list of one).
type prefetchKey struct {
	list *conduit.Article
	page pageKey
}

// prefetchCommentPages primes the comment page loader with page p of each
// article of list, once per list and page. On failure it primes nothing:
// the loads that follow fetch again and report the error.
func (l *loaders) prefetchCommentPages(ctx context.Context, list []*conduit.Article, p conduit.Page) {
	key := prefetchKey{list: list[0], page: newCommentPageKey(0, p).page}
	l.mu.Lock()
	if l.prefetched == nil {
		l.prefetched = map[prefetchKey]*sync.Once{}
	}
	once := l.prefetched[key]
	if once == nil {
		once = new(sync.Once)
		l.prefetched[key] = once
	}
	l.mu.Unlock()
	once.Do(func() {
		ids := make([]int64, len(list))
		for i, a := range list {
			ids[i] = a.ID
		}
		pages, err := l.svc.CommentPages(ctx, ids, p)
		if err != nil || len(pages) != len(ids) {
			return
		}
		loader := l.commentPageLoader()
		for i, id := range ids {
			loader.Prime(newCommentPageKey(id, p), pages[i])
		}
	})
}

// siblingArticles returns the articles of the connection whose nodes or
// edges hold the article the current field belongs to, or nil when it
// belongs to no list of articles. The executor records each field's result
// on its context: the list is found two levels up from a field of an
// element of nodes, three from one of edges { node }.
func siblingArticles(ctx context.Context) []*conduit.Article {
	fc := graphql.GetFieldContext(ctx)
	for i, p := 0, fc.Parent; i < 3 && p != nil; i, p = i+1, p.Parent {
		switch list := p.Result.(type) {
		case []*conduit.Article:
			return list
		case []*graph.ArticleEdge:
			nodes := make([]*conduit.Article, len(list))
			for j, e := range list {
				nodes[j] = e.Node
			}
			return nodes
		}
	}
	return nil
}

type loadersKey struct{}

// loadersFor returns the loaders of the request ctx belongs to.
func loadersFor(ctx context.Context) *loaders {
	return ctx.Value(loadersKey{}).(*loaders)
}

func withLoaders(ctx context.Context, l *loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

// loaderMiddleware gives every request its own set of loaders.
func loaderMiddleware(svc *conduit.Service) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(withLoaders(r.Context(), newLoaders(svc))))
		})
	}
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
