package resolvers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
)

// FuzzGraphQLRequest posts arbitrary documents with arbitrary variables to
// a real server, anonymously. Whatever they are, the server must answer
// with JSON and a status below 500, never with an internal error, and
// change nothing in the database (anonymous requests can only register,
// which a document must name to do). `go test` runs the seeds below and
// those of testdata/fuzz/FuzzGraphQLRequest; `go test -fuzz
// FuzzGraphQLRequest ./resolvers/` looks for more.
func FuzzGraphQLRequest(f *testing.F) {
	e := newEnv(f)
	alice := e.mustUser(f, "alice")
	a := e.mustArticle(f, alice, "Only one", "dragons")
	e.mustComment(f, alice, a.Slug, "First")

	for _, seed := range [][2]string{
		{`{ tags }`, ``},
		{`query Articles($first: Int, $filter: ArticleFilter) { articles(first: $first, filter: $filter) { totalCount nodes { slug author { username } } } }`, `{"first": 2, "filter": {"tag": "dragons"}}`},
		{`query ($slug: String!) { article(slug: $slug) { title comments(first: 1) { edges { cursor node { body } } } } }`, `{"slug": "only-one"}`},
		{`query ($first: Int) { feed(first: $first) { totalCount } }`, `{"first": 2147483648}`},
		{`{ node(id: "QXJ0aWNsZTox") { id ... on Article { title } } }`, `null`},
		{`mutation { login(input: {email: "alice@example.com", password: "wrong"}) { token userErrors { code } } }`, `{}`},
		{`mutation ($input: CreateArticleInput!) { createArticle(input: $input) { article { slug } } }`, `{"input": {"title": "t", "description": "d", "body": "b"}}`},
		{`{ ...F } fragment F on Query { ...G ...G } fragment G on Query { ...F }`, `[]`},
		{`{ a: __schema { types { name } } b: __type(name: "Article") { fields { name } } }`, `{"x": [1, {"y": null}]}`},
		{`{ __typename @skip(if: $nope) @include(if: true) @a }`, `{"nope": "yes"}`},
		{`query Q($n: Int = 99999999999) { articles(last: $n, before: "x") { nodes { id } } }`, `"not an object"`},
		{`subscription { articlePublished { slug } }`, `{}`},
		{`{ articles(first: -1) { totalCount } }`, `{`},
		{"\u00ff{ \"", `{"a": "\u0000"}`},
		// Text PostgreSQL cannot store, in a literal and in variables.
		{`{ article(slug: "\u0000") { title } profile(username: "a\u0000") { username } }`, ``},
		{`query ($s: String!) { articles(filter: {tag: $s, author: $s}) { totalCount } }`, `{"s": "x\u0000y"}`},
	} {
		f.Add(seed[0], seed[1])
	}

	f.Fuzz(func(t *testing.T, doc, vars string) {
		before := fingerprint(t, e, alice)
		body := map[string]any{"query": doc}
		if json.Valid([]byte(vars)) {
			body["variables"] = json.RawMessage(vars)
		}
		b, err := json.Marshal(body) // invalid UTF-8 becomes U+FFFD
		if err != nil {
			t.Fatal(err)
		}
		res := do(t, http.MethodPost, e.url, jsonType, b, nil)
		if res.status >= 500 {
			t.Fatalf("status %d\nbody: %s", res.status, res.body)
		}
		if !strings.HasPrefix(res.header.Get("Content-Type"), jsonType) {
			t.Fatalf("Content-Type %q\nbody: %s", res.header.Get("Content-Type"), res.body)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(res.body, &m); err != nil || (m["errors"] == nil && m["data"] == nil) {
			t.Fatalf("body is not a GraphQL response: %s", res.body)
		}
		for _, c := range res.codes() {
			if c == "INTERNAL_SERVER_ERROR" {
				t.Fatalf("internal error\nbody: %s\nlog:\n%s", res.body, e.logs)
			}
		}
		if after := fingerprint(t, e, alice); after != before && !strings.Contains(doc, "register") {
			t.Fatalf("the database changed: %+v, then %+v", before, after)
		}
	})
}

// dbFingerprint is what an anonymous request could change: the users (by
// register) and the articles.
type dbFingerprint struct {
	users, articles int
}

// fingerprint counts the users made after first and the articles.
func fingerprint(t *testing.T, e *env, first user) dbFingerprint {
	t.Helper()
	ctx := context.Background()
	ids := make([]int64, 1000)
	for i := range ids {
		ids[i] = first.id + int64(i)
	}
	profiles, err := e.svc.ProfilesByID(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.svc.Articles(ctx, conduit.ArticleFilter{}, conduit.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return dbFingerprint{users: len(profiles), articles: page.Total}
}
