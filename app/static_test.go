package app_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/docs"
	"github.com/conduit-dev/conduit/web"
)

// The files of the test frontend, as a Vite or webpack build lays them out.
const (
	indexHTML  = "<!doctype html><title>Conduit app</title><script type=module src=/assets/app.3f9a1c2b.js></script>\n"
	appJS      = "console.log('identity');\n"
	appJSBr    = "brotli bytes (the server never decodes them)"
	blogHTML   = "<!doctype html><title>blog</title>\n"
	robotsTXT  = "User-agent: *\n"
	secretText = "the secret outside the root"
)

// modTime is every test file's modification time.
var modTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// frontend is a built frontend in a fresh directory, beside a directory
// outside it that holds a secret and that symbolic links inside point to.
type frontend struct {
	dir     string // STATIC_DIR
	outside string // beside it: secret.txt
	appJSGz []byte // assets/app.3f9a1c2b.js.gz
}

func newFrontend(tb testing.TB) frontend {
	tb.Helper()
	base := tb.TempDir()
	f := frontend{dir: filepath.Join(base, "site"), outside: filepath.Join(base, "outside")}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(appJS))
	_ = zw.Close()
	f.appJSGz = gz.Bytes()
	files := map[string]string{
		"index.html":                  indexHTML,
		"assets/app.3f9a1c2b.js":      appJS,
		"assets/app.3f9a1c2b.js.br":   appJSBr,
		"assets/app.3f9a1c2b.js.gz":   gz.String(),
		"assets/index-BdX3k2aZ.css":   "body{margin:0}\n",
		"assets/module.3f9a1c2b.wasm": "\x00asm\x01\x00\x00\x00",
		"logo.svg":                    `<svg xmlns="http://www.w3.org/2000/svg"/>`,
		"manifest.json":               `{"name":"Conduit"}`,
		"robots.txt":                  robotsTXT,
		"blog/index.html":             blogHTML,
		".env":                        "JWT_SECRET=" + secretText,
		".well-known/security.txt":    "Contact: mailto:security@example.com\n",
		// Files named like the server's own paths, which must never be served.
		"api/nope":           "static api",
		"graphql/nope":       "static graphql",
		"healthz/status.txt": "static healthz",
		"metrics":            "static metrics",
		"readyz":             "static readyz",
	}
	for name, content := range files {
		mustWrite(tb, filepath.Join(f.dir, name), content)
	}
	mustWrite(tb, filepath.Join(f.outside, "secret.txt"), secretText)
	for link, target := range map[string]string{
		"escape-file":     "../outside/secret.txt",                // relative, leaving the root
		"escape-abs":      filepath.Join(f.outside, "secret.txt"), // absolute
		"escape-dir":      "../outside",                           // a directory outside
		"assets/up.txt":   "../../outside/secret.txt",
		"inside-link.txt": "robots.txt", // stays inside: allowed
	} {
		if err := os.Symlink(target, filepath.Join(f.dir, link)); err != nil {
			tb.Fatal(err)
		}
	}
	return f
}

func mustWrite(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chtimes(path, modTime, modTime); err != nil {
		tb.Fatal(err)
	}
}

// newStaticSite is a site serving f, with public metrics.
func newStaticSite(tb testing.TB, f frontend, opts web.StaticOptions) *site {
	tb.Helper()
	static, err := web.NewStatic(f.dir, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { static.Close() })
	return newSite(tb, app.Config{Static: static, PublicMetrics: true}, conduit.Config{})
}

// exactClient sends only the headers a test gives: no Accept-Encoding of
// its own, no transparent decompression, no following redirects.
var exactClient = &http.Client{
	Transport:     &http.Transport{DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// fetch sends method path with the headers (name, value pairs) and
// nothing else.
func (s *site) fetch(tb testing.TB, method, path string, headers ...string) reply {
	tb.Helper()
	req, err := http.NewRequest(method, s.url+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := exactClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

// raw sends target as the request line's target, byte for byte, so that
// no client cleans or escapes it on the way.
func (s *site) raw(tb testing.TB, target string, headers ...string) reply {
	tb.Helper()
	u, _ := url.Parse(s.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	var req strings.Builder
	req.WriteString("GET " + target + " HTTP/1.1\r\nHost: " + u.Host + "\r\nConnection: close\r\n")
	for i := 0; i+1 < len(headers); i += 2 {
		req.WriteString(headers[i] + ": " + headers[i+1] + "\r\n")
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		tb.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

// browser is the Accept of a browser's navigation to a page.
const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// wantHeaders fails unless r has each header (name, value pairs) exactly;
// a value "" means absent.
func (r reply) wantHeaders(tb testing.TB, what string, kv ...string) {
	tb.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if got := strings.Join(r.header.Values(kv[i]), ", "); got != kv[i+1] {
			tb.Errorf("%s: %s = %q, want %q", what, kv[i], got, kv[i+1])
		}
	}
}

// wantFile fails unless r is 200 with exactly body.
func (r reply) wantFile(tb testing.TB, what, body string) {
	tb.Helper()
	if r.status != http.StatusOK || string(r.body) != body {
		tb.Fatalf("%s: %d %q, want 200 %q", what, r.status, r.body, body)
	}
}

// wantNotFound fails unless r is the static handler's plain 404.
func (r reply) wantNotFound(tb testing.TB, what string) {
	tb.Helper()
	if r.status != http.StatusNotFound || string(r.body) != "404 page not found\n" {
		tb.Fatalf("%s: %d %q, want 404 %q", what, r.status, r.body, "404 page not found\n")
	}
	r.wantHeaders(tb, what, "Content-Type", "text/plain; charset=utf-8")
}

func TestStaticContentTypes(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	s := newStaticSite(t, f, web.StaticOptions{})
	for _, c := range []struct{ path, contentType, body string }{
		{"/assets/app.3f9a1c2b.js", "text/javascript; charset=utf-8", appJS},
		{"/assets/index-BdX3k2aZ.css", "text/css; charset=utf-8", "body{margin:0}\n"},
		{"/logo.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"/>`},
		{"/assets/module.3f9a1c2b.wasm", "application/wasm", "\x00asm\x01\x00\x00\x00"},
		{"/manifest.json", "application/json", `{"name":"Conduit"}`},
		{"/index.html", "text/html; charset=utf-8", indexHTML},
		{"/", "text/html; charset=utf-8", indexHTML},
		{"/robots.txt", "text/plain; charset=utf-8", robotsTXT},
		{"/.well-known/security.txt", "text/plain; charset=utf-8", "Contact: mailto:security@example.com\n"},
	} {
		r := s.fetch(t, "GET", c.path)
		r.wantFile(t, c.path, c.body)
		r.wantHeaders(t, c.path,
			"Content-Type", c.contentType,
			"Content-Length", strconv.Itoa(len(c.body)),
			"Content-Encoding", "",
			"X-Content-Type-Options", "nosniff",
			"Content-Security-Policy", web.DefaultStaticCSP)
	}
}

func TestStaticFallback(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	s := newStaticSite(t, f, web.StaticOptions{})
	t.Run("PageGetsIndex", func(t *testing.T) {
		for _, accept := range []string{browser, "text/html", "TEXT/HTML; q=0.5", "application/json, text/html"} {
			for _, path := range []string{"/articles/some-slug", "/articles/some-slug/", "/@jane.doe", "/settings?tab=profile"} {
				r := s.fetch(t, "GET", path, "Accept", accept)
				r.wantFile(t, path+" Accept: "+accept, indexHTML)
				r.wantHeaders(t, path,
					"Content-Type", "text/html; charset=utf-8",
					"Cache-Control", "no-cache",
					"Vary", "Accept, Accept-Encoding",
					"Content-Security-Policy", web.DefaultStaticCSP)
			}
		}
	})
	t.Run("ErrNotAPage", func(t *testing.T) {
		for _, accept := range []string{"", "*/*", "application/json", "text/html;q=0", "text/htmlx"} {
			r := s.fetch(t, "GET", "/articles/some-slug", "Accept", accept)
			r.wantNotFound(t, "/articles/some-slug Accept: "+accept)
			r.wantHeaders(t, "404", "Vary", "Accept", "Cache-Control", "no-cache", "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
	})
	t.Run("ErrMissingAsset", func(t *testing.T) {
		// What a browser sends for a module script, a stylesheet, an image.
		for _, accept := range []string{"*/*", "text/css,*/*;q=0.1", "image/avif,image/webp,*/*;q=0.8"} {
			for _, path := range []string{"/assets/missing.js", "/assets/app.00000000.js", "/assets/missing.css"} {
				s.fetch(t, "GET", path, "Accept", accept).wantNotFound(t, path+" Accept: "+accept)
			}
		}
	})
	t.Run("ErrNoIndex", func(t *testing.T) {
		g := newFrontend(t)
		if err := os.Remove(filepath.Join(g.dir, "index.html")); err != nil {
			t.Fatal(err)
		}
		s := newStaticSite(t, g, web.StaticOptions{})
		s.fetch(t, "GET", "/", "Accept", browser).wantNotFound(t, "/ without index.html")
		s.fetch(t, "GET", "/articles/some-slug", "Accept", browser).wantNotFound(t, "a page without index.html")
		s.fetch(t, "GET", "/robots.txt").wantFile(t, "/robots.txt without index.html", robotsTXT)
	})
}

// TestStaticLeavesServerPaths checks that the frontend answers nothing the
// server answers itself, even where STATIC_DIR has a file of the name.
func TestStaticLeavesServerPaths(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	s := newStaticSite(t, f, web.StaticOptions{})
	for _, accept := range []string{"", browser} {
		r := s.fetch(t, "GET", "/api/nope", "Accept", accept)
		r.want(t, http.StatusNotFound, `{"errors":{"body":["no such endpoint: GET /api/nope"]}}`)
		r.wantHeaders(t, "/api/nope", "Content-Type", "application/json; charset=utf-8")
		s.fetch(t, "GET", "/api", "Accept", accept).want(t, http.StatusNotFound, `{"errors":{"body":["no such endpoint: GET /api"]}}`)
		s.fetch(t, "GET", "/api/tags", "Accept", accept).want(t, http.StatusOK, `{"tags":[]}`)
		if r := s.fetch(t, "GET", "/graphql/nope", "Accept", accept); r.status != http.StatusNotFound || strings.Contains(string(r.body), "static") || strings.Contains(string(r.body), "Conduit app") {
			t.Errorf("/graphql/nope (Accept %q): %d %q, want GraphQL's 404", accept, r.status, r.body)
		}
		for _, path := range []string{"/healthz/status.txt", "/readyz/x", "/metrics/x"} {
			r := s.fetch(t, "GET", path, "Accept", accept)
			r.wantNotFound(t, path)
		}
		s.fetch(t, "GET", "/healthz", "Accept", accept).wantFile(t, "/healthz", "ok\n")
		s.fetch(t, "GET", "/readyz", "Accept", accept).wantFile(t, "/readyz", "ready\n")
		if r := s.fetch(t, "GET", "/metrics", "Accept", accept); r.status != http.StatusOK || !strings.Contains(string(r.body), "conduit_sql_statements_total ") {
			t.Errorf("/metrics (Accept %q): %d %.100q, want Prometheus metrics", accept, r.status, r.body)
		}
		s.fetch(t, "GET", "/docs/migration.md", "Accept", accept).wantFile(t, "/docs/migration.md", string(docs.Migration))
	}
	r := s.do(t, "POST", "/graphql", "", `{"query":"{ tags }"}`)
	r.want(t, http.StatusOK, `{"data":{"tags":[]}}`)
	if r := s.fetch(t, "GET", "/graphql", "Accept", browser); r.status != http.StatusOK || !strings.Contains(string(r.body), "Conduit GraphiQL") {
		t.Errorf("GET /graphql from a browser: %d %.100q, want GraphiQL", r.status, r.body)
	}
	// HEAD and POST on the server's own routes are what they were.
	if r := s.fetch(t, "HEAD", "/healthz"); r.status != http.StatusMethodNotAllowed {
		t.Errorf("HEAD /healthz = %d, want 405 as without a frontend", r.status)
	}
	if r := s.fetch(t, "POST", "/healthz"); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405 as without a frontend", r.status)
	}

	t.Run("PrivateMetrics", func(t *testing.T) {
		static, err := web.NewStatic(f.dir, web.StaticOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { static.Close() })
		s := newSite(t, app.Config{Static: static}, conduit.Config{})
		for _, accept := range []string{"", browser} {
			s.fetch(t, "GET", "/metrics", "Accept", accept).wantNotFound(t, "/metrics off the public handler (Accept "+accept+")")
		}
	})
}

func TestStaticCacheControl(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	s := newStaticSite(t, f, web.StaticOptions{})
	const immutable = "public, max-age=31536000, immutable"
	for path, want := range map[string]string{
		"/assets/app.3f9a1c2b.js":      immutable,
		"/assets/index-BdX3k2aZ.css":   immutable,
		"/assets/module.3f9a1c2b.wasm": immutable,
		"/":                            "no-cache",
		"/index.html":                  "no-cache",
		"/blog/":                       "no-cache",
		"/robots.txt":                  "no-cache",
		"/logo.svg":                    "no-cache",
		"/manifest.json":               "no-cache",
	} {
		r := s.fetch(t, "GET", path)
		if r.status != http.StatusOK {
			t.Fatalf("%s = %d, want 200", path, r.status)
		}
		r.wantHeaders(t, path, "Cache-Control", want)
	}
	// A compressed variant is cached like its original.
	s.fetch(t, "GET", "/assets/app.3f9a1c2b.js", "Accept-Encoding", "br").wantHeaders(t, "app.js as br", "Cache-Control", immutable)
	s.fetch(t, "GET", "/articles/x", "Accept", browser).wantHeaders(t, "the app's page", "Cache-Control", "no-cache")
	s.fetch(t, "GET", "/assets/missing.js").wantHeaders(t, "a missing asset", "Cache-Control", "no-cache")
}

func TestStaticConditional(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	s := newStaticSite(t, f, web.StaticOptions{})
	lastModified := modTime.Format(http.TimeFormat)
	for _, path := range []string{"/assets/app.3f9a1c2b.js", "/index.html", "/"} {
		first := s.fetch(t, "GET", path)
		etag := first.header.Get("ETag")
		if first.status != http.StatusOK || len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
			t.Fatalf("%s: %d with ETag %q, want 200 with a strong ETag", path, first.status, etag)
		}
		first.wantHeaders(t, path, "Last-Modified", lastModified)

		for _, h := range [][2]string{
			{"If-None-Match", etag},
			{"If-None-Match", `"other", ` + etag},
			{"If-None-Match", "*"},
			{"If-Modified-Since", lastModified},
			{"If-Modified-Since", modTime.Add(time.Hour).Format(http.TimeFormat)},
		} {
			r := s.fetch(t, "GET", path, h[0], h[1])
			if r.status != http.StatusNotModified || len(r.body) != 0 {
				t.Fatalf("%s with %s: %s: %d %q, want 304 and no body", path, h[0], h[1], r.status, r.body)
			}
			r.wantHeaders(t, path+" 304", "ETag", etag, "Cache-Control", first.header.Get("Cache-Control"), "Vary", "Accept-Encoding")
		}
		for _, h := range [][2]string{
			{"If-None-Match", `"other"`},
			{"If-Modified-Since", modTime.Add(-time.Second).Format(http.TimeFormat)},
		} {
			s.fetch(t, "GET", path, h[0], h[1]).wantFile(t, path+" with "+h[0]+": "+h[1], string(first.body))
		}
		// If-None-Match wins over If-Modified-Since.
		if r := s.fetch(t, "GET", path, "If-None-Match", `"other"`, "If-Modified-Since", lastModified); r.status != http.StatusOK {
			t.Fatalf("%s with a stale ETag and a current date: %d, want 200", path, r.status)
		}
	}
	t.Run("EncodingsHaveTheirOwnETag", func(t *testing.T) {
		plain := s.fetch(t, "GET", "/assets/app.3f9a1c2b.js").header.Get("ETag")
		br := s.fetch(t, "GET", "/assets/app.3f9a1c2b.js", "Accept-Encoding", "br").header.Get("ETag")
		gz := s.fetch(t, "GET", "/assets/app.3f9a1c2b.js", "Accept-Encoding", "gzip").header.Get("ETag")
		if plain == br || plain == gz || br == gz {
			t.Fatalf("ETags identity %s, br %s, gzip %s: want three different", plain, br, gz)
		}
		if r := s.fetch(t, "GET", "/assets/app.3f9a1c2b.js", "Accept-Encoding", "br", "If-None-Match", plain); r.status != http.StatusOK || string(r.body) != appJSBr {
			t.Fatalf("br with the identity's ETag: %d %q, want 200 with the br bytes", r.status, r.body)
		}
		if r := s.fetch(t, "GET", "/assets/app.3f9a1c2b.js", "Accept-Encoding", "br", "If-None-Match", br); r.status != http.StatusNotModified {
			t.Fatalf("br with its ETag: %d, want 304", r.status)
		}
	})
	t.Run("Range", func(t *testing.T) {
		r := s.fetch(t, "GET", "/robots.txt", "Range", "bytes=0-3")
		if r.status != http.StatusPartialContent || string(r.body) != robotsTXT[:4] {
			t.Fatalf("range: %d %q, want 206 %q", r.status, r.body, robotsTXT[:4])
		}
	})
}

func TestStaticPrecompressed(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	s := newStaticSite(t, f, web.StaticOptions{})
	const js = "/assets/app.3f9a1c2b.js"
	for _, c := range []struct{ acceptEncoding, coding, body string }{
		{"br, gzip", "br", appJSBr},
		{"gzip, deflate, br, zstd", "br", appJSBr},
		{"BR", "br", appJSBr},
		{"*", "br", appJSBr},
		{"gzip", "gzip", string(f.appJSGz)},
		{"gzip;q=1, br;q=0.5", "gzip", string(f.appJSGz)},
		{"br;q=0, gzip", "gzip", string(f.appJSGz)},
		{"*;q=0.1, br;q=0", "gzip", string(f.appJSGz)},
		{"", "", appJS},
		{"identity", "", appJS},
		{"deflate, zstd", "", appJS},
		{"br;q=0, gzip;q=0", "", appJS},
		{"br;q=nonsense", "", appJS},
	} {
		what := js + " Accept-Encoding: " + c.acceptEncoding
		r := s.fetch(t, "GET", js, "Accept-Encoding", c.acceptEncoding)
		r.wantFile(t, what, c.body)
		r.wantHeaders(t, what,
			"Content-Encoding", c.coding,
			"Content-Type", "text/javascript; charset=utf-8",
			"Content-Length", strconv.Itoa(len(c.body)),
			"Vary", "Accept-Encoding")
	}
	t.Run("Gunzips", func(t *testing.T) {
		zr, err := gzip.NewReader(bytes.NewReader(s.fetch(t, "GET", js, "Accept-Encoding", "gzip").body))
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(zr); string(b) != appJS {
			t.Fatalf("gunzipped %q, want %q", b, appJS)
		}
	})
	t.Run("NoVariant", func(t *testing.T) {
		r := s.fetch(t, "GET", "/logo.svg", "Accept-Encoding", "br, gzip")
		r.wantHeaders(t, "/logo.svg", "Content-Encoding", "", "Content-Type", "image/svg+xml", "Vary", "Accept-Encoding")
	})
	t.Run("Fallback", func(t *testing.T) {
		g := newFrontend(t)
		mustWrite(t, filepath.Join(g.dir, "index.html.gz"), "gzipped index")
		s := newStaticSite(t, g, web.StaticOptions{})
		r := s.fetch(t, "GET", "/articles/x", "Accept", browser, "Accept-Encoding", "gzip")
		r.wantFile(t, "the app's page gzipped", "gzipped index")
		r.wantHeaders(t, "the app's page gzipped", "Content-Encoding", "gzip", "Content-Type", "text/html; charset=utf-8", "Vary", "Accept, Accept-Encoding")
	})
	t.Run("Head", func(t *testing.T) {
		r := s.fetch(t, "HEAD", js, "Accept-Encoding", "br")
		if r.status != http.StatusOK || len(r.body) != 0 {
			t.Fatalf("HEAD: %d %q, want 200 and no body", r.status, r.body)
		}
		r.wantHeaders(t, "HEAD br", "Content-Encoding", "br", "Content-Length", strconv.Itoa(len(appJSBr)), "Vary", "Accept-Encoding")
	})
}

func TestStaticDirectories(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	s := newStaticSite(t, f, web.StaticOptions{})
	t.Run("NeverListed", func(t *testing.T) {
		// A directory without index.html is as if nothing were there.
		for _, path := range []string{"/assets/", "/assets", "/escape-dir/", "/.well-known/"} {
			s.fetch(t, "GET", path).wantNotFound(t, path)
			r := s.fetch(t, "GET", path, "Accept", browser)
			r.wantFile(t, path+" from a browser", indexHTML)
		}
	})
	t.Run("Index", func(t *testing.T) {
		s.fetch(t, "GET", "/blog/").wantFile(t, "/blog/", blogHTML)
		s.fetch(t, "GET", "/blog/index.html").wantFile(t, "/blog/index.html", blogHTML)
		for path, location := range map[string]string{"/blog": "/blog/", "/blog?page=2": "/blog/?page=2"} {
			r := s.fetch(t, "GET", path)
			if r.status != http.StatusMovedPermanently {
				t.Fatalf("%s = %d, want 301", path, r.status)
			}
			r.wantHeaders(t, path, "Location", location)
		}
	})
	t.Run("ErrFileAsDirectory", func(t *testing.T) {
		s.fetch(t, "GET", "/robots.txt/").wantNotFound(t, "/robots.txt/")
		s.fetch(t, "GET", "/robots.txt/x").wantNotFound(t, "/robots.txt/x")
	})
}

// TestStaticTraversal sends each request line as written: no client
// cleans or escapes it on the way.
func TestStaticTraversal(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	s := newStaticSite(t, f, web.StaticOptions{})
	// Refused by name, before any lookup: 404 even for a browser.
	for _, target := range []string{
		"/../outside/secret.txt",
		"/assets/../../outside/secret.txt",
		"/assets/../index.html",
		"/./index.html",
		"/%2e%2e/outside/secret.txt",
		"/%2E%2E/%2E%2E/outside/secret.txt",
		"/.%2e/outside/secret.txt",
		"/..%2foutside%2fsecret.txt",
		"/assets%2fapp.3f9a1c2b.js",
		"/assets%2Fapp.3f9a1c2b.js",
		"/..%5coutside%5csecret.txt",
		`/..\outside\secret.txt`,
		`/assets\app.3f9a1c2b.js`,
		"//etc/passwd",
		"/%2fetc/passwd",
		"/" + filepath.Join(f.outside, "secret.txt"),
		"http://example.com/../outside/secret.txt",
		"http://example.com/%2e%2e/outside/secret.txt",
		"/robots.txt%00.js",
		"/index.html%00",
		"/%00",
		"/assets//app.3f9a1c2b.js",
		"/.env",
		"/assets/.env",
		"/.well-known/../.env",
	} {
		for _, accept := range []string{"*/*", browser} {
			r := s.raw(t, target, "Accept", accept)
			r.wantNotFound(t, target+" Accept: "+accept)
			r.wantHeaders(t, target, "Vary", "")
		}
	}
	// Valid names that lead out through a symbolic link: os.Root refuses
	// them, and they are as if nothing were there.
	for _, target := range []string{"/escape-file", "/escape-abs", "/escape-dir/secret.txt", "/assets/up.txt"} {
		r := s.raw(t, target, "Accept", "*/*")
		r.wantNotFound(t, target)
		r = s.raw(t, target, "Accept", browser)
		r.wantFile(t, target+" from a browser", indexHTML)
	}
	// Absolute paths are names inside the root, not of the machine.
	s.raw(t, "/etc/passwd", "Accept", "*/*").wantNotFound(t, "/etc/passwd")
	s.raw(t, "/inside-link.txt").wantFile(t, "a link that stays inside", robotsTXT)
	if strings.Contains(s.logs.String(), secretText) {
		t.Fatal("the secret reached the log")
	}
	if !strings.Contains(s.logs.String(), "escape-file") {
		t.Errorf("the link leaving the root was not logged:\n%s", s.logs)
	}
}

func TestStaticHEAD(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	s := newStaticSite(t, f, web.StaticOptions{})
	for _, c := range []struct {
		path, accept string
		status       int
		length       int
	}{
		{"/assets/app.3f9a1c2b.js", "*/*", http.StatusOK, len(appJS)},
		{"/", browser, http.StatusOK, len(indexHTML)},
		{"/articles/some-slug", browser, http.StatusOK, len(indexHTML)},
		{"/assets/missing.js", "*/*", http.StatusNotFound, len("404 page not found\n")},
	} {
		get := s.fetch(t, "GET", c.path, "Accept", c.accept)
		head := s.fetch(t, "HEAD", c.path, "Accept", c.accept)
		if head.status != c.status || len(head.body) != 0 {
			t.Fatalf("HEAD %s: %d with %d bytes, want %d and none", c.path, head.status, len(head.body), c.status)
		}
		for _, k := range []string{"Content-Type", "Content-Length", "Cache-Control", "ETag", "Last-Modified", "Vary", "Content-Security-Policy"} {
			if g, h := get.header.Get(k), head.header.Get(k); g != h {
				t.Errorf("HEAD %s: %s = %q, GET's is %q", c.path, k, h, g)
			}
		}
		head.wantHeaders(t, "HEAD "+c.path, "Content-Length", strconv.Itoa(c.length))
	}
}

func TestStaticMethods(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	s := newStaticSite(t, f, web.StaticOptions{})
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		for _, path := range []string{"/", "/index.html", "/articles/x"} {
			r := s.fetch(t, method, path, "Accept", browser)
			if r.status != http.StatusMethodNotAllowed {
				t.Fatalf("%s %s = %d, want 405", method, path, r.status)
			}
			r.wantHeaders(t, method+" "+path, "Allow", "GET, HEAD")
		}
	}
}

func TestStaticCSP(t *testing.T) {
	t.Parallel()
	f := newFrontend(t)
	const policy = "default-src 'self'; connect-src 'self' https://api.example.com; frame-ancestors 'none'"
	s := newStaticSite(t, f, web.StaticOptions{CSP: policy})
	for _, c := range []struct{ path, accept string }{
		{"/", browser}, {"/articles/x", browser}, {"/assets/app.3f9a1c2b.js", "*/*"},
	} {
		s.fetch(t, "GET", c.path, "Accept", c.accept).wantHeaders(t, c.path,
			"Content-Security-Policy", policy,
			"X-Content-Type-Options", "nosniff",
			"X-Frame-Options", "DENY",
			"Referrer-Policy", "no-referrer")
	}
	// The API and the 404s keep the policy that allows nothing.
	for _, path := range []string{"/api/tags", "/assets/missing.js", "/healthz"} {
		s.fetch(t, "GET", path).wantHeaders(t, path, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	}
}
