package resolvers

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"testing"
	"unicode/utf8"
)

// objectMembersSeeds are bodies a client may send, well-formed or not.
var objectMembersSeeds = []string{
	`{"query":"{ tags }"}`,
	` { "query" : "{ tags }" , "variables" : { "slug" : "a-b" } } `,
	"{\n\t\"query\":\"q\",\r\n\"operationName\":null}",
	`{}`, `{ }`, `[]`, `null`, `"query"`, `12`, `true`,
	`{"query":"a\"}b","variables":{"s":"}]\\","n":[1,{"x":[]}]}}`,
	`{"qu\u0065ry":"escaped name","query":"later wins"}`,
	`{"query":"first","query":"second"}`,
	`{"a":-1.5e+3,"b":true,"c":false,"d":null,"e":[],"f":{}}`,
	`{"variables":[1,2],"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
	`{"query":"x"`, `{"query":}`, `{"query":"x",}`, `{"query":"x"} {}`, `{query:"x"}`,
	`{"\\":"backslash name","\"":"quote name"}`,
	`{"slug":"a-b","slug":"later wins","qu\u0065ry":"x"}`, `{"s":"a","n":1}`, `{"s":"tab\t"}`,
}

// TestObjectMembers holds objectMembers to json.Unmarshal into a map of
// raw values, which it replaces: the same members, a later one of a name
// winning, and the same verdict on what is an object.
func TestObjectMembers(t *testing.T) {
	for _, body := range objectMembersSeeds {
		checkObjectMembers(t, []byte(body))
	}
}

// FuzzObjectMembers is TestObjectMembers on any input.
func FuzzObjectMembers(f *testing.F) {
	for _, body := range objectMembersSeeds {
		f.Add([]byte(body))
	}
	f.Fuzz(checkObjectMembers)
}

func checkObjectMembers(t *testing.T, body []byte) {
	// paramsFromBody refuses invalid UTF-8 and invalid JSON first.
	if !utf8.Valid(body) || !json.Valid(body) {
		return
	}
	// What plainStringObject takes must be what decodeJSON gives.
	if m, ok := plainStringObject(body); ok {
		var want map[string]any
		if err := decodeJSON(body, &want); err != nil || !reflect.DeepEqual(m, want) {
			t.Fatalf("plainStringObject(%q) = %v; decodeJSON gives %v, %v", body, m, want, err)
		}
	}
	var want map[string]json.RawMessage
	wantObject := json.Unmarshal(body, &want) == nil && want != nil
	got := map[string]json.RawMessage{}
	isObject := objectMembers(body, func(name, raw []byte) { got[string(name)] = raw })
	if isObject != wantObject {
		t.Fatalf("objectMembers(%q) = %v; json.Unmarshal says an object: %v", body, isObject, wantObject)
	}
	if isObject && !maps.EqualFunc(got, want, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
		t.Fatalf("objectMembers(%q) gave %q; json.Unmarshal gives %q", body, got, want)
	}
}
