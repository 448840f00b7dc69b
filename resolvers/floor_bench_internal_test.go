package resolvers

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/graph"
)

// BenchmarkTagsGqlgenAlone serves `{ tags }` from gqlgen's own server
// with nothing but its POST transport and a query cache: no limits, no
// persisted queries, no cost analysis, no app middleware. It is the least
// an operation costs on this stack, to set beside BenchmarkTagsHandler,
// which serves it from our handler with all of those (the app middleware
// aside), and beside the legacy surface's BenchmarkLegacyTags.
func BenchmarkTagsGqlgenAlone(b *testing.B) {
	svc := tagsService(b)
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &Resolver{Service: svc, loads: newEventLoads()}, Complexity: complexity()})
	srv := handler.New(es)
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](100))
	// The resolvers read their loaders from the context, as execute puts
	// them there.
	serveTags(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r.WithContext(withLoaders(r.Context(), newLoaders(svc))))
	}))
}

// BenchmarkTagsHandler is BenchmarkTagsGqlgenAlone through our handler.
func BenchmarkTagsHandler(b *testing.B) {
	svc := tagsService(b)
	serveTags(b, NewHandler(svc, slog.New(slog.NewTextHandler(io.Discard, nil)), DefaultOptions()))
}

// tagsService returns a service whose site has five tags.
func tagsService(b *testing.B) *conduit.Service {
	b.Helper()
	svc, err := conduit.NewService(dbtest.New(b), conduit.Config{JWTSecret: []byte("test-secret-at-least-32-bytes-long!!"), BcryptCost: 4})
	if err != nil {
		b.Fatal(err)
	}
	s, err := svc.Register(context.Background(), conduit.RegisterInput{Username: "ann", Email: "ann@example.com", Password: "password123"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := conduit.NewContextWithViewer(context.Background(), conduit.Viewer{UserID: s.User.ID})
	for _, tag := range []string{"a", "b", "c"} {
		in := conduit.CreateArticleInput{Title: "On " + tag, Description: "d", Body: "b", TagList: []string{"go", "sql", tag}}
		if _, err := svc.CreateArticle(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	return svc
}

// serveTags asks h for `{ tags }` in a loop, failing on anything but the
// five tags, the most used first.
func serveTags(b *testing.B, h http.Handler) {
	body := []byte(`{"query":"query Tags { tags }"}`)
	const want = `{"data":{"tags":["go","sql","a","b","c"]}}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != want {
			b.Fatalf("%d %s, want 200 %s", rec.Code, rec.Body, want)
		}
	}
}
