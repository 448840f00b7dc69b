package resolvers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/resolvers"
)

// wantRejected fails unless the query is refused with the code before any
// SQL statement runs, as a request error (no data key).
func wantRejected(t *testing.T, e *env, query, code string) result {
	t.Helper()
	before := e.db.Statements()
	res := e.post(t, request{query: query})
	if n := e.db.Statements() - before; n != 0 {
		t.Fatalf("%d SQL statements ran for a rejected query", n)
	}
	wantErrorCodes(t, res, code)
	if res.hasData() {
		t.Fatalf("rejected query has a data key: %s", res.body)
	}
	if res.status != http.StatusOK {
		t.Fatalf("status = %d, want 200 for application/json", res.status)
	}
	return res
}

// nest wraps inner in n levels of articles -> nodes -> author -> articles.
func nest(n int, inner string) string {
	q := inner
	for range n {
		q = `articles(first: 1) { nodes { author { ` + q + ` } } }`
	}
	return q
}

func TestLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	e.mustArticle(t, alice, "Only one")

	t.Run("ComplexityBomb", func(t *testing.T) {
		wantRejected(t, e, `{ articles(first: 100) { nodes { comments(first: 100) { nodes {
			article { comments(first: 100) { totalCount } } } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("ComplexityDefaultPageSize", func(t *testing.T) {
		// Without first, a connection is priced at 20 items.
		wantRejected(t, e, `{ articles { nodes { comments { nodes { article { comments { totalCount } } } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("ComplexityPageSizeCapped", func(t *testing.T) {
		// first: 1000000 is priced like first: 100, which the service caps it to.
		res := e.post(t, request{query: `{ articles(first: 1000000) { nodes { title } } }`})
		wantErrorCodes(t, res)
	})
	t.Run("Aliased", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := range 30 {
			fmt.Fprintf(&b, " a%d: articles(first: 100) { nodes { title body } }", i)
		}
		b.WriteString(" }")
		wantRejected(t, e, b.String(), "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("Wide", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{ articles(first: 100) { nodes {")
		for i := range 60 {
			fmt.Fprintf(&b, " t%d: title", i)
		}
		b.WriteString(" } } }")
		wantRejected(t, e, b.String(), "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("PasswordMutations", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("mutation {")
		for i := range 6 {
			fmt.Fprintf(&b, ` l%d: login(input: {email: "alice@example.com", password: "guess%d"}) { token }`, i, i)
		}
		b.WriteString(" }")
		wantRejected(t, e, b.String(), "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("Deep", func(t *testing.T) {
		// 4 levels of articles { nodes { author { ... } } } and a leaf: 13 fields deep.
		res := wantRejected(t, e, `{ `+nest(4, "username")+` }`, "DEPTH_LIMIT_EXCEEDED")
		if want := "operation is 13 fields deep, which exceeds the limit of 12"; res.Errors[0].Message != want {
			t.Fatalf("message = %q, want %q", res.Errors[0].Message, want)
		}
	})
	t.Run("DeepThroughFragments", func(t *testing.T) {
		wantRejected(t, e, `{ ...A }
			fragment A on Query { articles(first: 1) { nodes { author { ...B } } } }
			fragment B on Profile { articles(first: 1) { nodes { author { ...C } } } }
			fragment C on Profile { articles(first: 1) { nodes { author { ...D } } } }
			fragment D on Profile { articles(first: 1) { nodes { author { username } } } }`, "DEPTH_LIMIT_EXCEEDED")
	})
	t.Run("DeepEnough", func(t *testing.T) {
		// 3 levels and a leaf: 10 fields deep, within the limit.
		res := e.post(t, request{query: `{ ` + nest(3, "username") + ` }`})
		wantErrorCodes(t, res)
	})
	t.Run("Tokens", func(t *testing.T) {
		// 1,202 tokens in 6 KB: within the document's byte limit.
		res := wantRejected(t, e, `{ `+strings.Repeat("tags ", 1200)+`}`, "GRAPHQL_PARSE_FAILED")
		if !strings.Contains(res.Errors[0].Message, "token limit") {
			t.Fatalf("message = %q, want one about the token limit", res.Errors[0].Message)
		}
	})
	t.Run("Introspection", func(t *testing.T) {
		// GraphiQL's introspection query is deep, but introspection is not
		// counted against the depth limit.
		res := e.post(t, request{query: introspectionQuery})
		wantErrorCodes(t, res)
	})
}

func TestLimitsConfigurable(t *testing.T) {
	t.Parallel()
	t.Run("Complexity", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(o *resolvers.Options) { o.ComplexityLimit = 10 })
		// 1 + 5 items x (nodes 1 + title 1) = 11
		wantRejected(t, e, `{ articles(first: 5) { nodes { title } } }`, "COMPLEXITY_LIMIT_EXCEEDED")
		wantErrorCodes(t, e.post(t, request{query: `{ articles(first: 4) { nodes { title } } }`}))
	})
	t.Run("Depth", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(o *resolvers.Options) { o.DepthLimit = 2 })
		wantRejected(t, e, `{ articles { nodes { title } } }`, "DEPTH_LIMIT_EXCEEDED")
		wantErrorCodes(t, e.post(t, request{query: `{ viewer { id } }`}))
	})
	t.Run("Tokens", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(o *resolvers.Options) { o.TokenLimit = 20 })
		wantRejected(t, e, `{ `+strings.Repeat("tags ", 20)+`}`, "GRAPHQL_PARSE_FAILED")
		wantErrorCodes(t, e.post(t, request{query: `{ ` + strings.Repeat("tags ", 10) + `}`}))
	})
}

// introspectionQuery is the query GraphiQL sends to learn the schema.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`
