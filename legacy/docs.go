package legacy

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// The paths of the OpenAPI document, under /api.
const (
	openAPIJSONPath = "/openapi.json"
	openAPIYAMLPath = "/openapi.yaml"
)

// mountDocs registers the document on r.
func mountDocs(r chi.Router) {
	r.Get(openAPIJSONPath, serveBytes("application/json; charset=utf-8", OpenAPIJSON()))
	r.Get(openAPIYAMLPath, serveBytes("application/yaml; charset=utf-8", OpenAPIYAML()))
}

// sri is the Subresource Integrity value of b.
func sri(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
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
