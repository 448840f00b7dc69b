package legacy_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
)

func sri(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var (
	inlineScriptRE = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	integrityRE    = regexp.MustCompile(`(?:src|href)="([^"]+)" integrity="([^"]+)"`)
)

// TestDocsPages serves Swagger UI and ReDoc from an assets directory: each
// page pins its files by their hashes, and its content security policy
// allows its inline script by its hash, scripts from this server only, and
// no eval.
func TestDocsPages(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"swagger-ui-bundle.js": "window.SwaggerUIBundle = function () {};\n",
		"swagger-ui.css":       "body { margin: 0 }\n",
		"redoc.standalone.js":  "window.Redoc = {};\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := newAPIWith(t, func(c *app.Config, _ *conduit.Config) { c.Legacy.DocsAssetsDir = dir })

	for _, p := range []struct {
		path, style string
		inline      int
		assets      []string
	}{
		{"/api/docs", "style-src 'self'", 1, []string{"swagger-ui.css", "swagger-ui-bundle.js"}},
		{"/api/redoc", "style-src 'self' 'unsafe-inline'", 0, []string{"redoc.standalone.js"}},
	} {
		t.Run(strings.TrimPrefix(p.path, "/api/"), func(t *testing.T) {
			r := a.do("GET", p.path, "", "")
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("status %d, Content-Type %q; want 200, text/html", r.status, r.header.Get("Content-Type"))
			}
			csp := r.header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", p.style} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "https:") || strings.Contains(csp, "*") {
				t.Errorf("Content-Security-Policy %q allows eval or another origin", csp)
			}
			scripts := inlineScriptRE.FindAllSubmatch(r.body, -1)
			if len(scripts) != p.inline {
				t.Fatalf("%d inline scripts, want %d", len(scripts), p.inline)
			}
			wantScriptSrc := "script-src 'self'"
			for _, s := range scripts {
				wantScriptSrc += " '" + sri(s[1]) + "'"
			}
			if !strings.Contains(csp, wantScriptSrc+";") {
				t.Errorf("Content-Security-Policy %q, want %q: the inline scripts by their hashes", csp, wantScriptSrc)
			}
			pinned := integrityRE.FindAllSubmatch(r.body, -1)
			if len(pinned) != len(p.assets) {
				t.Fatalf("%d pinned assets in %s, want %d", len(pinned), r.body, len(p.assets))
			}
			for i, m := range pinned {
				name := p.assets[i]
				m[2] = []byte(html.UnescapeString(string(m[2]))) // html/template writes + as &#43;
				if string(m[1]) != "/api/docs/assets/"+name || string(m[2]) != sri([]byte(files[name])) {
					t.Errorf("asset %s integrity=%s, want /api/docs/assets/%s with %s", m[1], m[2], name, sri([]byte(files[name])))
				}
				res := a.do("GET", string(m[1]), "", "")
				if res.status != http.StatusOK || string(res.body) != files[name] {
					t.Errorf("GET %s: %d %q, want the file", m[1], res.status, res.body)
				}
				ct := "text/javascript; charset=utf-8"
				if strings.HasSuffix(name, ".css") {
					ct = "text/css; charset=utf-8"
				}
				if got := res.header.Get("Content-Type"); got != ct {
					t.Errorf("GET %s: Content-Type %q, want %q", m[1], got, ct)
				}
			}
			if !strings.Contains(string(r.body), `"/api/openapi.json"`) {
				t.Errorf("the page does not load /api/openapi.json: %s", r.body)
			}
		})
	}
	// Only the files the pages load are served.
	a.do("GET", "/api/docs/assets/index.html", "", "").expect(t, http.StatusNotFound, `{"errors":{"body":["no such endpoint: GET /api/docs/assets/index.html"]}}`)
}

// TestDocsPagesWithoutAssets: without the assets the pages say how to
// install them, run no script, and the document is served all the same.
func TestDocsPagesWithoutAssets(t *testing.T) {
	a := newAPI(t)
	for _, p := range []struct{ path, name, pkg string }{
		{"/api/docs", "Swagger UI", "swagger-ui-dist"},
		{"/api/redoc", "ReDoc", "redoc"},
	} {
		r := a.do("GET", p.path, "", "")
		if r.status != http.StatusNotFound || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s: status %d, Content-Type %q; want 404, text/html", p.path, r.status, r.header.Get("Content-Type"))
		}
		if got, want := r.header.Get("Content-Security-Policy"), "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"; got != want {
			t.Errorf("GET %s: Content-Security-Policy %q, want %q", p.path, got, want)
		}
		body := string(r.body)
		for _, want := range []string{p.name + " is not installed", "make docs-assets", "DOCS_ASSETS_DIR", "<code>" + p.pkg + "</code>", `href="/api/openapi.json"`} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: the page does not say %q: %s", p.path, want, body)
			}
		}
		if strings.Contains(body, "<script") {
			t.Errorf("GET %s: the page runs a script", p.path)
		}
	}
	if r := a.do("GET", "/api/openapi.json", "", ""); r.status != http.StatusOK {
		t.Errorf("GET /api/openapi.json: %d, want 200", r.status)
	}
}
