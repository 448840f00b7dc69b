package resolvers

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestPlainJSONString holds the shortcut for strings with nothing to
// unescape to json.Unmarshal: where it answers, it answers the same, and
// it answers for the one-line query it is for.
func TestPlainJSONString(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		plain bool
	}{
		{`"{ tags }"`, true},
		{`""`, true},
		{`"query Q($s: String!) { article(slug: $s) { title } } ✓"`, true},
		{`"{ tags }\n"`, false},
		{`"a\"b"`, false},
		{`"a"b"`, false},
		{"\"a\tb\"", false},
		{"\"\xff\"", false},
		{`null`, false},
		{`12`, false},
		{`"`, false},
		{`{"a":1}`, false},
	} {
		s, ok := plainJSONString([]byte(tc.raw))
		if ok != tc.plain {
			t.Errorf("plainJSONString(%q) ok = %v, want %v", tc.raw, ok, tc.plain)
			continue
		}
		if !ok {
			continue
		}
		var want string
		if err := json.Unmarshal([]byte(tc.raw), &want); err != nil || s != want {
			t.Errorf("plainJSONString(%q) = %q; json.Unmarshal gives %q, %v", tc.raw, s, want, err)
		}
	}
}

// TestParamsFromURLObjects reads the variables and extensions of a GET:
// JSON objects, refused when they are not, malformed JSON included, which
// is checked before plainStringObject reads it.
func TestParamsFromURLObjects(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{`query=q&variables={"slug":"a-b","n":"1"}`, `map[n:1 slug:a-b]`},
		{`query=q&variables={"n":1}`, `map[n:1]`},
		{`query=q&variables={"slug":`, `the variables parameter must be an object`},
		{`query=q&variables=[1]`, `the variables parameter must be an object`},
		{`query=q&extensions={"x":`, `the extensions parameter must be an object`},
	} {
		p, err := paramsFromURL(strings.NewReplacer(`"`, "%22", "{", "%7B", "}", "%7D", "[", "%5B", "]", "%5D").Replace(tc.query))
		got := ""
		if err != nil {
			got = err.message
		} else {
			got = fmt.Sprint(p.Variables)
		}
		if got != tc.want {
			t.Errorf("paramsFromURL(%s) gave %q, want %q", tc.query, got, tc.want)
		}
	}
}
