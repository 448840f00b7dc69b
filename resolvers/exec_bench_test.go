package resolvers_test

import (
	"bytes"
	"context"
	"encoding/json"
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

// benchListQuery selects what a legacy list item holds, for a page of 20.
const benchListQuery = `query Articles { articles(first: 20) { totalCount nodes {
	slug title description tagList createdAt updatedAt favorited favoritesCount
	author { username bio image following } } } }`

// BenchmarkGraphQLArticles measures one execution of the list query (20
// articles), anonymous and signed in, through the handler and the shared
// middleware into an httptest recorder.
func BenchmarkGraphQLArticles(b *testing.B) {
	bs := newBenchServer(b, 20, 0)
	for _, who := range []struct{ name, token string }{{"anonymous", ""}, {"signed-in", bs.token}} {
		b.Run(who.name, func(b *testing.B) {
			bs.run(b, benchListQuery, who.token)
		})
	}
}

// benchServer is the GraphQL handler over a seeded database.
type benchServer struct {
	store   *db.DB
	svc     *conduit.Service
	handler http.Handler
	viewer  int64
	token   string // of the user viewer, who sees favorited and following set on part of the page
}

// newBenchServer seeds articles articles by two authors, with comments
// comments each, and builds the handler behind the middleware the server
// puts in front of it.
func newBenchServer(b testing.TB, articles, comments int) *benchServer {
	b.Helper()
	store := dbtest.New(b)
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: testSecret, BcryptCost: 4})
	if err != nil {
		b.Fatal(err)
	}
	viewer := benchSeed(b, svc, articles, comments)
	token, err := conduit.NewTokens(testSecret, time.Hour).Sign(conduit.Viewer{UserID: viewer})
	if err != nil {
		b.Fatal(err)
	}
	// A benchmark logs as make bench's servers do, at warn; a test (the
	// budgets) at production's default, info, which writes the access log.
	level := slog.LevelInfo
	if _, ok := b.(*testing.B); ok {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))
	h := app.New(app.Config{Logger: logger, GraphQL: resolvers.DefaultOptions()}, svc, store).Public
	return &benchServer{store: store, svc: svc, handler: h, viewer: viewer, token: token}
}

// run executes query in a loop, failing on any error, and reports the
// SQL statements of one execution.
func (bs *benchServer) run(b *testing.B, query, token string) {
	bs.runWith(b, query, nil, token)
}

// runWith is run with variables.
func (bs *benchServer) runWith(b *testing.B, query string, variables map[string]any, token string) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		b.Fatal(err)
	}
	// One request, its body read anew each time, as legacy's benchGet
	// asks: what httptest.NewRequest costs (a parse and a 4 KiB reader)
	// is the harness's, not the handler's.
	rd := bytes.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, "/graphql", rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	b.ReportAllocs()
	before, cpu := bs.store.Statements(), dbtest.CPUTime(b)
	for b.Loop() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		rec := dbtest.NewRecorder()
		bs.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors":[`)) {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(bs.store.Statements()-before)/float64(b.N), "sql/op")
	dbtest.ReportCPU(b, cpu)
}

// benchSeed publishes articles by two users with three tags each and
// comments comments on each, favorites and follows some, and returns the
// id of a third user who sees some of it as favorited and followed.
func benchSeed(b testing.TB, svc *conduit.Service, articles, comments int) int64 {
	b.Helper()
	var ids []int64
	for _, name := range []string{"ann", "bob", "cyd"} {
		s, err := svc.Register(context.Background(), conduit.RegisterInput{Username: name, Email: name + "@example.com", Password: testPassword})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, s.User.ID)
	}
	as := func(id int64) context.Context {
		return conduit.NewContextWithViewer(context.Background(), conduit.Viewer{UserID: id})
	}
	for i := range articles {
		a, err := svc.CreateArticle(as(ids[i%2]), conduit.CreateArticleInput{
			Title: fmt.Sprintf("Article %d", i), Description: "What it is about",
			Body: "A body of some length.", TagList: []string{"go", "sql", fmt.Sprintf("tag%d", i%5)},
		})
		if err != nil {
			b.Fatal(err)
		}
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
	return ids[2]
}
