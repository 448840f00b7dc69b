package main

import (
	"strings"
	"testing"
)

// TestDiffCommand: `conduit diff` is wired to the differential test (its
// flags are its own, described by -h) and `conduit help` lists it.
func TestDiffCommand(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), []string{"conduit", "diff", "-h"}, env(nil), &out); err != nil {
		t.Fatalf("conduit diff -h: %v", err)
	}
	for _, flag := range []string{"-old", "-new", "-seed", "-sequences", "-report", "-known", "-replays"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("conduit diff -h does not describe %s:\n%s", flag, out.String())
		}
	}
	err := run(t.Context(), []string{"conduit", "diff", "-new", "http://127.0.0.1:1/api"}, env(nil), &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "-old wants the base URL") {
		t.Errorf("conduit diff without -old: %v, want a refusal naming -old", err)
	}
	out.Reset()
	if err := run(t.Context(), []string{"conduit", "help"}, env(nil), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "conduit diff -old URL -new URL") {
		t.Errorf("conduit help does not list conduit diff:\n%s", out.String())
	}
}
