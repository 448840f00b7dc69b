package web

import (
	"net/http/httptest"
	"testing"
)

func TestFingerprinted(t *testing.T) {
	for name, want := range map[string]bool{
		// What bundlers emit.
		"assets/app.3f9a1c2b.js":                  true, // webpack, Parcel
		"static/js/main.3f9a1c2b.chunk.js":        true, // create-react-app
		"static/js/787.d3b5c1ee.chunk.js":         true,
		"main.a1b2c3d4e5f6a7b8.js":                true, // Angular
		"3f9a1c2b4d5e6f708192.png":                true, // webpack's asset modules
		"chunks/framework-0c7baedefba6b077.js":    true, // Next.js
		"assets/index-BdX3k2aZ.js":                true, // Vite, Rollup
		"assets/Settings-Dq9_x1Lm.css":            true,
		"assets/app.3f9a1c2b.js.map":              true,
		"assets/module.3f9a1c2b.wasm":             true,
		"index.html":                              false,
		"favicon.ico":                             false,
		"robots.txt":                              false,
		"sw.js":                                   false,
		"manifest.webmanifest":                    false,
		"logo-dark.svg":                           false,
		"react.production.min.js":                 false,
		"jquery-3.7.1.min.js":                     false,
		"icon-1024x1024.png":                      false, // a size, not a hash
		"hero-section2.png":                       false, // a word and a digit
		"report-20240101.pdf":                     false, // a date
		"deadbeef.js":                             false, // hex letters, no digit
		"assets/UserProfile.js":                   false,
		"assets/index-BdX3k2.js":                  false, // 6 characters: too short to tell
		"assets/index-BdXkQwaZ.js":                false, // a hash without a digit: missed, revalidated
		"3f9a1c2b":                                false, // no extension
		"app.3F9A1C2B.js":                         false,
		"assets/app.3f9a1c2b/index.html":          false, // the directory's name does not count
		"assets/name-with-many-parts-and-hyphens": false,
	} {
		if got := fingerprinted(name); got != want {
			t.Errorf("fingerprinted(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestAcceptsHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": true,
		"text/html":                           true,
		" Text/HTML ; q=0.2":                  true,
		"application/json, text/html;level=1": true,
		"":                                    false,
		"*/*":                                 false,
		"text/*":                              false,
		"text/html;q=0":                       false,
		"text/html;q=0.000":                   false,
		"text/html;q=x":                       false,
		"text/htmlx":                          false,
		"application/json":                    false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		if got := acceptsHTML(r); got != want {
			t.Errorf("acceptsHTML(Accept: %q) = %v, want %v", accept, got, want)
		}
	}
}

func TestEncodingQuality(t *testing.T) {
	for _, c := range []struct {
		acceptEncoding, coding string
		want                   float64
	}{
		{"br, gzip", "br", 1},
		{"gzip;q=0.5", "gzip", 0.5},
		{"GZIP", "gzip", 1},
		{"gzip", "br", 0},
		{"*", "br", 1},
		{"*;q=0.3, br;q=0", "br", 0},
		{"*;q=0.3, br;q=0", "gzip", 0.3},
		{"br;q=2", "br", 0},
		{"", "br", 0},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", c.acceptEncoding)
		if got := encodingQuality(r, c.coding); got != c.want {
			t.Errorf("encodingQuality(%q, %s) = %v, want %v", c.acceptEncoding, c.coding, got, c.want)
		}
	}
}
