package app_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/docs"
	"github.com/conduit-dev/conduit/resolvers"
)

var (
	hrefRE  = regexp.MustCompile(`href="([^"]*)"`)
	styleRE = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
)

// docsPages are the landing page's links to the API docs' pages: without
// their files (no DOCS_ASSETS_DIR here) they answer 404 with a page that
// says how to get them; legacy's TestDocsPages serves them with files.
var docsPages = map[string]bool{
	"/api/docs":  true,
	"/api/redoc": true,
}

func TestLandingPage(t *testing.T) {
	t.Parallel()
	s := newSite(t, app.Config{}, conduit.Config{})
	r := s.fetch(t, "GET", "/", "Accept", browser)
	if r.status != http.StatusOK {
		t.Fatalf("/ = %d, want 200", r.status)
	}
	page := string(r.body)
	sum := sha256.Sum256([]byte(styleRE.FindStringSubmatch(page)[1]))
	r.wantHeaders(t, "/",
		"Content-Type", "text/html; charset=utf-8",
		"Cache-Control", "no-cache",
		"Content-Security-Policy", "default-src 'none'; style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"X-Frame-Options", "DENY")
	if strings.Contains(page, "<script") || strings.Contains(page, " style=") {
		t.Errorf("the landing page has a script or an inline style attribute, which its policy refuses:\n%s", page)
	}

	var links []string
	for _, m := range hrefRE.FindAllStringSubmatch(page, -1) {
		links = append(links, m[1])
	}
	want := []string{"/graphql", "/graphql/schema.graphql", "/api/docs", "/api/redoc", "/api/openapi.json", "/docs/migration.md"}
	if !slices.Equal(links, want) {
		t.Fatalf("links = %q, want %q", links, want)
	}
	for _, link := range links {
		if docsPages[link] {
			if r := s.fetch(t, "GET", link, "Accept", browser); r.status != http.StatusNotFound || !strings.Contains(string(r.body), "make docs-assets") {
				t.Errorf("GET %s = %d, want 404 with a page that says to run make docs-assets: %s", link, r.status, r.body)
			}
			continue
		}
		// As a browser follows a link.
		if r := s.fetch(t, "GET", link, "Accept", browser); r.status != http.StatusOK || len(r.body) == 0 {
			t.Errorf("GET %s = %d with %d bytes, want 200 with a body", link, r.status, len(r.body))
		}
	}

	t.Run("Head", func(t *testing.T) {
		r := s.fetch(t, "HEAD", "/")
		if r.status != http.StatusOK || len(r.body) != 0 {
			t.Fatalf("HEAD / = %d with %d bytes, want 200 and none", r.status, len(r.body))
		}
		r.wantHeaders(t, "HEAD /", "Content-Length", strconv.Itoa(len(page)), "Content-Type", "text/html; charset=utf-8")
	})
	t.Run("Revalidated", func(t *testing.T) {
		etag := r.header.Get("ETag")
		if r := s.fetch(t, "GET", "/", "If-None-Match", etag); etag == "" || r.status != http.StatusNotModified {
			t.Fatalf("/ with If-None-Match %q = %d, want 304", etag, r.status)
		}
	})
	t.Run("ErrOtherPaths", func(t *testing.T) {
		// Without a frontend, nothing but / is a page.
		for _, path := range []string{"/articles/some-slug", "/index.html", "/docs/", "/docs/schema-changes.md"} {
			s.fetch(t, "GET", path, "Accept", browser).wantNotFound(t, path)
		}
		if r := s.fetch(t, "POST", "/"); r.status != http.StatusMethodNotAllowed {
			t.Fatalf("POST / = %d, want 405", r.status)
		}
	})
	t.Run("WithoutIntrospection", func(t *testing.T) {
		opts := resolvers.DefaultOptions()
		opts.Introspection = false
		s := newSite(t, app.Config{GraphQL: opts}, conduit.Config{})
		page := string(s.fetch(t, "GET", "/").body)
		if strings.Contains(page, "schema.graphql") || !strings.Contains(page, `href="/graphql"`) {
			t.Fatalf("with introspection off the page should link GraphiQL and not the SDL:\n%s", page)
		}
	})
}

func TestMigrationGuide(t *testing.T) {
	t.Parallel()
	s := newSite(t, app.Config{}, conduit.Config{})
	file, err := os.ReadFile("../docs/migration.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(docs.Migration) != string(file) {
		t.Fatal("docs.Migration is not docs/migration.md")
	}
	r := s.fetch(t, "GET", "/docs/migration.md")
	r.wantFile(t, "/docs/migration.md", string(file))
	r.wantHeaders(t, "/docs/migration.md",
		"Content-Type", "text/markdown; charset=utf-8",
		"Cache-Control", "no-cache",
		"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	etag := r.header.Get("ETag")
	if r := s.fetch(t, "GET", "/docs/migration.md", "If-None-Match", etag); etag == "" || r.status != http.StatusNotModified {
		t.Fatalf("with If-None-Match %q: %d, want 304", etag, r.status)
	}
	if r := s.fetch(t, "HEAD", "/docs/migration.md"); r.status != http.StatusOK || len(r.body) != 0 || r.header.Get("Content-Length") != strconv.Itoa(len(file)) {
		t.Fatalf("HEAD: %d, %d bytes, Content-Length %q; want 200, none, %d", r.status, len(r.body), r.header.Get("Content-Length"), len(file))
	}
}
