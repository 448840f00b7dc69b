package resolvers

import (
	"container/list"
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// byteLRU is a least-recently-used cache bounded by the bytes its entries
// weigh rather than by their number: gqlgen's lru counts entries, so a
// thousand one-megabyte queries fit as easily as a thousand small ones.
//
// It is written here because neither library at hand does this:
// hashicorp/golang-lru (behind gqlgen's lru) has no notion of weight, and
// ristretto, which has one, admits entries asynchronously and by sampled
// frequency, so right after Add a Get may miss and the bound holds only
// eventually; a cache that a burst of unique documents can push past its
// bound is what this one is for.
type byteLRU[T any] struct {
	maxBytes int64
	weigh    func(key string, value T) int64

	mu      sync.Mutex
	bytes   int64
	order   *list.List // of *lruEntry[T], most recently used first
	entries map[string]*list.Element
}

type lruEntry[T any] struct {
	key    string
	value  T
	weight int64
}

var _ graphql.Cache[string] = (*byteLRU[string])(nil)

// entryOverhead is what an entry costs besides its key and value: the list
// element, the map slot and the entry itself, rounded up.
const entryOverhead = 160

// newByteLRU returns a cache holding at most maxBytes, each entry weighing
// what weigh says plus entryOverhead.
func newByteLRU[T any](maxBytes int64, weigh func(key string, value T) int64) *byteLRU[T] {
	return &byteLRU[T]{
		maxBytes: maxBytes,
		weigh:    weigh,
		order:    list.New(),
		entries:  make(map[string]*list.Element),
	}
}

// Get returns the value stored under key and marks it as recently used.
func (c *byteLRU[T]) Get(_ context.Context, key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		var zero T
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry[T]).value, true
}

// Add stores value under key, evicting the least recently used entries
// until the cache is within its bound again. An entry heavier than the
// whole bound is not stored: it would only evict everything else.
func (c *byteLRU[T]) Add(_ context.Context, key string, value T) {
	w := c.weigh(key, value) + entryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	if w > c.maxBytes {
		return
	}
	c.entries[key] = c.order.PushFront(&lruEntry[T]{key: key, value: value, weight: w})
	c.bytes += w
	for c.bytes > c.maxBytes {
		c.remove(c.order.Back())
	}
}

func (c *byteLRU[T]) remove(el *list.Element) {
	e := c.order.Remove(el).(*lruEntry[T])
	delete(c.entries, e.key)
	c.bytes -= e.weight
}

// size returns how many entries the cache holds and what they weigh.
func (c *byteLRU[T]) size() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes
}

// What a parsed and validated document weighs in the cache, measured with
// runtime.MemStats over 200 parses and validations of each document (Go
// 1.26, gqlparser 2.5.64). Parsing and validating allocate 27 bytes per
// byte of text for GraphiQL's introspection query and 64 to 136 for our
// clients' documents (100 to 340 bytes), on top of about 11.6 KB that the
// validator's rules allocate for any document; 160 to 511 bytes per byte
// for documents of many short fields (`{ viewer { id id … } }`). What the
// document keeps after validation, which the cache pins, is less: 10 bytes
// per byte for the introspection query, 4 to 31 for our clients'
// documents, 77 for the densest document we accept (the one of short
// fields), and about 600 bytes for any document. So a document weighs
// parsedDocumentFactor bytes per byte of its text, an upper bound on what
// it keeps (and about what our clients' documents allocate), plus
// parsedDocumentOverhead; its text, the key, comes on top.
const (
	parsedDocumentFactor   = 100
	parsedDocumentOverhead = 1024
)

// newQueryCache returns the cache of parsed and validated documents, keyed
// by their text, holding at most maxBytes.
func newQueryCache(maxBytes int64) *byteLRU[*ast.QueryDocument] {
	return newByteLRU(maxBytes, func(query string, _ *ast.QueryDocument) int64 {
		return int64(len(query))*(1+parsedDocumentFactor) + parsedDocumentOverhead
	})
}

// newPersistedQueryCache returns the cache of automatic persisted queries,
// the query text keyed by its SHA-256, holding at most maxBytes.
func newPersistedQueryCache(maxBytes int64) *byteLRU[string] {
	return newByteLRU(maxBytes, func(hash, query string) int64 {
		return int64(len(hash) + len(query))
	})
}
