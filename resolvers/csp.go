package resolvers

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

var (
	inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	assetURL     = regexp.MustCompile(`(?:src|href)="([^"]+)"`)
)

// withPageCSP serves page, a handler whose HTML is the same on every
// request (GraphiQL's), with a content security policy made for it: its
// inline scripts by their hashes, its scripts and styles from the origins
// it names (the CDN, or this server when the assets are local), requests
// to this server only. The page is rendered once, here, to compute it.
func withPageCSP(page http.Handler) http.Handler {
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, endpointPath, nil))
	html := rec.Body.String()

	var hashes []string
	for _, m := range inlineScript.FindAllStringSubmatch(html, -1) {
		sum := sha256.Sum256([]byte(m[1]))
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	origins := []string{"'self'"}
	for _, m := range assetURL.FindAllStringSubmatch(html, -1) {
		if u, err := url.Parse(m[1]); err == nil && u.Scheme == "https" && u.Host != "" {
			if o := u.Scheme + "://" + u.Host; !slices.Contains(origins, o) {
				origins = append(origins, o)
			}
		}
	}
	from := strings.Join(origins, " ")
	policy := strings.Join([]string{
		"default-src 'none'",
		"script-src " + from + " " + strings.Join(hashes, " "),
		// GraphiQL sets styles from its scripts as it renders.
		"style-src " + from + " 'unsafe-inline'",
		"font-src " + from + " data:",
		"img-src 'self' data:",
		"connect-src 'self'",
		"worker-src 'self' blob:",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		page.ServeHTTP(w, r)
	})
}

// withLoadNotice serves page, whose HTML is the same on every request,
// with a script added at the end of its body that replaces the page's
// "Loading…" with notice when the page's scripts did not load (window.name
// of the global they define, e.g. "GraphiQL", is missing): without it, a
// browser that cannot reach the CDN shows "Loading…" forever. The page is
// rendered once, here.
func withLoadNotice(page http.Handler, global, notice string) http.Handler {
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, endpointPath, nil))
	msg, _ := json.Marshal(notice)
	name, _ := json.Marshal(global)
	script := "<script>if (typeof window[" + string(name) + "] === 'undefined') {" +
		" var box = document.querySelector('#graphiql') || document.body;" +
		" box.textContent = " + string(msg) + "; box.style.cssText = 'padding:2em;font:16px/1.5 sans-serif;white-space:pre-wrap'; }</script>\n"
	html := strings.Replace(rec.Body.String(), "</body>", script+"</body>", 1)
	header := rec.Header().Clone()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = io.WriteString(w, html)
	})
}
