package difftest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/difftest"
)

// TestOwnServersAgree plays the script and 200 generated sequences against
// two instances of this server, each on its own database: they must answer
// every call alike, after normalising what legitimately differs (tokens,
// comment ids, timestamps, slug suffixes).
func TestOwnServersAgree(t *testing.T) {
	t.Parallel()
	old, new := newBackend(t), newBackend(t)
	start := time.Now()
	res, err := difftest.Run(context.Background(), difftest.Config{Old: old, New: new, Seed: 7, Sequences: 200})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d calls in %v", res.Calls, time.Since(start))
	for _, f := range res.Findings {
		t.Errorf("%s: %s at %s (%s): old %s, new %s; first in sequence %d, call %d", f.Op, f.Kind, f.Path, f.At, f.Old, f.New, f.Sequence, f.Step)
	}
	if n := res.Unexpected(); n != 0 {
		t.Errorf("Unexpected() = %d, want 0", n)
	}
	calls := len(difftest.Script())
	for i := 1; i <= 200; i++ {
		calls += len(difftest.Generate(7, i))
	}
	if res.Calls != calls {
		t.Errorf("Calls = %d, want %d", res.Calls, calls)
	}
	for _, o := range res.Ops {
		if o.Calls == 0 || o.Same != o.Calls {
			t.Errorf("%s: %d calls, %d the same; want some, all the same", o.Operation, o.Calls, o.Same)
		}
	}
	if res.Replays != 0 {
		t.Errorf("Replays = %d, want 0: nothing to reduce", res.Replays)
	}
}

// TestAlterationsCaught puts a proxy in front of the new backend that
// changes one kind of answer at a time. Each change must be found, as the
// right kind of difference of the right operation at the right path, and
// reduced to the shortest sequence of calls that shows it.
func TestAlterationsCaught(t *testing.T) {
	t.Parallel()
	var current atomic.Pointer[alteration]
	old := newBackend(t)
	new := newProxy(t, newBackend(t), func() alteration {
		if a := current.Load(); a != nil {
			return *a
		}
		return nil
	})
	cases := []struct {
		name      string
		alter     alteration
		op        string
		kind      difftest.Kind
		path      string
		old, new  string
		repro     []string // operations of the reproduction, in order
		lastOld   int      // statuses of the reproduction's last call
		lastNew   int
		lastCheck func(t *testing.T, newBody string)
	}{
		{
			name: "drops a key",
			alter: func(r *http.Request, status int, body map[string]any) int {
				if r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/api/profiles/") {
					if p, ok := body["profile"].(map[string]any); ok {
						delete(p, "following")
					}
				}
				return status
			},
			op: "getProfile", kind: difftest.KindMissingKey, path: "$.profile.following", old: "false", new: "(absent)",
			repro: []string{"register", "getProfile"}, lastOld: 200, lastNew: 200,
			lastCheck: func(t *testing.T, body string) {
				if strings.Contains(body, "following") {
					t.Errorf("the new answer of the reproduction still has following: %s", body)
				}
			},
		},
		{
			name: "changes a status",
			alter: func(r *http.Request, status int, body map[string]any) int {
				if r.Method == "DELETE" && strings.Contains(r.URL.Path, "/comments/") && status == http.StatusNoContent {
					return http.StatusOK
				}
				return status
			},
			op: "deleteArticleComment", kind: difftest.KindStatus, path: "", old: "204", new: "200",
			repro:   []string{"register", "register", "createArticle", "createArticleComment", "deleteArticleComment"},
			lastOld: 204, lastNew: 200,
		},
		{
			name: "reorders tagList",
			alter: func(r *http.Request, status int, body map[string]any) int {
				if r.Method == "POST" && r.URL.Path == "/api/articles" {
					if a, ok := body["article"].(map[string]any); ok {
						if tags, ok := a["tagList"].([]any); ok {
							slices.Reverse(tags)
						}
					}
				}
				return status
			},
			op: "createArticle", kind: difftest.KindOrder, path: "$.article.tagList",
			old: `["{p}apple", "{p}mango", "{p}zebra"]`, new: `["{p}zebra", "{p}mango", "{p}apple"]`,
			repro: []string{"register", "createArticle"}, lastOld: 201, lastNew: 201,
		},
		{
			name: "changes a count",
			alter: func(r *http.Request, status int, body map[string]any) int {
				if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/favorite") {
					if a, ok := body["article"].(map[string]any); ok {
						n, _ := a["favoritesCount"].(json.Number).Int64()
						a["favoritesCount"] = n + 1
					}
				}
				return status
			},
			op: "createArticleFavorite", kind: difftest.KindValue, path: "$.article.favoritesCount", old: "1", new: "2",
			repro:   []string{"register", "register", "createArticle", "createArticleFavorite"},
			lastOld: 200, lastNew: 200,
			lastCheck: func(t *testing.T, body string) {
				if !strings.Contains(body, `"favoritesCount":2`) {
					t.Errorf("the new answer of the reproduction = %s, want favoritesCount 2", body)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			current.Store(&tc.alter)
			defer current.Store(nil)
			res, err := difftest.Run(context.Background(), difftest.Config{Old: old, New: new, Seed: 3, Sequences: 10})
			if err != nil {
				t.Fatal(err)
			}
			var found []difftest.Finding
			for _, f := range res.Findings {
				if f.Expected == nil {
					found = append(found, f)
				}
			}
			if len(found) != 1 {
				for _, f := range found {
					t.Logf("%s: %s at %s: old %s, new %s", f.Op, f.Kind, f.Path, f.Old, f.New)
				}
				t.Fatalf("%d unexpected differences, want 1", len(found))
			}
			f := found[0]
			if f.Op != tc.op || f.Kind != tc.kind || f.Path != tc.path {
				t.Errorf("difference = %s, %s at %q; want %s, %s at %q", f.Op, f.Kind, f.Path, tc.op, tc.kind, tc.path)
			}
			if f.Old != tc.old || f.New != tc.new {
				t.Errorf("old, new = %s, %s; want %s, %s", f.Old, f.New, tc.old, tc.new)
			}
			if f.Sequence != 0 {
				t.Errorf("first seen in sequence %d, want 0: the script calls every operation first", f.Sequence)
			}
			if res.Unexpected() < 1 {
				t.Errorf("Unexpected() = %d, want at least 1", res.Unexpected())
			}
			rep := f.Reproduction
			if rep == nil {
				t.Fatal("no reproduction")
			}
			if !rep.Reproduced || !rep.Minimal {
				t.Errorf("reproduced %v, minimal %v; want both", rep.Reproduced, rep.Minimal)
			}
			var ops []string
			for _, c := range rep.Calls {
				ops = append(ops, c.Step.Op)
			}
			if !slices.Equal(ops, tc.repro) {
				t.Errorf("reproduction = %v, want %v", ops, tc.repro)
			}
			if rep.From <= len(rep.Calls) || rep.Replays < 2 {
				t.Errorf("reduced from %d calls in %d replays; want from more than %d, in at least 2", rep.From, rep.Replays, len(rep.Calls))
			}
			last := rep.Calls[len(rep.Calls)-1]
			if last.Step.Op != tc.op || last.OldAnswer.Status != tc.lastOld || last.NewAnswer.Status != tc.lastNew {
				t.Errorf("last call %s answered %d and %d, want %s answered %d and %d",
					last.Step.Op, last.OldAnswer.Status, last.NewAnswer.Status, tc.op, tc.lastOld, tc.lastNew)
			}
			if tc.lastCheck != nil {
				tc.lastCheck(t, last.NewAnswer.Body)
			}
			if !strings.HasPrefix(rep.Calls[0].NewCall.Path, "/users") || !strings.Contains(rep.Calls[0].NewCall.Body, rep.Prefix) {
				t.Errorf("first call %s %s does not sign up a user of the replay's prefix %s", rep.Calls[0].NewCall.Path, rep.Calls[0].NewCall.Body, rep.Prefix)
			}
			md := res.Markdown()
			for _, want := range []string{"**FAIL:", "### 1. `" + tc.op + "`: " + string(tc.kind), "no single call can be left out"} {
				if !strings.Contains(md, want) {
					t.Errorf("the Markdown report lacks %q:\n%s", want, md)
				}
			}
		})
	}
}

// TestKnownDifference runs the command with an alteration that a
// known-differences entry accepts: the difference is expected, the report
// says so, and the command succeeds; without the entry it fails.
func TestKnownDifference(t *testing.T) {
	t.Parallel()
	old := newBackend(t)
	new := newProxy(t, newBackend(t), func() alteration {
		return func(r *http.Request, status int, body map[string]any) int {
			if r.Method == "POST" && r.URL.Path == "/api/articles" && status == http.StatusCreated {
				return http.StatusOK
			}
			return status
		}
	})
	dir := t.TempDir()
	known := filepath.Join(dir, "known.yaml")
	if err := os.WriteFile(known, []byte(`differences:
  - operation: createArticle
    kind: status
    path: ""
    old: "201"
    new: "200"
    rule: The test's proxy answers 200 to a create; accepted for the test.
`), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, []byte("differences: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report")
	args := []string{"-old", old, "-new", new, "-sequences", "5", "-report", report}

	var out strings.Builder
	if err := difftest.Command(context.Background(), append(args, "-known", known), &out); err != nil {
		t.Fatalf("with the entry: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "**PASS: no unexpected difference") || !strings.Contains(out.String(), "report: "+report+".md and "+report+".json") {
		t.Errorf("output lacks the verdict or the report's files:\n%s", out.String())
	}
	var res difftest.Result
	b, err := os.ReadFile(report + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Expected == nil || res.Findings[0].Kind != difftest.KindStatus || res.Findings[0].Reproduction != nil {
		t.Fatalf("findings = %+v, want the one status difference, expected and not reduced", res.Findings)
	}
	for _, o := range res.Ops {
		if o.Operation == "createArticle" && (o.Expected == 0 || o.Unexpected != 0 || o.Same+o.Expected != o.Calls) {
			t.Errorf("createArticle: %+v; want its successes expected, nothing unexpected", o)
		}
	}
	md, err := os.ReadFile(report + ".md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "## Expected differences") || !strings.Contains(string(md), "The test's proxy answers 200 to a create") {
		t.Errorf("the Markdown report does not list the expected difference with its rule:\n%s", md)
	}

	out.Reset()
	err = difftest.Command(context.Background(), append(args, "-known", empty, "-replays", "30"), &out)
	if err == nil || !strings.Contains(err.Error(), "calls differ from the old backend") {
		t.Fatalf("without the entry: error %v, want one about the differing calls\n%s", err, out.String())
	}
}

// TestCommandFlags: the command refuses what it cannot run with, naming
// the flag, before it calls anything.
func TestCommandFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "-old wants the base URL"},
		{[]string{"-old", "http://127.0.0.1:1/api"}, "-new wants the base URL"},
		{[]string{"-old", "127.0.0.1:5000", "-new", "http://127.0.0.1:1/api"}, "-old wants the base URL"},
		{[]string{"-old", "http://a/api", "-new", "http://b/api", "-sequences", "-1"}, "-sequences"},
		{[]string{"-old", "http://a/api", "-new", "http://b/api", "-known", "/nonexistent/known.yaml"}, "known differences"},
		{[]string{"-old", "http://a/api", "-new", "http://b/api", "extra"}, `unexpected argument "extra"`},
	} {
		err := difftest.Command(context.Background(), tc.args, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("conduit diff %v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
