package parity_test

import (
	"os"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/legacy"
)

// retiringSection is the guide's part for operators, on retiring the REST
// API: prose, kept in Markdown and appended to what the matrix renders.
func retiringSection(t *testing.T) []byte {
	b, err := os.ReadFile("testdata/retiring.md")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGuideLinksReachSections fails when the Link header of a legacy route
// (legacy.Route.Guide) does not point at the section of the guide that the
// route's row renders.
func TestGuideLinksReachSections(t *testing.T) {
	guide, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, l := range strings.Split(string(guide), "\n") {
		if h, ok := strings.CutPrefix(l, "### "); ok {
			headings[anchor(h)] = true
		}
	}
	rows := map[string]string{}
	for _, op := range matrix {
		rows[op.rest] = op.name
	}
	for _, r := range legacy.Routes() {
		name, ok := rows[r.Method+" "+r.Path]
		if !ok {
			continue // TestMatrixCoversEveryRoute says so
		}
		if r.Guide != anchor(name) {
			t.Errorf("%s %s links #%s, its section is #%s", r.Method, r.Path, r.Guide, anchor(name))
		}
		if !headings[r.Guide] {
			t.Errorf("%s %s links #%s, which is no section of the guide", r.Method, r.Path, r.Guide)
		}
	}
}
