package legacy_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/resolvers"
)

// BenchmarkArticlesPage measures a legacy page of 20 articles, anonymous
// and signed in: "service" is the service call alone (the SQL and the scan),
// "handler" the whole request through the shared middleware into an
// httptest recorder. What handler costs beyond service is what the legacy
// adapter and its JSON encoding cost.
func BenchmarkArticlesPage(b *testing.B) {
	store := dbtest.New(b)
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte(testSecret), BcryptCost: 4})
	if err != nil {
		b.Fatal(err)
	}
	viewer := benchSeedPage(b, svc, 20)
	token, err := conduit.NewTokens([]byte(testSecret), time.Hour).Sign(conduit.Viewer{UserID: viewer})
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})) // as make bench's servers log
	r := app.New(app.Config{Logger: logger, GraphQL: resolvers.DefaultOptions()}, svc, store).Public

	for _, who := range []struct {
		name   string
		viewer int64
		token  string
	}{{"anonymous", 0, ""}, {"signed-in", viewer, token}} {
		b.Run("service/"+who.name, func(b *testing.B) {
			ctx := context.Background()
			if who.viewer != 0 {
				ctx = conduit.NewContextWithViewer(ctx, conduit.Viewer{UserID: who.viewer})
			}
			b.ReportAllocs()
			defer benchStatements(b, store)()
			for b.Loop() {
				page, err := svc.Articles(ctx, conduit.ArticleFilter{}, conduit.Page{Limit: 20})
				if err != nil || len(page.Articles) != 20 {
					b.Fatalf("articles: %d, %v", len(page.Articles), err)
				}
			}
		})
		b.Run("handler/"+who.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/api/articles?limit=20", nil)
			if who.token != "" {
				req.Header.Set("Authorization", "Token "+who.token)
			}
			b.ReportAllocs()
			defer benchStatements(b, store)()
			for b.Loop() {
				rec := dbtest.NewRecorder()
				r.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// benchSeedPage publishes n articles with three tags each by two authors,
// favorites and follows some, and returns the id of a user who sees
// favorited and following set on part of the page.
func benchSeedPage(b *testing.B, svc *conduit.Service, n int) int64 {
	b.Helper()
	var ids []int64
	for _, name := range []string{"ann", "bob", "cyd"} {
		s, err := svc.Register(context.Background(), conduit.RegisterInput{Username: name, Email: name + "@example.com", Password: "correct horse"})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, s.User.ID)
	}
	as := func(id int64) context.Context {
		return conduit.NewContextWithViewer(context.Background(), conduit.Viewer{UserID: id})
	}
	for i := range n {
		a, err := svc.CreateArticle(as(ids[i%2]), conduit.CreateArticleInput{
			Title: fmt.Sprintf("Article %d & \"friends\"", i), Description: "What it is about",
			Body: "A body of some length.", TagList: []string{"go", "sql", fmt.Sprintf("tag%d", i%5)},
		})
		if err != nil {
			b.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := svc.Favorite(as(ids[2]), a.Slug); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := svc.Follow(as(ids[2]), "ann"); err != nil {
		b.Fatal(err)
	}
	return ids[2]
}

// benchStatements reports the SQL statements per operation of the
// benchmark when the returned func runs.
func benchStatements(b *testing.B, store *db.DB) func() {
	before := store.Statements()
	return func() {
		b.ReportMetric(float64(store.Statements()-before)/float64(b.N), "sql/op")
	}
}
