package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/conduit-dev/conduit/web"
)

// BenchmarkConditional is what web.Conditional adds to a GET answered 200
// with a body of the size of one article (2 KiB) and of a page of 20 (40
// KiB): holding the body back, hashing it, and the headers. Compare with
// the Bare runs, the same handler unwrapped.
func BenchmarkConditional(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"2KiB", 2 << 10}, {"40KiB", 40 << 10}} {
		body := bytes.Repeat([]byte("a"), size.n)
		handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		})
		for _, h := range []struct {
			name string
			h    http.Handler
		}{{"Bare", handler}, {"Conditional", web.Conditional(handler)}} {
			b.Run(size.name+"/"+h.name, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/api/articles", nil)
				w := &discardWriter{header: http.Header{}}
				b.ReportAllocs()
				b.SetBytes(int64(size.n))
				for b.Loop() {
					clear(w.header)
					h.h.ServeHTTP(w, req)
				}
			})
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing but its headers.
type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
