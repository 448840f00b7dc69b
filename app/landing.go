package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"regexp"
	"time"

	"github.com/conduit-dev/conduit/docs"
	"github.com/conduit-dev/conduit/legacy"
)

// migrationGuidePath is where the binary serves docs/migration.md: where
// the legacy API's retirement signals point.
const migrationGuidePath = legacy.DefaultGuideURL

// landingPage is what / shows when no frontend is served: where the APIs
// and their documentation are. It has no script; its one inline style is
// allowed by its hash.
var landingPage = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conduit API</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
p { margin-top: 0; color: #555; }
li { margin: .4rem 0; }
a { color: #1a5fb4; }
code { font-size: .9em; }
</style>
</head>
<body>
<h1>Conduit</h1>
<p>The Conduit blogging API: GraphQL at <code>/graphql</code>, the legacy REST API at <code>/api</code>.</p>
<h2>GraphQL</h2>
<ul>
<li><a href="/graphql">GraphiQL</a>: explore the schema and run queries in the browser</li>
{{- if .SDL}}
<li><a href="/graphql/schema.graphql">The schema</a> (SDL), for code generators</li>
{{- end}}
</ul>
<h2>REST</h2>
<ul>
<li><a href="/api/docs">Swagger UI</a>: the REST API, to read and try</li>
<li><a href="/api/redoc">ReDoc</a>: the REST API as a reference</li>
<li><a href="/api/openapi.json">The OpenAPI document</a></li>
</ul>
<h2>Moving to GraphQL</h2>
<ul>
<li><a href="` + migrationGuidePath + `">The migration guide</a>: each REST call and the GraphQL operation that replaces it</li>
</ul>
</body>
</html>
`))

var inlineStyle = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// landing serves the landing page; sdl says whether the schema's SDL is
// served (introspection is on) and so linked.
func landing(sdl bool) http.Handler {
	var page bytes.Buffer
	if err := landingPage.Execute(&page, struct{ SDL bool }{sdl}); err != nil {
		panic(err) // the template is fixed: a failure is a bug found at start-up
	}
	var styles string
	for _, m := range inlineStyle.FindAllSubmatch(page.Bytes(), -1) {
		sum := sha256.Sum256(m[1])
		styles += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	csp := "default-src 'none'; style-src" + styles + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return document(page.Bytes(), "text/html; charset=utf-8", csp)
}

// migrationGuide serves docs/migration.md as the binary holds it, as
// Markdown: it reads well as text, and rendering it would take a Markdown
// library for one page.
func migrationGuide() http.Handler {
	return document(docs.Migration, "text/markdown; charset=utf-8", "")
}

// document serves a body fixed at start-up, with an ETag of its content
// so that a revalidation costs a 304; csp, when set, replaces the
// default policy.
func document(body []byte, contentType, csp string) http.Handler {
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		if csp != "" {
			h.Set("Content-Security-Policy", csp)
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}
