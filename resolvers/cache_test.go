package resolvers_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/resolvers"
	"github.com/conduit-dev/conduit/web"
)

// cacheEnv is a server whose caches the test can weigh.
type cacheEnv struct {
	url   string
	sizes func() resolvers.CacheSizes
}

func newCacheEnv(t *testing.T, opts ...func(*resolvers.Options)) *cacheEnv {
	t.Helper()
	svc, err := conduit.NewService(dbtest.New(t), conduit.Config{JWTSecret: testSecret, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	o := resolvers.DefaultOptions()
	for _, f := range opts {
		f(&o)
	}
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	h, sizes := resolvers.NewHandlerWithCacheSizes(svc, slog.New(slog.NewTextHandler(logs, nil)), o)
	srv := httptest.NewServer(web.RequestID(web.Authenticate(svc)(web.LimitBody(web.MaxBodyBytes)(h))))
	t.Cleanup(srv.Close)
	return &cacheEnv{url: srv.URL + "/graphql", sizes: sizes}
}

// persisted sends query (if any) with the persisted-query extension for
// hash.
func (e *cacheEnv) persisted(t *testing.T, query, hash string) result {
	t.Helper()
	body := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
	if query != "" {
		body["query"] = query
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, http.MethodPost, e.url, jsonType, b, nil)
}

func sha(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}

func TestQueryCacheBytes(t *testing.T) {
	t.Parallel()
	const bound = 64 << 10
	e := newCacheEnv(t, func(o *resolvers.Options) { o.QueryCacheBytes = bound })
	var most int64
	for i := range 100 {
		res := postTo(t, e.url, request{query: fmt.Sprintf("query Q%d { __typename }", i)})
		wantJSON(t, res.body, `{"data":{"__typename":"Query"}}`)
		s := e.sizes()
		if s.QueryBytes > bound {
			t.Fatalf("after %d documents the cache weighs %d bytes, more than its bound %d", i+1, s.QueryBytes, bound)
		}
		most = max(most, s.QueryBytes)
	}
	s := e.sizes()
	if s.QueryEntries == 0 || s.QueryEntries >= 100 {
		t.Fatalf("the cache holds %d of 100 documents, want some but not all", s.QueryEntries)
	}
	// A document of 25 bytes weighs about 3.7 KB: the cache is about full.
	if most < bound-4<<10 {
		t.Fatalf("the cache never weighed more than %d bytes of its %d", most, bound)
	}
	t.Logf("%d documents in %d bytes", s.QueryEntries, s.QueryBytes)

	// A document that fails validation is not kept.
	wantErrorCodes(t, postTo(t, e.url, request{query: "query Nope { nope }"}), "GRAPHQL_VALIDATION_FAILED")
	if after := e.sizes(); after.QueryEntries != s.QueryEntries || after.QueryBytes != s.QueryBytes {
		t.Fatalf("the cache changed for an invalid document: %+v, then %+v", s, after)
	}
}

func TestPersistedQueryCacheBytes(t *testing.T) {
	t.Parallel()
	const bound = 4 << 10
	e := newCacheEnv(t, func(o *resolvers.Options) { o.PersistedQueryCacheBytes = bound })
	query := func(i int) string { return fmt.Sprintf("query Q%d { __typename }", i) }
	for i := range 50 {
		res := e.persisted(t, query(i), sha(query(i)))
		wantJSON(t, res.body, `{"data":{"__typename":"Query"}}`)
		if s := e.sizes(); s.PersistedBytes > bound {
			t.Fatalf("after %d queries the cache weighs %d bytes, more than its bound %d", i+1, s.PersistedBytes, bound)
		}
	}
	s := e.sizes()
	if s.PersistedEntries == 0 || s.PersistedEntries >= 50 {
		t.Fatalf("the cache holds %d of 50 queries, want some but not all", s.PersistedEntries)
	}
	// The oldest went first; the newest is there.
	wantErrorCodes(t, e.persisted(t, "", sha(query(0))), "PERSISTED_QUERY_NOT_FOUND")
	wantJSON(t, e.persisted(t, "", sha(query(49))).body, `{"data":{"__typename":"Query"}}`)
}

func TestPersistedQueriesKeepOnlyValid(t *testing.T) {
	t.Parallel()
	e := newCacheEnv(t)
	for _, tc := range []struct{ name, query, code string }{
		{"Invalid", "{ nope }", "GRAPHQL_VALIDATION_FAILED"},
		{"Unparsable", "{ tags", "GRAPHQL_PARSE_FAILED"},
		{"TooLarge", "{ tags }" + strings.Repeat(" ", 8192), "DOCUMENT_TOO_LARGE"},
		{"TooWide", "{ " + strings.Repeat("__typename ", 200) + "}", "TOO_MANY_FIELDS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.persisted(t, tc.query, sha(tc.query))
			wantErrorCodes(t, res, tc.code)
			// The client is asked to send the query again: it was not kept.
			res = e.persisted(t, "", sha(tc.query))
			wantErrorCodes(t, res, "PERSISTED_QUERY_NOT_FOUND")
			if res.hasData() || res.Errors[0].Message != "PersistedQueryNotFound" {
				t.Fatalf("body %s, want the PersistedQueryNotFound error alone", res.body)
			}
		})
	}
	if s := e.sizes(); s.PersistedEntries != 0 {
		t.Fatalf("the cache holds %d queries, want none", s.PersistedEntries)
	}

	t.Run("RoundTrip", func(t *testing.T) {
		const query = "query Tags { tags }"
		wantErrorCodes(t, e.persisted(t, "", sha(query)), "PERSISTED_QUERY_NOT_FOUND")
		wantJSON(t, e.persisted(t, query, sha(query)).body, `{"data":{"tags":[]}}`)
		wantJSON(t, e.persisted(t, "", sha(query)).body, `{"data":{"tags":[]}}`)
		if s := e.sizes(); s.PersistedEntries != 1 {
			t.Fatalf("the cache holds %d queries, want 1", s.PersistedEntries)
		}
	})
	t.Run("Refusals", func(t *testing.T) {
		for _, tc := range []struct {
			ext  any
			want string
		}{
			{map[string]any{"version": 2, "sha256Hash": sha("{ tags }")}, "unsupported APQ version"},
			{map[string]any{"version": 1, "sha256Hash": 42}, "invalid APQ extension data"},
			{map[string]any{"version": "1", "sha256Hash": sha("{ tags }")}, "invalid APQ extension data"},
			{"hash", "invalid APQ extension data"},
			{map[string]any{"version": 1, "sha256Hash": sha("{ viewer { id } }")}, "provided APQ hash does not match query"},
		} {
			b, _ := json.Marshal(map[string]any{"query": "{ tags }", "extensions": map[string]any{"persistedQuery": tc.ext}})
			res := do(t, http.MethodPost, e.url, jsonType, b, nil)
			if len(res.Errors) != 1 || res.Errors[0].Message != tc.want || res.hasData() {
				t.Fatalf("extension %v: body %s, want the error %q alone", tc.ext, res.body, tc.want)
			}
		}
	})
}
