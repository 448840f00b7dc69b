package web_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/web"
)

func TestNewStatic(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "index.html")
	if err := os.WriteFile(file, []byte("<!doctype html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{filepath.Join(dir, "missing"), file} {
		if s, err := web.NewStatic(bad, web.StaticOptions{}); err == nil {
			s.Close()
			t.Errorf("NewStatic(%q) = nil error, want a refusal", bad)
		}
	}
	s, err := web.NewStatic(dir, web.StaticOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestStaticETag checks that the ETag is the content's: two replicas whose
// copies of a build were written at different times agree on it, and a
// file changed in place gets a new one.
func TestStaticETag(t *testing.T) {
	etag := func(s *web.Static) string {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/index.html", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d, want 200", rec.Code)
		}
		return rec.Header().Get("ETag")
	}
	var replicas []*web.Static
	for i, when := range []time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)} {
		dir := t.TempDir()
		path := filepath.Join(dir, "index.html")
		if err := os.WriteFile(path, []byte("<!doctype html><title>v1</title>"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, when, when); err != nil {
			t.Fatal(err)
		}
		s, err := web.NewStatic(dir, web.StaticOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas = append(replicas, s)
		if i == 1 {
			first, second := etag(replicas[0]), etag(s)
			if first == "" || first != second {
				t.Fatalf("ETags %q and %q of one content, want one and the same", first, second)
			}
			// A deploy rewrites the file in place, same length.
			if err := os.WriteFile(path, []byte("<!doctype html><title>v2</title>"), 0o644); err != nil {
				t.Fatal(err)
			}
			later := when.Add(time.Minute)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
			if changed := etag(s); changed == second {
				t.Fatalf("ETag %q kept after the content changed", changed)
			}
		}
	}
}
