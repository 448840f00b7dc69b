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
	// reading is closed when the read under way, if any, ends.
	reading chan struct{}
}

func newTagList(store Store, ttl time.Duration) *tagList {
	return &tagList{store: store, ttl: ttl, now: time.Now}
}

// get returns the tags in use, read anew if the list was forgotten, is
// older than the TTL, or was never read. The slice is the caller's.
func (l *tagList) get(ctx context.Context) ([]string, error) {
	for {
		l.mu.Lock()
		if l.fresh && l.readGen == l.gen && l.now().Sub(l.readAt) < l.ttl {
			tags := slices.Clone(l.tags)
			l.mu.Unlock()
			return tags, nil
		}
		if wait := l.reading; wait != nil {
			// Another request is reading: wait for it, then look again,
			// since what it read may predate a forget that came since.
			l.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		gen, done := l.gen, make(chan struct{})
		l.reading = done
		l.mu.Unlock()
		return l.read(ctx, gen, done)
	}
}

// read reads the list from the store for get, as of generation gen, and
// keeps it unless a forget came while it read; then it wakes the waiters.
func (l *tagList) read(ctx context.Context, gen uint64, done chan struct{}) ([]string, error) {
	readAt := l.now()
	tags, err := l.store.Tags(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reading = nil
	close(done)
	if err != nil {
		return nil, err
	}
	if l.gen == gen {
		l.tags, l.readGen, l.readAt, l.fresh = tags, gen, readAt, true
	}
	return slices.Clone(tags), nil
}

// forget makes the next get read the list from the store.
func (l *tagList) forget() {
	l.mu.Lock()
	l.gen++
	l.mu.Unlock()
}
