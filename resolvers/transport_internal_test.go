package resolvers

import (
	"encoding/json"
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
