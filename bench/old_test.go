package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// oldScenarios are the scenarios the old backend runs: every REST one.
const oldScenarios = "^(list|list-signed-in|feed|article|tags|comments|create-article|favorite)$"

// TestBenchAgainstOld runs the benchmark with -old pointing at a second
// Conduit server on loopback, on an empty database of its own (our server
// stands in for the old backend), with the tiny dataset and very short
// durations: the old backend is seeded through its REST API, measured in
// every REST scenario with no error, and compared; a second run reuses
// what the first seeded.
func TestBenchAgainstOld(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two PostgreSQL clusters and three servers")
	}
	t.Chdir("..") // the benchmark runs from the repository root
	ctx := t.Context()
	tmp := dbtest.ClusterDir(t) // both clusters are in it

	emb, err := db.StartEmbedded(ctx, db.EmbeddedConfig{Dir: filepath.Join(tmp, "old-pg"), Database: "conduit_old"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Stop() })
	bin := filepath.Join(tmp, "conduit")
	if err := goBuild(ctx, bin, "."); err != nil {
		t.Fatal(err)
	}
	old, err := startServer(ctx, "old", bin, tmp, map[string]string{
		"DATABASE_URL": emb.URL(), "JWT_SECRET": "the-old-backend-signs-with-another-secret",
		"LOG_LEVEL": "warn", "BCRYPT_COST": "4",
		// The seed signs up every user from one address.
		"RATE_LIMIT_REGISTER_PER_ADDRESS": "off", "RATE_LIMIT_LOGIN_PER_ADDRESS": "off", "RATE_LIMIT_LOGIN_PER_ACCOUNT": "off",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := old.stop(); err != nil {
			t.Errorf("stop the old backend: %v", err)
		}
	})

	out := filepath.Join(tmp, "results")
	args := []string{
		"-old", old.base + "/api", "-dataset", "tiny", "-data", filepath.Join(tmp, "bench-pg"), "-out", out,
		"-conns", "4", "-duration", "150ms", "-rounds", "1", "-warmup", "0s",
	}

	first, log := runBench(t, append(args, "-scenarios", oldScenarios), out)
	if !first.Config.OldSeeded || !strings.Contains(log, "old backend: seeding 100 articles") {
		t.Errorf("first run: oldSeeded = %v, want true, with the seed in the log:\n%s", first.Config.OldSeeded, log)
	}
	if len(first.Checks.OldMismatches) > 0 {
		t.Errorf("the old backend holds other values than ours: %q", first.Checks.OldMismatches)
	}
	for _, sc := range strings.Split(strings.Trim(oldScenarios, "^()$"), "|") {
		checkOldRun(t, first, sc)
	}
	if !strings.Contains(first.markdown(), "| list | ") || !strings.Contains(first.markdown(), "legacy ÷ old") {
		t.Errorf("latest.md has no table against the old backend:\n%s", first.markdown())
	}

	// Again, against what the first run seeded (and wrote, and undid).
	second, log := runBench(t, append(args, "-scenarios", "^(tags|create-article)$"), out)
	if second.Config.OldSeeded || strings.Contains(log, "old backend: seeding") || !strings.Contains(log, "old backend: reusing its dataset") {
		t.Errorf("second run: oldSeeded = %v, want false and no seeding in the log:\n%s", second.Config.OldSeeded, log)
	}
	checkOldRun(t, second, "tags")
	checkOldRun(t, second, "create-article")
}

// runBench runs the benchmark with args and returns its latest.json and
// what it printed.
func runBench(t *testing.T, args []string, out string) (*results, string) {
	t.Helper()
	start := time.Now()
	var log bytes.Buffer
	if err := run(t.Context(), args, &log); err != nil {
		t.Fatalf("bench %s: %v\n%s", strings.Join(args, " "), err, log.String())
	}
	t.Logf("bench %s: %s\n%s", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond), log.String())
	b, err := os.ReadFile(filepath.Join(out, "latest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r, log.String()
}

// checkOldRun fails unless the old backend ran scenario sc with some
// requests and no error, and both ratios new ÷ old were computed.
func checkOldRun(t *testing.T, r *results, sc string) {
	t.Helper()
	var old *runResult
	for i, x := range r.Runs {
		if x.Scenario == sc && x.System == sysOld {
			old = &r.Runs[i]
		}
	}
	if old == nil {
		t.Errorf("%s: no run of the old backend", sc)
		return
	}
	if old.ReqPerSec <= 0 || old.Errors != 0 || !old.External {
		t.Errorf("%s on old: %.0f req/s, %d errors (first: %s), external %v; want req/s > 0, no error, external", sc, old.ReqPerSec, old.Errors, old.FirstError, old.External)
	}
	for _, sys := range []string{sysLegacy, sysGraphQL} {
		found := false
		for _, x := range r.Ratios {
			if x.Scenario == sc && x.Of == sys && x.To == sysOld {
				found = x.Value > 0
			}
		}
		if !found {
			t.Errorf("%s: no ratio %s ÷ old", sc, sys)
		}
	}
}

// TestOpenOldRefusesPartialSeed points openOld at a stand-in old backend
// whose marker user cannot log in but which is not empty: it must say so,
// not seed over it or measure it.
func TestOpenOldRefusesPartialSeed(t *testing.T) {
	for _, tc := range []struct {
		name          string
		articles      int
		profileStatus int
		want          string
	}{
		{"ErrArticles", 37, http.StatusNotFound, "not empty (37 articles; user ada_000 does not exist)"},
		{"ErrUsers", 0, http.StatusOK, "not empty (0 articles; user ada_000 exists)"},
		{"ErrProfileStatus", 0, http.StatusInternalServerError, "answered 500, want 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == http.MethodPost && r.URL.Path == "/api/users/login":
					w.WriteHeader(http.StatusUnauthorized)
					io.WriteString(w, `{"errors":{"email or password":["is invalid"]}}`)
				case r.URL.Path == "/api/articles":
					fmt.Fprintf(w, `{"articles":[],"articlesCount":%d}`, tc.articles)
				case strings.HasPrefix(r.URL.Path, "/api/profiles/"):
					w.WriteHeader(tc.profileStatus)
					io.WriteString(w, `{}`)
				default:
					t.Errorf("unexpected %s %s", r.Method, r.URL)
					w.WriteHeader(http.StatusTeapot)
				}
			}))
			defer srv.Close()
			_, err := openOld(t.Context(), srv.URL+"/api", newDataset(datasetSizes["tiny"]), newProgress(io.Discard))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("openOld = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestOldAPIRoot(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:5000/api":       "http://127.0.0.1:5000/api",
		"http://127.0.0.1:5000/api/":      "http://127.0.0.1:5000/api",
		"https://old.example/conduit/api": "https://old.example/conduit/api",
		"http://127.0.0.1:5000":           "",
		"127.0.0.1:5000/api":              "",
		"http://127.0.0.1:5000/api?x=1":   "",
	} {
		got, err := oldAPIRoot(in)
		if want == "" && err == nil || want != "" && got != want {
			t.Errorf("oldAPIRoot(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
