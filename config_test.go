package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite README.md's settings table from config.go")

const (
	settingsBegin = "<!-- settings: rendered from config.go; go test . -run TestREADMESettings -update -->\n"
	settingsEnd   = "<!-- end of settings -->\n"
)

// TestREADMESettings keeps the README's configuration table what config.go
// says: the settings table is the one description of the configuration.
func TestREADMESettings(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	begin := bytes.Index(readme, []byte(settingsBegin))
	end := bytes.Index(readme, []byte(settingsEnd))
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the markers %q and %q", settingsBegin, settingsEnd)
	}
	begin += len(settingsBegin)
	want := settingsTable()
	if string(readme[begin:end]) == want {
		return
	}
	if !*update {
		t.Fatalf("README.md's settings table is stale; run: go test . -run TestREADMESettings -update")
	}
	out := append(append(append([]byte{}, readme[:begin]...), want...), readme[end:]...)
	if err := os.WriteFile("README.md", out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHelp lists every command and every setting, with its default.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"help", "--help", "-h"} {
		var out bytes.Buffer
		if err := run(t.Context(), []string{"conduit", arg}, env(nil), &out); err != nil {
			t.Fatalf("conduit %s: %v", arg, err)
		}
		for _, want := range []string{"conduit seed", "conduit migrate", "conduit schema", "MAX_IN_FLIGHT (default: 256)", "CONDUIT_ENV (default: development)"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("conduit %s lacks %q", arg, want)
			}
		}
		for _, s := range settings {
			if !strings.Contains(out.String(), "\n  "+s.name) {
				t.Errorf("conduit %s does not describe %s", arg, s.name)
			}
		}
	}
}

// TestSettingsRead checks that each setting with a parser is read: set to
// a value it must refuse, loadConfig names it.
func TestSettingsRead(t *testing.T) {
	for _, s := range settings {
		if s.set == nil {
			continue
		}
		probe := "\x00not a value"
		if err := s.set(&config{}, probe); err != nil {
			_, err := loadConfig(env(map[string]string{s.name: probe}))
			if err == nil || !strings.Contains(err.Error(), s.name) {
				t.Errorf("%s=%q: loadConfig = %v, want a refusal naming it", s.name, probe, err)
			}
		}
	}
}

// TestMakeRunSaysWhatItDoes: a cold `make run` compiles for about a minute;
// it says so before it starts, then runs the binary it built (so that
// Ctrl-C reaches the server, not `go run`).
func TestMakeRunSaysWhatItDoes(t *testing.T) {
	out, err := exec.Command("make", "-n", "--no-print-directory", "run").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n run: %v\n%s", err, out)
	}
	s := string(out)
	say := strings.Index(s, "compiling the server")
	build := strings.Index(s, "build -o bin/conduit .")
	start := strings.Index(s, "exec ./bin/conduit")
	if say < 0 || build < say || start < build {
		t.Fatalf("make run does not say it compiles, then build, then run the binary:\n%s", s)
	}
}

// TestDocsAssetsDefault: the API docs' files are served from docs-assets/
// in the directory the server runs from once `make docs-assets` has filled
// it, and DOCS_ASSETS_DIR wins.
func TestDocsAssetsDefault(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	load := func() string {
		t.Helper()
		c, err := loadConfig(getenv)
		if err != nil {
			t.Fatal(err)
		}
		return c.legacy.DocsAssetsDir
	}
	if got := load(); got != "" {
		t.Errorf("without docs-assets/: DocsAssetsDir = %q, want none", got)
	}
	if err := os.MkdirAll(filepath.Join(dir, "docs-assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := load(); got != "" {
		t.Errorf("with an empty docs-assets/: DocsAssetsDir = %q, want none", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "docs-assets", "swagger-ui-bundle.js"), []byte("//"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := load(), filepath.Join(dir, "docs-assets"); got != want {
		t.Errorf("DocsAssetsDir = %q, want %q", got, want)
	}
	env["DOCS_ASSETS_DIR"] = "/elsewhere"
	if got := load(); got != "/elsewhere" {
		t.Errorf("with DOCS_ASSETS_DIR: DocsAssetsDir = %q, want /elsewhere", got)
	}
}
