package graph_test

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
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/graph"
	"github.com/conduit-dev/conduit/resolvers"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var testSecret = []byte("test-secret-at-least-32-bytes-long!!")

// TestPlainWritersWriteWhatGqlgenWrites runs each query of a corpus that
// selects every plain field of every object type, through aliases,
// fragments, directives, nulls and fallbacks, once with the plain writers
// and once with gqlgen's execution alone, and wants the same bytes.
func TestPlainWritersWriteWhatGqlgenWrites(t *testing.T) {
	store := dbtest.New(t)
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: testSecret, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ids []int64
	for _, name := range []string{"ann", "bob"} {
		s, err := svc.Register(ctx, conduit.RegisterInput{Username: name, Email: name + "@example.com", Password: "password123"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.User.ID)
	}
	as := func(id int64) context.Context {
		return conduit.NewContextWithViewer(ctx, conduit.Viewer{UserID: id})
	}
	// ann has a bio and an image, with what JSON must escape; bob has neither.
	bio, image := "Writes \"Go\" <&> \u2028 and\ttabs \u00e9", "https://example.com/a.png?x=1&y=2"
	if _, err := svc.UpdateUser(as(ids[0]), conduit.UpdateUserInput{Bio: conduit.Some(&bio), Image: conduit.Some(&image)}); err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for i := range 3 {
		a, err := svc.CreateArticle(as(ids[i%2]), conduit.CreateArticleInput{
			Title: fmt.Sprintf("Article \"%d\" \\ ünïcode", i), Description: "d\n" + fmt.Sprint(i),
			Body: "b\x01\x1f", TagList: []string{"go", fmt.Sprintf("t%d", i), "\"q\""},
		})
		if err != nil {
			t.Fatal(err)
		}
		slugs = append(slugs, a.Slug)
		for j := range 3 {
			if _, err := svc.AddComment(as(ids[j%2]), a.Slug, fmt.Sprintf("Comment %d on %d </script>", j, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := svc.Favorite(as(ids[1]), slugs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Follow(as(ids[1]), "ann"); err != nil {
		t.Fatal(err)
	}
	token, err := conduit.NewTokens(testSecret, time.Hour).Sign(conduit.Viewer{UserID: ids[1]})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := app.New(app.Config{Logger: logger, GraphQL: resolvers.DefaultOptions()}, svc, store).Public

	const article = `id slug title description body tagList createdAt updatedAt favorited favoritesCount __typename
		author { id username bio image following __typename }`
	const comment = `id body createdAt updatedAt __typename author { id username bio image following }`
	slug := fmt.Sprintf("%q", slugs[0])
	queries := []struct{ name, query string }{
		{"Articles", `{ articles(first: 10) { totalCount nodes { ` + article + ` } } }`},
		{"ArticlesPaged", `{ articles(first: 2) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
			edges { cursor node { ` + article + ` } } } }`},
		{"Feed", `{ feed(first: 5) { nodes { slug author { username following } } } }`},
		{"Article", `{ article(slug: ` + slug + `) { ` + article + ` } }`},
		{"NoArticle", `{ article(slug: "no-such-article") { slug } }`},
		{"Comments", `{ article(slug: ` + slug + `) { comments(first: 5) { totalCount nodes { ` + comment + ` }
			edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`},
		{"Aliases", `{ article(slug: ` + slug + `) { a: slug b: title slug author { n: username username }
			writer: author { bio } comments(first: 2) { nodes { text: body t: body by: author { who: username } } } } }`},
		// The elements of a list share what is collected below them
		// (graph's collected): two selections of one type in each element,
		// and the same type again under the edges.
		{"ListSelectsOneTypeTwice", `{ articles(first: 10) { nodes { slug author { username } writer: author { bio image following } } } }`},
		{"CommentsSelectOneTypeTwice", `{ article(slug: ` + slug + `) { comments(first: 5) { nodes { author { username } by: author { bio } }
			edges { node { author { image username } } } } } }`},
		{"SameFieldTwice", `{ article(slug: ` + slug + `) { slug slug title author { username } author { bio } } }`},
		{"Fragments", `query { articles(first: 3) { nodes { ...a ... on Article { title author { ...p } } } } }
			fragment a on Article { slug tagList } fragment p on Profile { username image }`},
		{"Directives", `query($yes: Boolean = true, $no: Boolean = false) { articles(first: 3) { nodes {
			slug @include(if: $yes) title @include(if: $no) body @skip(if: $yes) author @skip(if: $no) { username } } } }`},
		// A field with a resolver of its own leaves its object to gqlgen,
		// inside an object written plainly and the other way round.
		{"ResolverInside", `{ article(slug: ` + slug + `) { slug comments(first: 2) { nodes { body article { slug author { username } } } } } }`},
		{"ProfileArticles", `{ profile(username: "ann") { id username bio image following articles(first: 2) { nodes { slug } } } }`},
		{"Profile", `{ profile(username: "bob") { ` + "id username bio image following __typename" + ` } }`},
		{"Viewer", `{ viewer { id username email bio image __typename } }`},
		{"Nodes", fmt.Sprintf(`{ a: node(id: %q) { id __typename ... on Article { slug author { username } } }
			p: node(id: %q) { ... on Profile { username bio } } }`, graph.EncodeGlobalID("Article", 1), graph.EncodeGlobalID("Profile", ids[0]))},
		// Lists of strings, at the root and in an object gqlgen writes.
		{"Tags", `{ tags t: tags }`},
		{"TagListBesideResolver", `{ article(slug: ` + slug + `) { tagList comments(first: 1) { totalCount } } }`},
		{"Typename", `{ __typename articles(first: 1) { __typename nodes { __typename } } }`},
		{"Favorite", `mutation { favoriteArticle(input: {slug: ` + slug + `}) { article { slug favorited favoritesCount author { username } }
			userErrors { field message code } } }`},
		{"Follow", `mutation { followProfile(input: {username: "ann"}) { profile { username following bio } userErrors { message } } }`},
		{"UserErrors", `mutation { updateViewer(input: {email: "not an email"}) { user { id } userErrors { field message code } } }`},
		{"UpdateViewer", `mutation { updateViewer(input: {bio: "Same \"bio\""}) { user { id username email bio image } userErrors { message } } }`},
	}
	do := func(query string, plain bool) string {
		graph.SetPlainWriters(plain)
		defer graph.SetPlainWriters(true)
		body, _ := json.Marshal(map[string]any{"query": query})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return fmt.Sprintf("%d %s", rec.Code, rec.Body)
	}
	// Root fields that answer errors and nulls, which _Query and
	// singleRoot_Query must report alike, and selections that leave the
	// root to _Query.
	failing := []struct{ name, query string }{
		{"NonNullRootError", `{ articles(first: -1) { totalCount } }`},
		{"NonNullRootErrorAliased", `{ a: feed(first: -5) { totalCount } }`},
		{"NullableRootError", `{ profile(username: "ann") { articles(first: -1) { totalCount } } }`},
		{"NullableRootErrorInside", `{ article(slug: ` + slug + `) { slug comments(first: -1) { totalCount } } }`},
		{"NullableRootNull", `{ profile(username: "nobody") { username } }`},
		{"ErrorBesideAnother", `{ tags articles(first: -1) { totalCount } }`},
	}
	for _, q := range failing {
		t.Run(q.name, func(t *testing.T) {
			gqlgen := do(q.query, false)
			if plain := do(q.query, true); plain != gqlgen {
				t.Errorf("plain writers:\n%s\ngqlgen:\n%s", plain, gqlgen)
			}
			if q.name != "NullableRootNull" && !bytes.Contains([]byte(gqlgen), []byte(`"errors"`)) {
				t.Errorf("no errors: %s", gqlgen)
			}
		})
	}
	queries = append(queries, []struct{ name, query string }{
		{"RootDirective", `{ tags @include(if: true) }`},
		{"RootSkipped", `query($no: Boolean = true) { tags articles(first: 1) @skip(if: $no) { totalCount } }`},
		{"RootFragment", `{ ...q } fragment q on Query { tags }`},
		{"RootInlineFragment", `{ ... on Query { articles(first: 1) { totalCount } } }`},
		{"RootTypenameAlone", `{ __typename }`},
		{"RootVariables", `query($n: Int = 2) { articles(first: $n) { nodes { slug } } }`},
	}...)
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			gqlgen := do(q.query, false)
			plain := do(q.query, true)
			if plain != gqlgen {
				t.Errorf("plain writers:\n%s\ngqlgen:\n%s", plain, gqlgen)
			}
			if !bytes.Contains([]byte(gqlgen), []byte(`"data":{`)) {
				t.Errorf("no data: %s", gqlgen)
			}
			if bytes.Contains([]byte(gqlgen), []byte(`"errors"`)) && q.name != "NoArticle" {
				t.Errorf("errors: %s", gqlgen)
			}
		})
	}
}
