package conduit

import (
	"context"
	"slices"
	"sync"
	"time"
)

// DefaultTagListTTL is Config.TagListTTL's default.
const DefaultTagListTTL = time.Second

// tagList keeps the list of tags in use that the store last returned, so
// that the tag list, on every home page of a RealWorld frontend, costs no
// statement per request. A write of this replica that can change the list
// (an article created, edited or deleted) forgets it at once, so whoever
// wrote reads what they wrote; a write of another replica is seen within
// the TTL, or at once when the event listener reports it (forget).
//
// Concurrent requests that find the list missing or old share one read of
// the store: at 64 connections, a forgotten list costs one statement, not
// 64. Written here rather than with golang.org/x/sync/singleflight because
// a read that started before a write must not answer a request that came
// after it: the generation check below is what singleflight lacks.
type tagList struct {
	store Store
	ttl   time.Duration
	now   func() time.Time

	mu sync.Mutex
	// gen counts the forgets; tags were read at readAt when gen was
	// readGen, and are good while the two are equal and the TTL lasts.
	gen, readGen uint64
	tags         []string
	readAt       time.Time
	fresh        bool
	// reading is the read under way, if any.
	reading *tagRead
}

// tagRead is one read of the store that requests share: it began when the
// generation was gen, and its result is set before done is closed.
type tagRead struct {
	gen     uint64
	done    chan struct{}
	tags    []string
	err     error
	waiters int // requests that joined it, for tests (export_test.go)
}

func newTagList(store Store, ttl time.Duration) *tagList {
	return &tagList{store: store, ttl: ttl, now: time.Now}
}

// get returns the tags in use, read anew if the list was forgotten, is
// older than the TTL, or was never read. The slice is the caller's.
//
// A request is answered by any read that began once every forget it could
// have seen had happened (a read of generation want or later): a forget
// that comes while it waits is a write concurrent with the request, which
// it may or may not see. So a request waits for two reads at most, however
// fast the writes come; one that waited for whatever newer read came next
// could wait for ever under a steady stream of writes.
func (l *tagList) get(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	want := l.gen
	for {
		if l.fresh && l.readGen == l.gen && l.now().Sub(l.readAt) < l.ttl {
			tags := slices.Clone(l.tags)
			l.mu.Unlock()
			return tags, nil
		}
		r := l.reading
		if r == nil {
			r = &tagRead{gen: l.gen, done: make(chan struct{})}
			l.reading = r
			l.mu.Unlock()
			l.read(ctx, r)
			return slices.Clone(r.tags), r.err
		}
		r.waiters++
		l.mu.Unlock()
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// A read that failed may have failed for its own request's reason
		// (that request gone): this one reads for itself.
		if r.gen >= want && r.err == nil {
			return slices.Clone(r.tags), nil
		}
		l.mu.Lock()
	}
}

// read reads the list from the store for get, keeps it unless a forget
// came while it read, and wakes the requests that wait for it.
func (l *tagList) read(ctx context.Context, r *tagRead) {
	readAt := l.now()
	r.tags, r.err = l.store.Tags(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reading = nil
	close(r.done)
	if r.err == nil && l.gen == r.gen {
		l.tags, l.readGen, l.readAt, l.fresh = r.tags, r.gen, readAt, true
	}
}

// forget makes the next get read the list from the store.
func (l *tagList) forget() {
	l.mu.Lock()
	l.gen++
	l.mu.Unlock()
}
