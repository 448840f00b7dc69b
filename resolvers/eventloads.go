package resolvers

import (
	"context"
	"sync"

	"github.com/conduit-dev/conduit/conduit"
)

// eventLoadsKept is how many loads of events the handler keeps: those of
// the last few seconds at hundreds of events a second. A subscriber whose
// load was evicted before it came (one that lags that far behind) loads it
// again.
const eventLoadsKept = 4096

// eventLoads shares the loading of an event among the subscribers that
// see it alike: every anonymous subscriber of an article sees a new
// comment the same way, and a viewer subscribed twice sees it twice the
// same way. Without it, an event to N subscribers costs N statements;
// with it, one per distinct viewer. What is shared is only what the
// service returned for that viewer, so the rules stay the service's.
type eventLoads struct {
	mu    sync.Mutex
	calls map[eventLoadKey]*memoCall[any]
	ring  [eventLoadsKept]eventLoadKey
	next  int
}

// eventLoadKey names what one viewer sees of one event's object.
type eventLoadKey struct {
	kind   conduit.EventKind
	id     int64
	viewer int64
}

func newEventLoads() *eventLoads {
	return &eventLoads{calls: make(map[eventLoadKey]*memoCall[any], eventLoadsKept)}
}

// load returns what fetch returns for the viewer of ctx, fetching once per
// event and viewer; callers that come while it runs wait for it. A failed
// fetch is not kept: the next caller tries again.
func (l *eventLoads) load(ctx context.Context, kind conduit.EventKind, id int64, fetch func() (any, error)) (any, error) {
	if l == nil {
		return fetch()
	}
	v, _ := conduit.ViewerFromContext(ctx)
	key := eventLoadKey{kind: kind, id: id, viewer: v.UserID}
	l.mu.Lock()
	c := l.calls[key]
	if c == nil {
		c = new(memoCall[any])
		if old := l.ring[l.next]; old != (eventLoadKey{}) {
			delete(l.calls, old)
		}
		l.ring[l.next] = key
		l.next = (l.next + 1) % eventLoadsKept
		l.calls[key] = c
	}
	l.mu.Unlock()
	c.once.Do(func() { c.value, c.err = fetch() })
	if c.err != nil {
		l.mu.Lock()
		if l.calls[key] == c {
			delete(l.calls, key)
		}
		l.mu.Unlock()
	}
	return c.value, c.err
}
