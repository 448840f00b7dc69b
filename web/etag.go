package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/conduit-dev/conduit/conduit"
)

// MaxTaggedBytes is the largest response body Conditional holds back to
// tag; a larger one goes out as it is written, without an ETag.
const MaxTaggedBytes = 1 << 20

// The Cache-Control values of the answers Conditional handles. Either way a
// cache must ask again before reusing an answer (no-cache), so a change is
// seen at once; one made for a signed-in viewer is for that viewer's own
// cache only (private).
const (
	cacheAnonymous = "no-cache"
	cacheViewer    = "private, no-cache"
)

// Conditional makes the 200 answers of GET requests revalidatable. It holds
// the body back (up to MaxTaggedBytes), tags it with a strong ETag made from
// the body and, for a request with an Authorization header, from who sent
// it, so that one viewer's tag never matches another viewer's answer, nor an
// anonymous one. An If-None-Match that matches the tag (RFC 9110 §13.1.2:
// `*`, a list, weak comparison) gets 304 with no body instead.
//
// Every 200 it handles carries `Vary: Authorization` and Cache-Control
// (no-cache, or private, no-cache when signed in), replacing any value set
// before: wrap only handlers whose answers may be stored, not one that
// returns a token. Other statuses, other methods, a body over the bound and
// a handler that flushes (a stream) pass through untagged.
func Conditional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		cw := &conditionalWriter{ResponseWriter: w, r: r}
		defer cw.release()
		next.ServeHTTP(cw, r)
		cw.finish()
	})
}

// conditionalWriter holds back a 200 body until the handler returns.
type conditionalWriter struct {
	http.ResponseWriter
	r *http.Request
	// wroteHeader is set once a final status is chosen; holding is set while
	// the body is held back, and buf holds it.
	wroteHeader bool
	holding     bool
	buf         *bytes.Buffer
}

func (w *conditionalWriter) WriteHeader(code int) {
	if w.wroteHeader {
		if !w.holding {
			w.ResponseWriter.WriteHeader(code) // net/http logs the superfluous call
		}
		return
	}
	if code != http.StatusOK {
		if code >= 200 {
			w.wroteHeader = true
		}
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.wroteHeader, w.holding = true, true
	w.buf = taggedBuffers.Get().(*bytes.Buffer)
}

func (w *conditionalWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.holding {
		return w.ResponseWriter.Write(b)
	}
	if w.buf.Len()+len(b) > MaxTaggedBytes {
		if err := w.release200(); err != nil {
			return 0, err
		}
		return w.ResponseWriter.Write(b)
	}
	return w.buf.Write(b)
}

// Flush sends what is held back untagged: a handler that flushes streams.
func (w *conditionalWriter) Flush() {
	switch {
	case !w.wroteHeader:
		w.wroteHeader = true
		w.setCachePolicy()
	case w.holding:
		_ = w.release200()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the writers below.
func (w *conditionalWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// release200 stops holding back: the status and what was held go out
// untagged, and the rest of the body follows as it is written.
func (w *conditionalWriter) release200() error {
	w.holding = false
	w.setCachePolicy()
	w.ResponseWriter.WriteHeader(http.StatusOK)
	_, err := w.ResponseWriter.Write(w.buf.Bytes())
	return err
}

// finish tags the held-back answer and sends it, or 304.
func (w *conditionalWriter) finish() {
	if !w.holding {
		return
	}
	w.holding = false
	tag := entityTag(w.viewerKey(), w.buf.Bytes())
	h := w.Header()
	w.setCachePolicy()
	h.Set("ETag", tag)
	if inm := w.r.Header.Values("If-None-Match"); len(inm) > 0 && noneMatchFails(inm, tag) {
		// A 304 has no body, so none of the headers that describe one.
		h.Del("Content-Length")
		h.Del("Content-Type")
		w.ResponseWriter.WriteHeader(http.StatusNotModified)
		return
	}
	w.ResponseWriter.WriteHeader(http.StatusOK)
	_, _ = w.ResponseWriter.Write(w.buf.Bytes())
}

func (w *conditionalWriter) release() {
	if w.buf == nil {
		return
	}
	if w.buf.Cap() <= MaxTaggedBytes+bytes.MinRead {
		w.buf.Reset()
		taggedBuffers.Put(w.buf)
	}
	w.buf = nil
}

// taggedBuffers recycles the buffers bodies are held in.
var taggedBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (w *conditionalWriter) setCachePolicy() {
	h := w.Header()
	cc := cacheAnonymous
	if w.r.Header.Get("Authorization") != "" {
		cc = cacheViewer
	}
	h.Set("Cache-Control", cc)
	if !varies(h, "Authorization") {
		h.Add("Vary", "Authorization")
	}
}

// viewerKey is what tells the request's sender apart: the signed-in
// viewer's user id, the Authorization header when it proved no viewer (a
// route that ignores tokens answers anyway), nothing when there is none.
func (w *conditionalWriter) viewerKey() string {
	if v, ok := conduit.ViewerFromContext(w.r.Context()); ok {
		return "user " + strconv.FormatInt(v.UserID, 10)
	}
	if a := w.r.Header.Get("Authorization"); a != "" {
		return "authorization " + a
	}
	return ""
}

// entityTag is the strong ETag of body as sent to viewer: the first 16
// bytes of SHA-256 over both, in base64url. The viewer goes first, ended
// by a NUL no key holds, so that no two (viewer, body) pairs hash the same
// input.
func entityTag(viewer string, body []byte) string {
	h := sha256.New()
	if viewer != "" {
		h.Write([]byte(viewer))
		h.Write([]byte{0})
	}
	h.Write(body)
	var sum [sha256.Size]byte
	var out [2 + 22]byte
	out[0] = '"'
	base64.RawURLEncoding.Encode(out[1:23], h.Sum(sum[:0])[:16])
	out[23] = '"'
	return string(out[:])
}

// noneMatchFails tells whether If-None-Match (its field lines) matches the
// current tag, which makes the condition false and the answer 304: `*`
// matches any current representation, and a listed tag matches by weak
// comparison (RFC 9110 §8.8.3.2), W/ being ignored on either side.
func noneMatchFails(values []string, tag string) bool {
	for _, v := range values {
		for {
			v = strings.TrimLeft(v, " \t,")
			if v == "" {
				break
			}
			if v[0] == '*' {
				return true
			}
			v = strings.TrimPrefix(v, "W/")
			if v == "" || v[0] != '"' {
				break // not an entity tag: nothing after it can be read
			}
			end := strings.IndexByte(v[1:], '"')
			if end < 0 {
				break
			}
			if v[:end+2] == tag {
				return true
			}
			v = v[end+2:]
		}
	}
	return false
}

// varies tells whether the Vary header already names field.
func varies(h http.Header, field string) bool {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, field) {
				return true
			}
		}
	}
	return false
}
