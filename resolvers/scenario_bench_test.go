package resolvers_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The selections of the benchmark's article and comments scenarios
// (bench/scenarios.go): what the legacy bodies hold.
const (
	benchProfile      = `author { username bio image following }`
	benchArticleQuery = `query Article($slug: String!) { article(slug: $slug) { slug title description body tagList
	createdAt updatedAt favorited favoritesCount ` + benchProfile + ` } }`
	benchArticleCommentsQuery = `query Comments($slug: String!) { article(slug: $slug) { comments(first: 20) {
	totalCount nodes { id body createdAt updatedAt ` + benchProfile + ` } } } }`
)

// BenchmarkGraphQLArticle measures one article by slug, signed in: a
// small response, where the transport's own costs show.
func BenchmarkGraphQLArticle(b *testing.B) {
	bs := newBenchServer(b, 3, 0)
	bs.runWith(b, benchArticleQuery, map[string]any{"slug": bs.firstSlug(b)}, bs.token)
}

// BenchmarkGraphQLArticleComments measures the first 20 comments of one
// article by slug, signed in: one article, so no list to batch with.
func BenchmarkGraphQLArticleComments(b *testing.B) {
	bs := newBenchServer(b, 3, 20)
	bs.runWith(b, benchArticleCommentsQuery, map[string]any{"slug": bs.firstSlug(b)}, bs.token)
}

// firstSlug returns the slug of the newest article.
func (bs *benchServer) firstSlug(b testing.TB) string {
	b.Helper()
	body := []byte(`{"query":"{ articles(first: 1) { nodes { slug } } }"}`)
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	bs.handler.ServeHTTP(rec, req)
	var res struct {
		Data struct {
			Articles struct{ Nodes []struct{ Slug string } }
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || len(res.Data.Articles.Nodes) == 0 {
		b.Fatalf("no article: %v: %s", err, rec.Body)
	}
	return res.Data.Articles.Nodes[0].Slug
}
