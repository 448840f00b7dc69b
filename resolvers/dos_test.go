package resolvers_test

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/resolvers"
)

// graphiQLIntrospection is the introspection query of graphql-js 16.15
// (getIntrospectionQuery with every option on: descriptions,
// specifiedByUrl, directiveIsRepeatable, schemaDescription,
// inputValueDeprecation, oneOf), the largest document GraphiQL sends.
//
//go:embed testdata/introspection.graphql
var graphiQLIntrospection string

// refusedWithin is how fast a refused bomb must be answered, at best of
// refusalTries round trips, beyond the time it takes to read the request:
// long enough for the race detector and a busy machine, far too short for
// any of the bombs to be worked on.
//
// Reading is measured, not assumed, because it is not small under the race
// detector: decoding the JSON body of the 154 KB document takes 15 to 20 ms
// there (2 to 4 ms without it), as it does for any body of that size, such
// as an article's text in the variables, whatever the limits.
//
// Reading and refusing are measured in turns (one of each, refusalTries
// times), so that a moment the machine is busy weighs on both alike, and a
// body that takes long to read (the 154 KB one) may take a quarter more to
// refuse than to read: the bombs took seconds before their limits.
//
// A busy spell can outlast refusalTries turns (make test runs two packages
// at once on two cores, each with its PostgreSQL), so the turns go on,
// up to maxRefusalTries, until one refusal is within the bound: a bomb that
// is worked on is never within it, however often it is sent.
const (
	refusedWithin   = 10 * time.Millisecond
	refusalTries    = 7
	maxRefusalTries = 40
)

// body is the JSON body of req.
func body(t *testing.T, req request) []byte {
	t.Helper()
	m := map[string]any{"query": req.query}
	if req.variables != nil {
		m["variables"] = req.variables
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roundTrip sends b once and returns how long the answer took, checking
// it with check.
func roundTrip(t *testing.T, e *env, b []byte, check func(res result, statements int64)) time.Duration {
	t.Helper()
	before := e.db.Statements()
	start := time.Now()
	res := do(t, http.MethodPost, e.url, jsonType, b, nil)
	took := time.Since(start)
	check(res, e.db.Statements()-before)
	return took
}

// wantRefusedFast fails unless req is refused with the code as a request
// error (no data key), before any SQL statement, every time, and in at most
// refusedWithin (or a quarter) more than a trivial request of the same size
// takes, at best of refusalTries each or more (see maxRefusalTries).
func wantRefusedFast(t *testing.T, e *env, req request, code string) result {
	t.Helper()
	b := body(t, req)
	// The same text, in variables the operation ignores.
	padded := body(t, request{query: "{ __typename }", variables: map[string]any{"query": req.query, "variables": req.variables}})
	var res result
	reading, best := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	bound := func() time.Duration { return reading + max(refusedWithin, reading/4) }
	tries := 0
	for tries < refusalTries || (best > bound() && tries < maxRefusalTries) {
		tries++
		reading = min(reading, roundTrip(t, e, padded, func(res result, _ int64) {
			t.Helper()
			wantJSON(t, res.body, `{"data":{"__typename":"Query"}}`)
		}))
		best = min(best, roundTrip(t, e, b, func(r result, statements int64) {
			t.Helper()
			res = r
			if statements != 0 {
				t.Fatalf("%d SQL statements ran for a refused document", statements)
			}
			wantRefusedResult(t, res, code)
		}))
	}
	t.Logf("%d bytes: refused in %v at best of %d, reading them takes %v", len(b), best, tries, reading)
	if best > bound() {
		t.Fatalf("refused in %v at best of %d, want under %v (reading %d bytes takes %v)", best, tries, bound(), len(b), reading)
	}
	return res
}

// wantRefused fails unless req is refused with the code as a request error,
// before any SQL statement.
func wantRefused(t *testing.T, e *env, req request, code string) result {
	t.Helper()
	before := e.db.Statements()
	res := e.post(t, req)
	if n := e.db.Statements() - before; n != 0 {
		t.Fatalf("%d SQL statements ran for a refused document", n)
	}
	wantRefusedResult(t, res, code)
	return res
}

// wantRefusedResult fails unless res is a request error whose first error
// has the code.
func wantRefusedResult(t *testing.T, res result, code string) {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("status = %d, want 200 for application/json\nbody: %.500s", res.status, res.body)
	}
	if got := res.codes(); len(got) == 0 || got[0] != code {
		t.Fatalf("error codes = %v, want %s first\nbody: %.500s", got, code, res.body)
	}
	if res.hasData() {
		t.Fatalf("refused document has a data key: %.500s", res.body)
	}
}

// wantMessage fails unless the first error of res says want.
func wantMessage(t *testing.T, res result, want string) {
	t.Helper()
	if got := res.Errors[0].Message; got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
}

// fragmentExplosion is a document of n fragments, each spreading the next
// twice: 2^n __typename once spread out, in 1.5 KB for 40.
func fragmentExplosion(n int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query { __typename }", n)
	return b.String()
}

// aliased is a document of n copies of field, aliased a0, a1, …
func aliased(n int, field string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	b.WriteString(" }")
	return b.String()
}

// unlimited lifts every limit on documents, to show what the limits on
// cost do alone.
func unlimited(o *resolvers.Options) {
	o.MaxDocumentBytes = math.MaxInt
	o.TokenLimit = math.MaxInt
	o.MaxFields = math.MaxInt
	o.MaxSelectionSetFields = math.MaxInt
	o.MaxRepeatedFields = math.MaxInt
	o.MaxAliases = math.MaxInt
}

// TestDenialOfService sends the documents of the "Denial of service" issue,
// each cheap to send and, before the limits, dear to answer. It does not
// run in parallel with the other tests, which would make its timings
// those of a busy machine.
func TestDenialOfService(t *testing.T) {
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	e.mustArticle(t, alice, "Only one", "dragons")

	t.Run("FragmentExplosion", func(t *testing.T) {
		res := wantRefusedFast(t, e, request{query: fragmentExplosion(40)}, "TOO_MANY_FIELDS")
		wantMessage(t, res, "the document selects 1099511627776 fields, fragments counted where they are spread, which exceeds the limit of 1000")
	})
	t.Run("ManyTypenames", func(t *testing.T) {
		// 14,000 __typename, 154 KB: validation took 13 to 22 s.
		res := wantRefusedFast(t, e, request{query: "{ " + strings.Repeat("__typename ", 14000) + "}"}, "DOCUMENT_TOO_LARGE")
		wantMessage(t, res, "the document is 154003 bytes, which exceeds the limit of 8192")
	})
	t.Run("WideSelectionSet", func(t *testing.T) {
		// Within the bytes and the tokens: 700 fields in one set.
		res := wantRefusedFast(t, e, request{query: "{ " + strings.Repeat("__typename ", 700) + "}"}, "TOO_MANY_FIELDS")
		wantMessage(t, res, "a selection set has 700 fields, counting those of its fragments and of fields of the same name, which exceeds the limit of 100")
	})
	t.Run("WideThroughFragments", func(t *testing.T) {
		// 60 ids and two spreads of a fragment of 25 usernames: 110 fields.
		wantRefusedFast(t, e, request{query: "{ viewer { " + strings.Repeat("id ", 60) + "...F ...F } } fragment F on User { " +
			strings.Repeat("username ", 25) + "}"}, "TOO_MANY_FIELDS")
	})
	t.Run("WideThroughSameNames", func(t *testing.T) {
		// Three viewers of 40 ids merge into one object of 120 fields.
		wantRefusedFast(t, e, request{query: "{ " + strings.Repeat("viewer { "+strings.Repeat("id ", 40)+"} ", 3) + "}"}, "TOO_MANY_FIELDS")
	})
	t.Run("RepeatedFields", func(t *testing.T) {
		// Two objects of 60 ids each: 118 repetitions to compare pairwise.
		res := wantRefusedFast(t, e, request{query: aliased(2, "viewer { "+strings.Repeat("id ", 60)+"}")}, "TOO_MANY_REPEATED_FIELDS")
		wantMessage(t, res, "the document repeats a field of the same name in the same selection set 118 times, fragments included, which exceeds the limit of 100 (each repetition is compared with the others)")
	})
	t.Run("AliasedSchema", func(t *testing.T) {
		// 1,000 aliased __schema answered 4.6 MB for free.
		wantRefusedFast(t, e, request{query: aliased(1000, "__schema { queryType { name } }")}, "DOCUMENT_TOO_LARGE")
	})
	t.Run("AliasedSchemaFew", func(t *testing.T) {
		// Three copies are within the limits on documents, not on cost.
		res := wantRefusedFast(t, e, request{query: aliased(3, "__schema { queryType { name } }")}, "COMPLEXITY_LIMIT_EXCEEDED")
		wantMessage(t, res, "operation has complexity 7500, which exceeds the limit of 5000")
	})
	t.Run("AliasedTags", func(t *testing.T) {
		// 4,900 aliased tags ran 4,900 statements.
		wantRefusedFast(t, e, request{query: aliased(4900, "tags")}, "DOCUMENT_TOO_LARGE")
	})
	t.Run("AliasedArticles", func(t *testing.T) {
		// 1,000 aliased article(slug:) ran 1,000 statements.
		wantRefusedFast(t, e, request{query: aliased(1000, `article(slug: "only-one") { title }`)}, "DOCUMENT_TOO_LARGE")
	})
	t.Run("Aliases", func(t *testing.T) {
		res := wantRefusedFast(t, e, request{query: aliased(150, "tags")}, "TOO_MANY_ALIASES")
		wantMessage(t, res, "the document has 150 aliased fields, fragments counted where they are spread, which exceeds the limit of 100")
	})
	t.Run("AliasesThroughFragments", func(t *testing.T) {
		// 30 aliases in a fragment spread four times in four places.
		q := "{ viewer { ...F } a: viewer { ...F } b: viewer { ...F } c: viewer { ...F } } fragment F on User { " +
			strings.TrimSuffix(strings.TrimPrefix(aliased(30, "id"), "{"), "}") + " }"
		res := wantRefusedFast(t, e, request{query: q}, "TOO_MANY_ALIASES")
		wantMessage(t, res, "the document has 123 aliased fields, fragments counted where they are spread, which exceeds the limit of 100")
	})
	t.Run("UnknownDirectives", func(t *testing.T) {
		// 3,000 unknown directives in 9 KB made 878 KB of errors.
		wantRefusedFast(t, e, request{query: "{ __typename" + strings.Repeat(" @a", 3000) + " }"}, "DOCUMENT_TOO_LARGE")
	})
	t.Run("ErrorsCapped", func(t *testing.T) {
		// 40 unknown directives, within every limit, make 79 errors: 40
		// unknown, 39 repeated.
		res := wantRefusedFast(t, e, request{query: "{ __typename" + strings.Repeat(" @a", 40) + " }"}, "GRAPHQL_VALIDATION_FAILED")
		wantCappedErrors(t, res, 79)
	})
	t.Run("LargeDocument", func(t *testing.T) {
		// Comments take no tokens; the bytes limit them.
		q := "#" + strings.Repeat("x", 8192) + "\n{ tags }"
		res := wantRefusedFast(t, e, request{query: q}, "DOCUMENT_TOO_LARGE")
		wantMessage(t, res, fmt.Sprintf("the document is %d bytes, which exceeds the limit of 8192", len(q)))
	})
	t.Run("FragmentCycle", func(t *testing.T) {
		// Counted as empty before validation, which refuses it.
		res := wantRefusedFast(t, e, request{query: `{ ...A } fragment A on Query { tags ...B } fragment B on Query { ...A ...A }`}, "GRAPHQL_VALIDATION_FAILED")
		if !strings.Contains(string(res.body), `Cannot spread fragment \"A\" within itself via \"B\".`) {
			t.Fatalf("errors %s, want one about the cycle", res.body)
		}
	})
	t.Run("FragmentCycleWide", func(t *testing.T) {
		// A cycle does not hide the fields around it from the limits.
		wantRefusedFast(t, e, request{query: `{ ...A } fragment A on Query { ...A ` + strings.Repeat("__typename ", 150) + `}`}, "TOO_MANY_FIELDS")
		wantRefusedFast(t, e, request{query: `{ ...A } fragment A on Query { ...A ` + strings.Repeat("a: tags ", 60) + `viewer { ...A } }`}, "TOO_MANY_REPEATED_FIELDS")
	})
	t.Run("UnknownFragment", func(t *testing.T) {
		wantRefusedFast(t, e, request{query: `{ ...Nowhere tags }`}, "GRAPHQL_VALIDATION_FAILED")
	})
}

// wantCappedErrors fails unless res has the first 50 of total errors and a
// last one saying how many were left out.
func wantCappedErrors(t *testing.T, res result, total int) {
	t.Helper()
	if len(res.Errors) != 51 {
		t.Fatalf("%d errors, want 51", len(res.Errors))
	}
	last := res.Errors[50]
	if code := last.Extensions["code"]; code != "TOO_MANY_ERRORS" {
		t.Fatalf("last code = %v, want TOO_MANY_ERRORS", code)
	}
	if want := fmt.Sprintf("%d more errors were left out: a response keeps the first 50", total-50); last.Message != want {
		t.Fatalf("last message = %q, want %q", last.Message, want)
	}
}

// TestDenialOfServiceUnlimited lifts the limits on documents: the limits on
// cost and on errors still answer each bomb, before any SQL.
func TestDenialOfServiceUnlimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, unlimited)
	alice := e.mustUser(t, "alice")
	e.mustArticle(t, alice, "Only one", "dragons")

	t.Run("FragmentExplosion", func(t *testing.T) {
		// gqlgen's rule walked 2^40 fragments; ours walks each once.
		res := wantRefusedFast(t, e, request{query: fragmentExplosion(40)}, "COMPLEXITY_LIMIT_EXCEEDED")
		wantMessage(t, res, "operation has complexity 1099511627776, which exceeds the limit of 5000")
	})
	t.Run("FragmentExplosionSaturates", func(t *testing.T) {
		// 2^100 does not wrap around to something cheap.
		res := wantRefusedFast(t, e, request{query: fragmentExplosion(100)}, "COMPLEXITY_LIMIT_EXCEEDED")
		wantMessage(t, res, "operation has complexity 1099511627776, which exceeds the limit of 5000")
	})
	t.Run("AliasedSchema", func(t *testing.T) {
		res := wantRefused(t, e, request{query: aliased(1000, "__schema { queryType { name } }")}, "COMPLEXITY_LIMIT_EXCEEDED")
		wantMessage(t, res, "operation has complexity 2500000, which exceeds the limit of 5000")
	})
	t.Run("AliasedType", func(t *testing.T) {
		res := wantRefused(t, e, request{query: aliased(1000, `__type(name: "Article") { name }`)}, "COMPLEXITY_LIMIT_EXCEEDED")
		wantMessage(t, res, "operation has complexity 250000, which exceeds the limit of 5000")
	})
	t.Run("AliasedTags", func(t *testing.T) {
		res := wantRefused(t, e, request{query: aliased(4900, "tags")}, "COMPLEXITY_LIMIT_EXCEEDED")
		wantMessage(t, res, "operation has complexity 49000, which exceeds the limit of 5000")
	})
	t.Run("AliasedArticles", func(t *testing.T) {
		// Each costs its statement and its one field: 11.
		res := wantRefused(t, e, request{query: aliased(1000, `article(slug: "only-one") { title }`)}, "COMPLEXITY_LIMIT_EXCEEDED")
		wantMessage(t, res, "operation has complexity 11000, which exceeds the limit of 5000")
	})
	t.Run("AliasedProfiles", func(t *testing.T) {
		wantRefused(t, e, request{query: aliased(1000, `profile(username: "alice") { username }`)}, "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("UnknownDirectives", func(t *testing.T) {
		res := wantRefused(t, e, request{query: "{ __typename" + strings.Repeat(" @a", 3000) + " }"}, "GRAPHQL_VALIDATION_FAILED")
		wantCappedErrors(t, res, 5999)
		if len(res.body) > 20000 {
			t.Fatalf("response is %d bytes, want a few KB", len(res.body))
		}
	})
}

// TestLargeOperations sends the largest documents our clients need: they
// must pass every limit.
func TestLargeOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	a := e.mustArticle(t, alice, "Only one", "dragons")
	e.mustComment(t, alice, a.Slug, "First")

	t.Run("GraphiQLIntrospection", func(t *testing.T) {
		res := e.post(t, request{query: graphiQLIntrospection})
		wantErrorCodes(t, res)
		var data struct {
			Schema struct {
				QueryType struct{ Name string } `json:"queryType"`
				Types     []struct{ Name string }
			} `json:"__schema"`
		}
		mustUnmarshal(t, res.Data, &data)
		if data.Schema.QueryType.Name != "Query" || len(data.Schema.Types) < 30 {
			t.Fatalf("introspection answered %d types, query type %q", len(data.Schema.Types), data.Schema.QueryType.Name)
		}
	})
	t.Run("GraphiQLIntrospectionTwice", func(t *testing.T) {
		// Two copies cost 5000, the limit.
		q := strings.Replace(graphiQLIntrospection, "__schema {", "a: __schema { description } b: __schema {", 1)
		wantErrorCodes(t, e.post(t, request{query: q}))
	})
	// The largest documents of parity/wire_test.go, which docs/migration.md
	// prints, as they stand there.
	for _, tc := range []struct {
		name, query string
		variables   map[string]any
		token       string
	}{
		{"Articles", `query Articles($first: Int, $after: String, $filter: ArticleFilter) {
  articles(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      slug title description tagList createdAt updatedAt favorited favoritesCount
      author { username bio image following }
    }
  }
}`, map[string]any{"first": 100, "filter": map[string]any{"tag": "dragons"}}, ""},
		{"Comments", `query Comments($slug: String!, $first: Int, $after: String) {
  article(slug: $slug) {
    comments(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id createdAt updatedAt body author { username bio image following } }
    }
  }
}`, map[string]any{"slug": a.Slug, "first": 100}, ""},
		{"UnfavoriteArticle", `mutation UnfavoriteArticle($input: UnfavoriteArticleInput!) {
  unfavoriteArticle(input: $input) {
    article {
      slug title description body tagList createdAt updatedAt favorited favoritesCount
      author { username bio image following }
    }
    userErrors { field message code }
  }
}`, map[string]any{"input": map[string]any{"slug": a.Slug}}, alice.token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.post(t, request{query: tc.query, variables: tc.variables, token: tc.token})
			wantErrorCodes(t, res)
			if len(res.Data) < 50 {
				t.Fatalf("data = %s", res.Data)
			}
		})
	}
}

// TestRootFieldsOncePerRequest checks that aliases of one lookup share its
// statement: tags once per request (when the service has forgotten them),
// article and profile once per key.
func TestRootFieldsOncePerRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	e.mustUser(t, "bob")
	e.mustArticle(t, alice, "One", "dragons")
	e.mustArticle(t, alice, "Two", "dragons")
	statements := func(req request) int64 {
		t.Helper()
		base := request{query: "{ __typename }", token: req.token}
		before := e.db.Statements()
		wantErrorCodes(t, e.post(t, base))
		between := e.db.Statements()
		wantErrorCodes(t, e.post(t, req))
		// What the request itself costs, beyond what any request costs (such
		// as checking a token).
		return (e.db.Statements() - between) - (between - before)
	}
	for _, tc := range []struct {
		name, one, many string
		times           int64 // statements of many, in statements of one
		token           string
	}{
		{"Tags", "tags", "tags", 1, ""},
		{"Article", `article(slug: "one") { title }`, `article(slug: "one") { title }`, 1, ""},
		{"Profile", `profile(username: "bob") { username }`, `profile(username: "bob") { username }`, 1, ""},
		{"Viewer", `viewer { username }`, `viewer { username }`, 1, alice.token},
		{"ArticlesBySlug", `article(slug: "one") { title }`, `article(slug: "two") { title } b: article(slug: "one") { title }`, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The service keeps the tag list between requests; forgotten,
			// it is read once per request however many aliases ask.
			e.svc.TagsChanged()
			one := statements(request{query: "{ " + tc.one + " }", token: tc.token})
			if one == 0 {
				t.Fatalf("%s ran no statement", tc.one)
			}
			e.svc.TagsChanged()
			many := statements(request{query: aliased(40, tc.many), token: tc.token})
			if many != tc.times*one {
				t.Fatalf("40 aliases ran %d statements, want %d", many, tc.times*one)
			}
		})
	}
}

// TestCosts checks the prices of root fields and introspection against a
// small limit.
func TestCosts(t *testing.T) {
	t.Parallel()
	t.Run("Lookups", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(o *resolvers.Options) { o.ComplexityLimit = 21 })
		// tags 10, article 10 + title 1
		wantErrorCodes(t, e.post(t, request{query: `{ tags article(slug: "x") { title } }`}))
		wantRejected(t, e, `{ tags article(slug: "x") { title slug } }`, "COMPLEXITY_LIMIT_EXCEEDED")
		// A root connection costs a statement at least: 10, not 1 + 1.
		wantErrorCodes(t, e.post(t, request{query: `{ articles(first: 1) { totalCount } tags }`}))
		wantRejected(t, e, `{ articles(first: 1) { totalCount } tags a: tags }`, "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("Variables", func(t *testing.T) {
		// A document's cost is kept from one request to the next unless a
		// page size is a variable: the same document is priced for each
		// page size it is sent with.
		t.Parallel()
		e := newEnv(t, func(o *resolvers.Options) { o.ComplexityLimit = 100 })
		const query = `query($n: Int) { articles(first: $n) { nodes { title slug } } }`
		for _, n := range []int{1, 50, 1, 33, 34} {
			res := e.post(t, request{query: query, variables: map[string]any{"n": n}})
			// 1 + n × 3, and a statement at least.
			if n <= 33 {
				wantErrorCodes(t, res)
				continue
			}
			wantErrorCodes(t, res, "COMPLEXITY_LIMIT_EXCEEDED")
			wantMessage(t, res, fmt.Sprintf("operation has complexity %d, which exceeds the limit of 100", 1+3*n))
		}
	})
	t.Run("Introspection", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(o *resolvers.Options) { o.ComplexityLimit = 2750 })
		wantErrorCodes(t, e.post(t, request{query: `{ __schema { queryType { name } } __type(name: "Article") { name } }`}))
		res := wantRejected(t, e, `{ __schema { queryType { name } } __type(name: "Article") { name } __typename }`, "COMPLEXITY_LIMIT_EXCEEDED")
		wantMessage(t, res, "operation has complexity 2751, which exceeds the limit of 2750")
	})
}
