package resolvers_test

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestInt32 checks that an Int beyond 32 bits is refused as the
// specification says, as a request error: in variables and in the
// document alike. Like TestDenialOfService, it times its refusals, so it
// does not run in parallel with other tests.
func TestInt32(t *testing.T) {
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	e.mustArticle(t, alice, "Only one", "dragons")

	t.Run("Variable", func(t *testing.T) {
		const q = `query Articles($first: Int) { articles(first: $first) { totalCount } }`
		for _, n := range []string{"2147483648", "-2147483649"} {
			res := wantRefusedFast(t, e, request{query: q, variables: map[string]any{"first": json.Number(n)}}, "GRAPHQL_VALIDATION_FAILED")
			want := fmt.Sprintf(`Variable "$first" got invalid value %s; Int cannot represent non 32-bit signed integer value: %s`, n, n)
			if len(res.Errors) != 1 || res.Errors[0].Message != want {
				t.Fatalf("first = %s: errors %+v, want one: %s", n, res.Errors, want)
			}
		}
		// Beyond 64 bits, gqlgen refuses it itself.
		wantRefusedFast(t, e, request{query: q, variables: map[string]any{"first": json.Number("9223372036854775808")}}, "GRAPHQL_VALIDATION_FAILED")
	})
	t.Run("Literal", func(t *testing.T) {
		res := wantRefusedFast(t, e, request{query: `{ articles(first: 2147483648) { totalCount } }`}, "GRAPHQL_VALIDATION_FAILED")
		wantMessage(t, res, "Int cannot represent non 32-bit signed integer value: 2147483648")
		wantRefusedFast(t, e, request{query: `query ($n: Int = -2147483649) { feed(first: $n) { totalCount } }`}, "GRAPHQL_VALIDATION_FAILED")
	})
	t.Run("Bounds", func(t *testing.T) {
		// The largest Int is an Int; the service caps the page at 100.
		const q = `query Articles($first: Int) { articles(first: $first) { totalCount } }`
		res := e.post(t, request{query: q, variables: map[string]any{"first": json.Number("2147483647")}})
		wantJSON(t, res.body, `{"data":{"articles":{"totalCount":1}}}`)
		res = e.post(t, request{query: `{ articles(first: 2147483647) { totalCount } }`})
		wantJSON(t, res.body, `{"data":{"articles":{"totalCount":1}}}`)
	})
}
