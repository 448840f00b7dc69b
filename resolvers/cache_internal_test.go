package resolvers

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestByteLRU(t *testing.T) {
	ctx := context.Background()
	// Each entry weighs its value's length, plus the overhead.
	c := newByteLRU(3*(100+entryOverhead), func(_ string, v string) int64 { return int64(len(v)) })
	v := strings.Repeat("x", 100)
	for _, k := range []string{"a", "b", "c"} {
		c.Add(ctx, k, v)
	}
	if n, b := c.size(); n != 3 || b != 3*(100+entryOverhead) {
		t.Fatalf("size = %d entries, %d bytes; want 3 entries, the whole bound", n, b)
	}
	// Reading a keeps it; adding d evicts b, the least recently used.
	if _, ok := c.Get(ctx, "a"); !ok {
		t.Fatal("a is missing")
	}
	c.Add(ctx, "d", v)
	for _, k := range []string{"a", "b", "c", "d"} {
		if _, ok := c.Get(ctx, k); ok != (k != "b") {
			t.Fatalf("Get(%q) found = %v, want %v", k, ok, k != "b")
		}
	}
	// Replacing an entry reweighs it.
	c.Add(ctx, "d", "short")
	if _, b := c.size(); b != 2*(100+entryOverhead)+5+entryOverhead {
		t.Fatalf("bytes = %d after replacing d", b)
	}
	// An entry heavier than the bound is not kept, and evicts nothing.
	c.Add(ctx, "huge", strings.Repeat("x", 1000))
	if _, ok := c.Get(ctx, "huge"); ok {
		t.Fatal("an entry heavier than the bound was kept")
	}
	if n, _ := c.size(); n != 3 {
		t.Fatalf("%d entries after refusing one, want 3", n)
	}
	// A bigger entry evicts as many as it needs, least recently used first:
	// a, then c; d, just replaced, stays.
	c.Add(ctx, "big", strings.Repeat("x", 250))
	if n, b := c.size(); n != 2 || b != 5+250+2*entryOverhead {
		t.Fatalf("size = %d entries, %d bytes after adding a big one, want d and big", n, b)
	}
	for _, k := range []string{"d", "big"} {
		if _, ok := c.Get(ctx, k); !ok {
			t.Fatalf("%s is missing", k)
		}
	}
}

func TestDocumentLimitsSkipCachedDocuments(t *testing.T) {
	ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{})
	cache := newQueryCache(1 << 20)
	const cached = "{ tags }"
	cache.Add(ctx, cached, &ast.QueryDocument{})
	// Limits no document passes: a cached one is not measured again.
	l := documentLimits{cache: cache, maxBytes: 1, maxTokens: 1}
	if err := l.MutateOperationParameters(ctx, &graphql.RawParams{Query: cached}); err != nil {
		t.Fatalf("a cached document was measured again: %v", err)
	}
	if err := l.MutateOperationParameters(ctx, &graphql.RawParams{Query: "{ viewer { id } }"}); err == nil || err.Extensions["code"] != "DOCUMENT_TOO_LARGE" {
		t.Fatalf("err = %v, want DOCUMENT_TOO_LARGE", err)
	}
}
