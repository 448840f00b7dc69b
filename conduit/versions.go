package conduit

import (
	"context"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// tokenVersionsSize bounds how many users' token versions a service keeps:
// a few megabytes at most, and every active user of a large site.
const tokenVersionsSize = 100_000

// goneVersion stands, in the cache, for a user that does not exist.
const goneVersion = -1

// tokenVersions remembers the current token version of recently seen
// users for a while, so that checking a token costs a query per user per
// interval rather than per request. Replicas do not share it: a version
// one replica moved on reaches the others' caches when their entry
// expires, which bounds how long a revoked token still works there.
type tokenVersions struct {
	store Store
	ttl   time.Duration
	now   func() time.Time
	// An LRU without expiry of its own (the expirable one runs a goroutine
	// per cache that nothing stops): entries carry the time they were read.
	cache *lru.Cache[int64, seenVersion]
}

type seenVersion struct {
	version int64
	at      time.Time
}

func newTokenVersions(store Store, ttl time.Duration) *tokenVersions {
	cache, err := lru.New[int64, seenVersion](tokenVersionsSize)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &tokenVersions{store: store, ttl: ttl, now: time.Now, cache: cache}
}

// get returns the current token version of user id. Returns NotFound if
// there is no such user.
func (t *tokenVersions) get(ctx context.Context, id int64) (int64, error) {
	seen, ok := t.cache.Get(id)
	if !ok || t.now().Sub(seen.at) >= t.ttl {
		v, err := t.store.TokenVersion(ctx, id)
		switch {
		case ErrorCode(err) == NotFound:
			v = goneVersion
		case err != nil:
			return 0, err
		}
		t.set(id, v)
		seen.version = v
	}
	if seen.version == goneVersion {
		return 0, NotFoundError(ThingUser, fmt.Errorf("user %d", id))
	}
	return seen.version, nil
}

// set records what the store just said of user id's version.
func (t *tokenVersions) set(id, version int64) {
	t.cache.Add(id, seenVersion{version: version, at: t.now()})
}

// throttle counts an attempt at action by who (a client address, an
// account) and returns RateLimited when there were too many. Without a
// throttle, or without a who, nothing is limited.
func throttle(t Throttle, action, who string) error {
	if t == nil || who == "" {
		return nil
	}
	ok, wait := t.Allow(action + "\x00" + who)
	if ok {
		return nil
	}
	secs := max(int((wait+time.Second-1)/time.Second), 1)
	return &Error{
		Code:       RateLimited,
		Fields:     map[string][]string{NoField: {fmt.Sprintf("too many attempts; try again in %d seconds", secs)}},
		RetryAfter: time.Duration(secs) * time.Second,
	}
}
