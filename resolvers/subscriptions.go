package resolvers

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conduit-dev/conduit/conduit"
)

// commentAdded, commentDeleted and articlePublished are the subscription
// resolvers: the service checks who may subscribe to what, and each event
// is loaded through it as the subscriber may see it.
func (r *subscriptionResolver) commentAdded(ctx context.Context, slug string) (<-chan *conduit.Comment, error) {
	sub, err := r.Service.SubscribeComments(ctx, slug)
	if err != nil {
		return nil, err
	}
	return pump(ctx, sub, func(ctx context.Context, e conduit.Event) (*conduit.Comment, bool, error) {
		if e.Kind != conduit.CommentAdded {
			return nil, false, nil
		}
		// As the subscriber sees it; gone already if it was deleted since.
		return loadShared(ctx, r.loads, e.Kind, e.CommentID, r.Service.CommentsByID)
	}), nil
}

func (r *subscriptionResolver) commentDeleted(ctx context.Context, slug string) (<-chan string, error) {
	sub, err := r.Service.SubscribeComments(ctx, slug)
	if err != nil {
		return nil, err
	}
	return pump(ctx, sub, func(ctx context.Context, e conduit.Event) (string, bool, error) {
		return globalID(commentType, e.CommentID), e.Kind == conduit.CommentDeleted, nil
	}), nil
}

func (r *subscriptionResolver) articlePublished(ctx context.Context) (<-chan *conduit.Article, error) {
	sub, err := r.Service.SubscribeArticles(ctx)
	if err != nil {
		return nil, err
	}
	return pump(ctx, sub, func(ctx context.Context, e conduit.Event) (*conduit.Article, bool, error) {
		if e.Kind != conduit.ArticlePublished {
			return nil, false, nil
		}
		return loadShared(ctx, r.loads, e.Kind, e.ArticleID, r.Service.ArticlesByID)
	}), nil
}

// loadShared loads the thing an event names, with id, through byID (a
// service lookup as the viewer of ctx may see it), sharing the load with
// the other subscribers who see it alike. It says whether there is
// anything to send: nothing when the thing is gone.
func loadShared[T any](ctx context.Context, loads *eventLoads, kind conduit.EventKind, id int64, byID func(context.Context, []int64) ([]T, error)) (*T, bool, error) {
	v, err := loads.load(ctx, kind, id, func() (any, error) {
		found, err := byID(ctx, []int64{id})
		if err != nil || len(found) == 0 {
			return (*T)(nil), err
		}
		return &found[0], nil
	})
	t, _ := v.(*T)
	return t, t != nil, err
}

// pump turns the events of sub into the values of a subscription field:
// each event is loaded as the subscriber may see it (load says whether
// there is anything to send) and handed to the executor, one at a time.
// The channel is unbuffered: the hub's buffer is the only queue, so a
// subscriber that does not keep up is ended there (conduit.ErrTooSlow).
// Why the subscription ended is recorded for subscriptionEnds to tell the
// client.
func pump[T any](ctx context.Context, sub *conduit.Subscription, load func(context.Context, conduit.Event) (T, bool, error)) <-chan T {
	out := make(chan T)
	end := streamEndFrom(ctx)
	var expired <-chan struct{}
	if c := streamFrom(ctx); c != nil {
		expired = c.expired
	}
	go func() {
		defer close(out)
		for {
			var e conduit.Event
			var ok bool
			select {
			case e, ok = <-sub.Events():
				if !ok {
					end.set(sub.Err())
					return
				}
			case <-expired:
				end.set(errTokenExpired)
				return
			case <-ctx.Done():
				return
			}
			v, send, err := load(ctx, e)
			if err != nil {
				end.set(err)
				return
			}
			if !send {
				continue
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// streamEnd records why a subscription ended, once.
type streamEnd struct {
	mu       sync.Mutex
	err      error
	reported bool
}

type streamEndKey struct{}

func streamEndFrom(ctx context.Context) *streamEnd {
	e, _ := ctx.Value(streamEndKey{}).(*streamEnd)
	if e == nil {
		return &streamEnd{} // outside subscriptionEnds: recorded for no one
	}
	return e
}

func (e *streamEnd) set(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

// reason returns why the stream ended, nil if it has not (or for none).
// The stream's goroutine may still be setting it when the operation ends
// for another reason (the client stopped it), so it is read under the lock.
func (e *streamEnd) reason() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// take returns the reason the first time it is asked for after the end.
func (e *streamEnd) take() (error, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.reported {
		return nil, true
	}
	e.reported = true
	return e.err, false
}

// subscriptionEnds is the extension that runs subscriptions: it bounds
// how many one connection runs, gives each event fresh loaders (what they
// cached for one event may be stale by the next), and each other
// operation its own, and turns the end of a subscription into what the
// client should hear: an error response with the reason (token expired,
// too slow, shutting down), and, when the reason ends the connection too,
// its close with the matching code.
type subscriptionEnds struct {
	svc     *conduit.Service
	max     int
	present graphql.ErrorPresenterFunc
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = subscriptionEnds{}

func newSubscriptionEnds(svc *conduit.Service, logger *slog.Logger, maxPerConnection int) subscriptionEnds {
	return subscriptionEnds{svc: svc, max: maxPerConnection, present: presentError(logger)}
}

func (subscriptionEnds) ExtensionName() string                   { return "SubscriptionEnds" }
func (subscriptionEnds) Validate(graphql.ExecutableSchema) error { return nil }
func isSubscription(oc *graphql.OperationContext) bool {
	return oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Subscription
}
func (x subscriptionEnds) errorResponse(ctx context.Context, err error) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{x.present(ctx, err)}}
}

func (x subscriptionEnds) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	c := streamFrom(ctx)
	if c == nil || !graphql.HasOperationContext(ctx) || !isSubscription(graphql.GetOperationContext(ctx)) {
		// A query or mutation, over GET, POST, a WebSocket or SSE: loaders
		// of its own. Given here rather than by a middleware around the
		// handler, which would copy the request once more (a few hundred
		// bytes each time); on a streaming connection, the connection's
		// would serve every operation of a long-lived connection from one
		// cache.
		return next(withLoaders(ctx, newLoaders(x.svc)))
	}
	if !c.startSubscription() {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message:    fmt.Sprintf("this connection runs as many subscriptions as it may (%d); stop one or open another connection", x.max),
			Extensions: map[string]any{"code": "TOO_MANY_SUBSCRIPTIONS"},
		}}})
	}
	end := &streamEnd{}
	responses := next(context.WithValue(ctx, streamEndKey{}, end))
	var once sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if resp == nil {
			once.Do(func() {
				c.endSubscription()
				if code, reason, ok := closeFor(end.reason()); ok {
					c.end(code, reason)
				}
			})
		}
		return resp
	}
}

func (x subscriptionEnds) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	end, _ := ctx.Value(streamEndKey{}).(*streamEnd)
	if end == nil {
		return next(ctx)
	}
	resp := next(withLoaders(ctx, newLoaders(x.svc)))
	if resp != nil {
		return resp
	}
	if err, done := end.take(); !done && err != nil {
		return x.errorResponse(ctx, err)
	}
	return nil
}
