package resolvers

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// jsonStringSeeds are JSON values and near misses, with whether
// jsonString reads them (the rest it leaves to json.Unmarshal).
var jsonStringSeeds = []struct {
	raw  string
	read bool
}{
	{`"{ tags }"`, true},
	{`""`, true},
	{`"query Q($s: String!) { article(slug: $s) { title } } ✓"`, true},
	{`"query Q {\n  tags\n}\n"`, true},
	{`"a\"b\\c\/d\be\ff\ng\rh\ti"`, true},
	{`"\u00e9t\u00C9 \u0000 \u2028"`, true},
	{`"\ud83d\ude00 and \uD83D\uDE00"`, true},
	{`"\\"`, true},
	{`"\ud83d"`, false},        // a lone high surrogate: json replaces it
	{`"\ude00"`, false},        // a lone low one
	{`"\ud83d\u0041"`, false},  // not a pair
	{`"\ud83dx\ude00"`, false}, // not a pair either
	{`"\u12"`, false},
	{`"\u12g4"`, false},
	{`"\x41"`, false},
	{`"a\"`, false},
	{`"a"b"`, false},
	{"\"a\tb\"", false},
	{"\"a\nb\\n\"", false},
	{"\"\xff\"", false},
	{"\"\\n\xff\"", false},
	{`null`, false},
	{`12`, false},
	{`"`, false},
	{`{"a":1}`, false},
}

// TestJSONString holds jsonString to json.Unmarshal: where it answers, it
// answers the same, and it answers for the queries it is for.
func TestJSONString(t *testing.T) {
	for _, tc := range jsonStringSeeds {
		if _, ok := jsonString([]byte(tc.raw)); ok != tc.read {
			t.Errorf("jsonString(%s) ok = %v, want %v", tc.raw, ok, tc.read)
		}
		checkJSONString(t, []byte(tc.raw))
	}
	query := []byte(`"query Article($slug: String!) {\n  article(slug: $slug) {\n    title\n  }\n}\n"`)
	if n := testing.AllocsPerRun(100, func() { _, _ = jsonString(query) }); n != 1 {
		t.Errorf("jsonString of a query with line breaks: %v allocations, want 1 (the string's bytes)", n)
	}
}

// FuzzJSONString is TestJSONString on any input.
func FuzzJSONString(f *testing.F) {
	for _, tc := range jsonStringSeeds {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(checkJSONString)
}

func checkJSONString(t *testing.T, raw []byte) {
	s, ok := jsonString(raw)
	if !ok {
		return
	}
	var want string
	if err := json.Unmarshal(raw, &want); err != nil || s != want {
		t.Fatalf("jsonString(%q) = %q; json.Unmarshal gives %q, %v", raw, s, want, err)
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
