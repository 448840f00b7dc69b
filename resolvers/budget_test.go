package resolvers_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"testing"
)

// TestExecutionBudgets holds what one request costs the process, counted
// rather than timed: the goroutines it starts and the allocations it
// makes, for a page of 20 articles, for one article, for 20 comments of
// one article, and for a page of articles with their ids and a page of
// comments each, signed in, through the whole handler. The limits are the
// counts of 2026-12-02 (after issue 11's work on execution) with a little
// room; a change that goes past one fails here, not months later in the
// benchmark. Not parallel: the counters are the process's, so nothing
// else may run meanwhile.
const benchArticlesWithCommentsQuery = `{ articles(first: 20) { nodes { id slug
	comments(first: 3) { totalCount nodes { id body author { username } } } } } }`

func TestExecutionBudgets(t *testing.T) {
	bs := newBenchServer(t, 20, 20)
	slug := bs.firstSlug(t)
	for _, tc := range []struct {
		name                     string
		query                    string
		variables                map[string]any
		maxGoroutines, maxAllocs float64
	}{
		// 20 goroutines: gqlgen's MarshalSliceConcurrently starts one per
		// element of every list of objects, whatever exec.worker_limit
		// says (see gqlgen.yml); nothing else starts one.
		{"ArticlesPage", benchListQuery, nil, 21, 3950},
		{"Article", benchArticleQuery, map[string]any{"slug": slug}, 1, 480},
		{"ArticleComments", benchArticleCommentsQuery, map[string]any{"slug": slug}, 21, 3100},
		// 20 for the articles and 3 for the comments of each: 80. id is a
		// plain field (graph.MarshalGlobalID), so it adds no goroutine
		// per article beside comments, as a resolver did (100).
		{"ArticlesWithComments", benchArticlesWithCommentsQuery, nil, 81, 8800},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": tc.query, "variables": tc.variables})
			do := func() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Token "+bs.token)
				rec := httptest.NewRecorder()
				bs.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			for range 10 { // caches and pools warm
				do()
			}
			const n = 50
			created := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
			var before, after runtime.MemStats
			metrics.Read(created)
			g0 := created[0].Value.Uint64()
			runtime.ReadMemStats(&before)
			for range n {
				do()
			}
			runtime.ReadMemStats(&after)
			metrics.Read(created)
			goroutines := float64(created[0].Value.Uint64()-g0) / n
			allocs := float64(after.Mallocs-before.Mallocs) / n
			t.Logf("%s: %.1f goroutines and %.0f allocations per request", tc.name, goroutines, allocs)
			if goroutines > tc.maxGoroutines {
				t.Errorf("%s starts %.1f goroutines per request, budget %.0f", tc.name, goroutines, tc.maxGoroutines)
			}
			if allocs > tc.maxAllocs {
				t.Errorf("%s makes %.0f allocations per request, budget %.0f", tc.name, allocs, tc.maxAllocs)
			}
		})
	}
}
