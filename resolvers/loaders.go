package resolvers

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"

	"github.com/conduit-dev/conduit/conduit"
)

// batchWait is how long a loader collects keys before it fetches them. The
// resolvers of one list run concurrently and ask within microseconds of each
// other; the wait only has to cover that.
const batchWait = 5 * time.Millisecond

// loaders batch the lookups of one request, so that a page of N articles
// asking for their comments costs one service call, not N. Lists of
// articles (Articles, Feed) come with authors, following, favorited,
// favoritesCount and tags already filled in by the service in one
// statement, so those fields need no loader.
type loaders struct {
	profile     *dataloadgen.Loader[int64, conduit.Profile]
	article     *dataloadgen.Loader[int64, conduit.Article]
	comment     *dataloadgen.Loader[int64, conduit.Comment]
	commentPage *dataloadgen.Loader[commentPageKey, conduit.CommentPage]
}

// newLoaders returns a fresh set of loaders over svc. Each loader caches
// what it fetched, so a set must not outlive the request (or, for a
// mutation, the mutation) it was made for.
func newLoaders(svc *conduit.Service) *loaders {
	wait := dataloadgen.WithWait(batchWait)
	return &loaders{
		profile: dataloadgen.NewMappedLoader(byID(svc.ProfilesByID, func(p conduit.Profile) int64 { return p.ID }), wait),
		article: dataloadgen.NewMappedLoader(byID(svc.ArticlesByID, func(a conduit.Article) int64 { return a.ID }), wait),
		comment: dataloadgen.NewMappedLoader(byID(svc.CommentsByID, func(c conduit.Comment) int64 { return c.ID }), wait),
		commentPage: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []commentPageKey) (map[commentPageKey]conduit.CommentPage, error) {
			return commentPages(ctx, svc, keys)
		}, wait),
	}
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
