package legacy

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// The OpenAPI document and the pages that read it: Swagger UI at /api/docs
// (with "Try it out" against this server) and ReDoc at /api/redoc. Their
// scripts are served from a directory that `make docs-assets` fills from
// npm, never from a CDN: the pages then load nothing from anywhere but this
// server, and their content security policy can say so. Without the
// directory the pages say how to fill it.

// The paths, under /api.
const (
	openAPIJSONPath = "/openapi.json"
	openAPIYAMLPath = "/openapi.yaml"
	swaggerPath     = "/docs"
	redocPath       = "/redoc"
	docsAssetsPath  = "/docs/assets/"
)

// docsAsset is a file a page loads from the assets directory.
type docsAsset struct {
	name string // in the directory and under /api/docs/assets/
	from string // where `make docs-assets` takes it from, for the page that asks for it
}

var (
	swaggerJS  = docsAsset{"swagger-ui-bundle.js", "swagger-ui-dist"}
	swaggerCSS = docsAsset{"swagger-ui.css", "swagger-ui-dist"}
	redocJS    = docsAsset{"redoc.standalone.js", "redoc"}
)

// swaggerInit starts Swagger UI on the document. The validator would send
// the document to a public service (and load its badge from there), so it
// is off.
const swaggerInit = `window.ui = SwaggerUIBundle({
  url: "` + apiPrefix + openAPIJSONPath + `",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  docExpansion: "list",
  defaultModelsExpandDepth: 0
});`

// The pages. Their only inline script is swaggerInit; the policy allows it by
// its hash, and the scripts and styles of this server by 'self'.
var (
	swaggerPage = template.Must(template.New("swagger").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conduit legacy REST API · Swagger UI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.CSS.URL}}" integrity="{{.CSS.Integrity}}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{{.JS.URL}}" integrity="{{.JS.Integrity}}"></script>
<script>{{.Init}}</script>
</body>
</html>
`))
	redocPage = template.Must(template.New("redoc").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conduit legacy REST API · ReDoc</title>
<link rel="icon" href="data:,">
</head>
<body>
<redoc spec-url="{{.Spec}}" disable-telemetry="true"></redoc>
<script src="{{.JS.URL}}" integrity="{{.JS.Integrity}}"></script>
</body>
</html>
`))
	missingPage = template.Must(template.New("missing").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}} is not installed</title>
<link rel="icon" href="data:,">
</head>
<body>
<h1>{{.Title}} is not installed on this server</h1>
<p>Its files come from the npm package <code>{{.Package}}</code>. Fetch them with</p>
<pre>make docs-assets</pre>
<p>(or point <code>DOCS_ASSETS_DIR</code> at a directory holding {{range $i, $f := .Files}}{{if $i}}, {{end}}<code>{{$f}}</code>{{end}}) and restart the server.</p>
<p>The OpenAPI document itself is here: <a href="{{.JSON}}">{{.JSON}}</a> (or <a href="{{.YAML}}">YAML</a>).</p>
</body>
</html>
`))
)

// missingCSP is the policy of the page that says the assets are missing:
// it runs no script and loads nothing.
const missingCSP = "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// mountDocs registers the document, the pages and their assets on r.
func mountDocs(r chi.Router, assetsDir string, logger *slog.Logger) {
	r.Get(openAPIJSONPath, serveBytes("application/json; charset=utf-8", OpenAPIJSON()))
	r.Get(openAPIYAMLPath, serveBytes("application/yaml; charset=utf-8", OpenAPIYAML()))

	assets := loadDocsAssets(assetsDir, logger, swaggerJS, swaggerCSS, redocJS)
	r.Get(swaggerPath, docsPage("Swagger UI", assets, []docsAsset{swaggerJS, swaggerCSS}, func() ([]byte, error) {
		var b bytes.Buffer
		err := swaggerPage.Execute(&b, map[string]any{
			"JS": assets[swaggerJS.name], "CSS": assets[swaggerCSS.name], "Init": template.JS(swaggerInit),
		})
		return b.Bytes(), err
	}, []string{swaggerInit}, "style-src 'self'"))
	r.Get(redocPath, docsPage("ReDoc", assets, []docsAsset{redocJS}, func() ([]byte, error) {
		var b bytes.Buffer
		err := redocPage.Execute(&b, map[string]any{"JS": assets[redocJS.name], "Spec": apiPrefix + openAPIJSONPath})
		return b.Bytes(), err
	}, nil,
		// ReDoc writes its styles into <style> elements as it renders
		// (styled-components), and searches in a worker it starts from a
		// blob: of its own code.
		"style-src 'self' 'unsafe-inline'", "worker-src blob:"))
	for name, a := range assets {
		r.Get(docsAssetsPath+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", a.contentType)
			// The name carries no version, so caches must ask again; the
			// ETag makes that cheap.
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("ETag", `"`+a.Integrity+`"`)
			http.ServeContent(w, r, name, a.modTime, bytes.NewReader(a.body))
		})
	}
}

// loadedAsset is an asset read into memory at start-up: the pages pin it
// by its hash (Subresource Integrity), so the file must not change under a
// running server.
type loadedAsset struct {
	URL         string
	Integrity   string
	body        []byte
	contentType string
	modTime     time.Time
}

// loadDocsAssets reads the files from dir. A file that is missing is left
// out and logged; the page that needs it then says how to install it.
func loadDocsAssets(dir string, logger *slog.Logger, files ...docsAsset) map[string]loadedAsset {
	out := map[string]loadedAsset{}
	if dir == "" {
		return out
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		body, err := os.ReadFile(path)
		if err != nil {
			logger.Error("api docs: asset missing; run make docs-assets", slog.String("file", path), slog.Any("error", err))
			continue
		}
		var modTime time.Time
		if fi, err := os.Stat(path); err == nil {
			modTime = fi.ModTime()
		}
		ct := "text/javascript; charset=utf-8"
		if strings.HasSuffix(f.name, ".css") {
			ct = "text/css; charset=utf-8"
		}
		out[f.name] = loadedAsset{
			URL: apiPrefix + docsAssetsPath + f.name, Integrity: sri(body),
			body: body, contentType: ct, modTime: modTime,
		}
	}
	return out
}

// sri is the Subresource Integrity value of b.
func sri(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// docsPage serves a page rendered once, when every file it needs is
// there, with a content security policy made for it: this server's scripts,
// its inline scripts by their hashes, images and fonts from this server or
// inline, requests to this server only, and the page's own directives
// (style-src, at least). Otherwise it serves a page that says how to
// install the files.
func docsPage(title string, assets map[string]loadedAsset, needs []docsAsset, render func() ([]byte, error), inlineScripts []string, directives ...string) http.HandlerFunc {
	var missing []string
	for _, a := range needs {
		if _, ok := assets[a.name]; !ok {
			missing = append(missing, a.name)
		}
	}
	if len(missing) > 0 {
		var b bytes.Buffer
		err := missingPage.Execute(&b, map[string]any{
			"Title": title, "Package": needs[0].from, "Files": missing,
			"JSON": apiPrefix + openAPIJSONPath, "YAML": apiPrefix + openAPIYAMLPath,
		})
		if err != nil {
			panic("legacy: render the missing-assets page: " + err.Error())
		}
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", missingCSP)
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(b.Bytes())
		}
	}
	body, err := render()
	if err != nil {
		panic("legacy: render the " + title + " page: " + err.Error())
	}
	hashes := make([]string, len(inlineScripts))
	for i, s := range inlineScripts {
		hashes[i] = "'" + sri([]byte(s)) + "'"
	}
	policy := strings.Join(append([]string{
		"default-src 'none'",
		strings.TrimSpace("script-src 'self' " + strings.Join(hashes, " ")),
		"img-src 'self' data:",
		"font-src 'self' data:",
		// The document, and "Try it out" calling the API.
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, directives...), "; ")
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(body)
	}
}

// serveBytes serves a body that never changes.
func serveBytes(contentType string, body []byte) http.HandlerFunc {
	etag := `"` + sri(body) + `"`
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}
}
