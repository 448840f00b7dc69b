package web

import (
	"sync"
	"time"

	"github.com/go-chi/httprate"
)

// Throttle counts attempts per key in a sliding window, as httprate does
// for whole requests, but for the service to call once per attempt: a
// GraphQL request that tries four logins makes four attempts. Counts are
// kept in this process, so with several replicas each allows its own
// limit (a client spread over N replicas gets N times the limit).
type Throttle struct {
	limit   int
	window  time.Duration
	now     func() time.Time
	mu      sync.Mutex
	counter httprate.LimitCounter
}

// NewThrottle returns a Throttle that allows limit attempts per key in
// any window of the given length.
func NewThrottle(limit int, window time.Duration) *Throttle {
	return &Throttle{limit: limit, window: window, now: time.Now, counter: httprate.NewLocalLimitCounter(window)}
}

// Allow counts an attempt under key. It reports whether the attempt is
// within the limit, and, when it is not, how long until one would be. A
// refused attempt does not count, so a client that waits gets through.
func (t *Throttle) Allow(key string) (bool, time.Duration) {
	now := t.now().UTC()
	current := now.Truncate(t.window)
	previous := current.Add(-t.window)
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, prev, _ := t.counter.Get(key, current, previous) // the local counter never fails
	// The previous window counts for the part of it that is still within
	// one window of now: httprate's sliding estimate.
	elapsed := now.Sub(current)
	rate := float64(prev)*float64(t.window-elapsed)/float64(t.window) + float64(cur)
	if rate+1 > float64(t.limit) {
		return false, t.window - elapsed
	}
	_ = t.counter.IncrementBy(key, current, 1)
	return true, 0
}
