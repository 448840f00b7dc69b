package resolvers_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/conduit-dev/conduit/db/dbtest"
)

// BenchmarkGraphQLTags measures `{ tags }`: the cheapest operation there
// is, where the handler's fixed cost per request shows most. The site has
// as many tags as make bench's (newTagsServer).
func BenchmarkGraphQLTags(b *testing.B) {
	bs := newTagsServer(b)
	bs.runWith(b, `query Tags { tags }`, nil, "")
}

// BenchmarkGraphQLTagsParallel is BenchmarkGraphQLTags from many
// goroutines at once, as the load of `make bench` is: contention shows.
func BenchmarkGraphQLTagsParallel(b *testing.B) {
	bs := newTagsServer(b)
	body := []byte(`{"query":"query Tags { tags }"}`)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := dbtest.NewRecorder()
			bs.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
}

// BenchmarkGraphQLTagsGet is BenchmarkGraphQLTags over GET, with the query
// in the URL, as the legacy GET /api/tags is asked.
func BenchmarkGraphQLTagsGet(b *testing.B) {
	bs := newTagsServer(b)
	req := httptest.NewRequest(http.MethodGet, "/graphql?query=query%20Tags%20%7B%20tags%20%7D", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := dbtest.NewRecorder()
		bs.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// newTagsServer is newBenchServer of three articles, with the tags in use
// filled up to make bench's 50.
func newTagsServer(b *testing.B) *benchServer {
	bs := newBenchServer(b, 3, 0)
	dbtest.FillTags(b, bs.svc, bs.viewer, dbtest.BenchTags)
	return bs
}
