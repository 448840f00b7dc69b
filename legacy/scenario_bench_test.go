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
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/resolvers"
)

// BenchmarkLegacyArticle and BenchmarkLegacyArticleComments are the legacy
// halves of resolvers' BenchmarkGraphQLArticle and
// BenchmarkGraphQLArticleComments: the same data (three articles, twenty
// comments each), signed in, through the production handler into a
// recorder, so that the two surfaces can be compared in-process.
func BenchmarkLegacyArticle(b *testing.B) {
	r, slug, token := newScenarioServer(b, 3, 0, 0)
	benchGet(b, r, "/api/articles/"+slug, token)
}

// BenchmarkLegacyArticleComments is GET /api/articles/{slug}/comments.
func BenchmarkLegacyArticleComments(b *testing.B) {
	r, slug, token := newScenarioServer(b, 3, 20, 0)
	benchGet(b, r, "/api/articles/"+slug+"/comments", token)
}

// benchGet asks h for path in a loop, signed in with token unless it is
// empty, and fails on any status but 200.
func benchGet(b *testing.B, h http.Handler, path, token string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	b.ReportAllocs()
	cpu := dbtest.CPUTime(b)
	for b.Loop() {
		rec := dbtest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	dbtest.ReportCPU(b, cpu)
}

// newScenarioServer seeds articles articles with comments comments each,
// as resolvers' benchSeed does, and tags in use up to tags (dbtest.FillTags;
// 0 leaves the articles' 5), and returns the handler, the newest article's
// slug and the token of a reader.
func newScenarioServer(b *testing.B, articles, comments, tags int) (http.Handler, string, string) {
	b.Helper()
	store := dbtest.New(b)
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte(testSecret), BcryptCost: 4})
	if err != nil {
		b.Fatal(err)
	}
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
	var slug string
	for i := range articles {
		a, err := svc.CreateArticle(as(ids[i%2]), conduit.CreateArticleInput{
			Title: fmt.Sprintf("Article %d", i), Description: "What it is about",
			Body: "A body of some length.", TagList: []string{"go", "sql", fmt.Sprintf("tag%d", i%5)},
		})
		if err != nil {
			b.Fatal(err)
		}
		slug = a.Slug
		for j := range comments {
			if _, err := svc.AddComment(as(ids[j%3]), a.Slug, fmt.Sprintf("Comment %d", j)); err != nil {
				b.Fatal(err)
			}
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
	dbtest.FillTags(b, svc, ids[2], tags)
	token, err := conduit.NewTokens([]byte(testSecret), time.Hour).Sign(conduit.Viewer{UserID: ids[2]})
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})) // as make bench's servers log
	return app.New(app.Config{Logger: logger, GraphQL: resolvers.DefaultOptions()}, svc, store).Public, slug, token
}

// BenchmarkLegacyTags is GET /api/tags, anonymous, on a site of make
// bench's 50 tags: the legacy half of resolvers' BenchmarkGraphQLTags.
func BenchmarkLegacyTags(b *testing.B) {
	r, _, _ := newScenarioServer(b, 3, 0, dbtest.BenchTags)
	benchGet(b, r, "/api/tags", "")
}
