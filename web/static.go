package web

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultStaticCSP is the content security policy of a served frontend
// unless StaticOptions.CSP says otherwise: the page's own scripts, styles,
// fonts and requests (GraphQL and the API are same-origin), images from
// anywhere on https (a Conduit profile's image is any URL its user gave),
// no plugins, and no framing by any site.
const DefaultStaticCSP = "default-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// Cache-Control of what Static serves: a fingerprinted file's URL names one
// version of it forever, so it may be kept for a year without asking again;
// any other file may change at the next deploy under the same URL, so a
// cache must revalidate it (cheaply, with its ETag) before each use.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// StaticOptions tune NewStatic.
type StaticOptions struct {
	// CSP is the Content-Security-Policy of every file served (it governs
	// pages, and the workers that scripts start); DefaultStaticCSP when
	// empty.
	CSP string
	// Logger hears of files that exist but cannot be served (unreadable,
	// or a symbolic link leading out of the directory).
	Logger *slog.Logger
}

// Static serves a built single-page frontend from a directory, for
// whatever paths the router gives it:
//
//   - a file is served with a Content-Type from its extension (never
//     sniffed), an ETag of its content, Last-Modified, and conditional
//     and range requests answered by http.ServeContent;
//   - a precompressed sibling (name.br, name.gz) is served instead when
//     the request's Accept-Encoding takes it, with the original's type;
//   - a request for a page (GET or HEAD accepting text/html) whose path
//     names no file gets the directory's index.html, so that the app's
//     own router handles deep links; other requests get 404;
//   - a directory is never listed: it serves its index.html, or is as if
//     nothing were there.
//
// Files are opened through os.Root, which refuses any name, symbolic link
// included, that would leave the directory. Names that no built frontend
// has (segments "." or "..", empty segments, backslashes, control
// characters, encoded slashes, names starting with a dot other than
// /.well-known/) are refused before any lookup, with 404 and no fallback.
type Static struct {
	root   *os.Root
	csp    string
	logger *slog.Logger
	etags  etagCache
}

// NewStatic serves dir. It fails if dir cannot be opened as a directory.
// Close releases it.
func NewStatic(dir string, opts StaticOptions) (*Static, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open static directory: %w", err)
	}
	if opts.CSP == "" {
		opts.CSP = DefaultStaticCSP
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Static{root: root, csp: opts.CSP, logger: opts.Logger, etags: etagCache{m: map[etagKey]string{}}}, nil
}

// Close releases the directory.
func (s *Static) Close() error { return s.root.Close() }

// indexFile is what a directory, and a page the app routes itself, serve.
const indexFile = "index.html"

var _ http.Handler = (*Static)(nil)

// ServeHTTP answers GET and HEAD from the directory as Static describes;
// other methods get 405.
func (s *Static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, wantDir, ok := staticName(r)
	if !ok {
		staticNotFound(w)
		return
	}
	if info := s.stat(name); info != nil {
		switch {
		case info.Mode().IsRegular() && !wantDir:
			s.serveFile(w, r, name, "Accept-Encoding")
			return
		case info.IsDir():
			index := path.Join(name, indexFile)
			if fi := s.stat(index); fi != nil && fi.Mode().IsRegular() {
				if !wantDir && name != "." {
					// Relative links in the page resolve against the
					// directory only when its URL ends in a slash.
					target := r.URL.EscapedPath() + "/"
					if r.URL.RawQuery != "" {
						target += "?" + r.URL.RawQuery
					}
					http.Redirect(w, r, target, http.StatusMovedPermanently)
					return
				}
				s.serveFile(w, r, index, "Accept-Encoding")
				return
			}
		}
	}
	// Nothing here. What is answered depends on Accept, and caches must
	// know that, or a 404 kept for a script could be handed to a browser.
	if acceptsHTML(r) {
		if fi := s.stat(indexFile); fi != nil && fi.Mode().IsRegular() {
			s.serveFile(w, r, indexFile, "Accept, Accept-Encoding")
			return
		}
	}
	w.Header().Set("Vary", "Accept")
	staticNotFound(w)
}

// staticNotFound answers 404 for the static files; caches must not keep it,
// since the file may appear with the next deploy.
func staticNotFound(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", cacheRevalidate)
	http.Error(w, "404 page not found", http.StatusNotFound)
}

// staticName returns the name, relative to the root, that the request's
// path asks for ("." for the root), whether the path ended in a slash (a
// directory is wanted), and false if the path is not one a file of a built
// frontend could have.
func staticName(r *http.Request) (name string, wantDir, ok bool) {
	p := r.URL.Path
	// An encoded slash or backslash would be a separator only after
	// decoding, which is how traversal slips past checks on the raw path;
	// no asset's URL has one.
	if raw := strings.ToLower(r.URL.EscapedPath()); strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") {
		return "", false, false
	}
	if !strings.HasPrefix(p, "/") {
		return "", false, false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", false, false
		}
	}
	name = p[1:]
	if strings.HasSuffix(name, "/") {
		name, wantDir = name[:len(name)-1], true
	}
	if name == "" {
		return ".", true, true
	}
	// fs.ValidPath refuses "..", ".", empty segments and a leading slash
	// (so "//etc/passwd" too).
	if !fs.ValidPath(name) {
		return "", false, false
	}
	for i, seg := range strings.Split(name, "/") {
		// Dot files (.env, .git) are build or editor leftovers, not the
		// app; /.well-known/ is the one dot directory the web defines.
		if strings.HasPrefix(seg, ".") && (i > 0 || seg != ".well-known") {
			return "", false, false
		}
	}
	return name, wantDir, true
}

// stat returns what name is in the root, or nil if there is nothing it
// may serve there. Failures other than absence are logged, since they
// mean the directory holds something it cannot serve: a symbolic link
// that leaves it, an unreadable file.
func (s *Static) stat(name string) fs.FileInfo {
	info, err := s.root.Stat(name)
	if err != nil {
		s.logOpenError(name, err)
		return nil
	}
	return info
}

func (s *Static) logOpenError(name string, err error) {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENAMETOOLONG) || errors.Is(err, fs.ErrInvalid) {
		return
	}
	s.logger.Warn("static: cannot serve a file", slog.String("file", name), slog.Any("error", err))
}

// open opens name if it is a regular file.
func (s *Static) open(name string) (*os.File, fs.FileInfo, bool) {
	f, err := s.root.Open(name)
	if err != nil {
		s.logOpenError(name, err)
		return nil, nil, false
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, false
	}
	return f, info, true
}

// precompressed are the encodings Static looks for beside a file, best
// first: name+suffix holds name's content in that encoding.
var precompressed = []struct{ coding, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// serveFile serves name, or a precompressed sibling of it that the
// request accepts, with vary as the response's Vary header.
func (s *Static) serveFile(w http.ResponseWriter, r *http.Request, name, vary string) {
	f, info, ok := s.open(name)
	if !ok {
		staticNotFound(w)
		return
	}
	coding := ""
	best := 0.0
	for _, p := range precompressed {
		q := encodingQuality(r, p.coding)
		if q <= best {
			continue
		}
		if cf, cinfo, ok := s.open(name + p.suffix); ok {
			f.Close()
			f, info, coding, best = cf, cinfo, p.coding, q
		}
	}
	defer f.Close()

	h := w.Header()
	h.Set("Content-Type", contentType(name))
	h.Set("Vary", vary)
	h.Set("Content-Security-Policy", s.csp)
	if fingerprinted(name) {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheRevalidate)
	}
	if coding != "" {
		h.Set("Content-Encoding", coding)
		// ServeContent leaves the length out when Content-Encoding is set
		// (in case a wrapper compresses on the fly); these bytes are the
		// file's. It replaces it for a range and drops it for a 304.
		h.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	}
	if etag, err := s.etags.get(f, name+"\x00"+coding, info); err == nil {
		h.Set("ETag", etag)
	} else {
		s.logger.Warn("static: cannot read a file", slog.String("file", name), slog.Any("error", err))
	}
	http.ServeContent(w, r, "", info.ModTime(), f)
}

// acceptsHTML reports whether the request is for a page: a GET or HEAD
// whose Accept lists text/html (as a browser's navigation does, and a
// script's, style's or image's fetch does not).
func acceptsHTML(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			typ, params, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(typ), "text/html") && quality(params) > 0 {
				return true
			}
		}
	}
	return false
}

// encodingQuality is how much the request's Accept-Encoding takes coding:
// its own entry's q, else that of "*", else 0.
func encodingQuality(r *http.Request, coding string) float64 {
	exact, star := -1.0, -1.0
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			switch name = strings.TrimSpace(name); {
			case strings.EqualFold(name, coding):
				exact = max(exact, quality(params))
			case name == "*":
				star = max(star, quality(params))
			}
		}
	}
	switch {
	case exact >= 0:
		return exact
	case star >= 0:
		return star
	}
	return 0
}

// quality reads the q parameter of a list entry's parameters ("; q=0.5"):
// 1 when absent, 0 when malformed.
func quality(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}

// staticTypes are the Content-Types of what frontend builds emit. They are
// fixed here rather than taken from the machine's mime.types, which differ
// between systems (and have served JavaScript as text/plain), and a script
// or style of the wrong type is refused by the browser under nosniff.
var staticTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".htm":         "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".wasm":        "application/wasm",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".txt":         "text/plain; charset=utf-8",
	".xml":         "application/xml",
	".pdf":         "application/pdf",
	".mp4":         "video/mp4",
	".webm":        "video/webm",
}

// contentType is name's Content-Type by its extension: the table above,
// then the system's, then application/octet-stream (content is never
// sniffed: a file cannot make itself HTML by what it holds).
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := staticTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// fingerprinted reports whether name carries a hash of its content, as
// bundlers write them, so that its URL names one version forever. A part
// of the base name between dots and dashes, other than the extension
// (the last part), must be a hash:
//
//   - 8 or more lowercase hex digits with at least one digit and one
//     letter (webpack, Parcel, Angular: app.3f9a1c2b.js,
//     main.3f9a1c2b.chunk.js, 3f9a1c2b4d5e6f70.png), or
//   - 8 or more letters and digits with lower case, upper case and digits
//     all present (Vite, Rollup: index-BdX3k2aZ.js).
//
// The rule errs towards "no": a word with a digit (icon-1024x1024.png,
// hero-section2.png) is not a hash, and a hash it misses (one with no
// digit) only costs a revalidation, where a name taken for a hash would
// be kept stale in browsers for a year.
func fingerprinted(name string) bool {
	parts := strings.FieldsFunc(path.Base(name), func(r rune) bool { return r == '.' || r == '-' })
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if hashLike(p) {
			return true
		}
	}
	return false
}

func hashLike(s string) bool {
	if len(s) < 8 {
		return false
	}
	var digit, hexLetter, lower, upper, notHex bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f':
			hexLetter, lower = true, true
		case c >= 'g' && c <= 'z':
			lower, notHex = true, true
		case c >= 'A' && c <= 'Z':
			upper, notHex = true, true
		case c == '_':
			notHex = true
		default:
			return false
		}
	}
	return (!notHex && digit && hexLetter) || (digit && lower && upper)
}

// etagCache remembers the ETag of each file by name, size and
// modification time, so that a file is read to hash it once, not on every
// request. The ETag is a hash of the content, not of the size and time,
// so that replicas serving the same build agree on it whenever their
// copies were written. Entries of files that have since changed are kept
// until the cache fills, then all are dropped.
type etagCache struct {
	mu sync.Mutex
	m  map[etagKey]string
}

type etagKey struct {
	name string
	size int64
	mod  time.Time
}

// maxETags bounds the cache: many times the files of any frontend build.
const maxETags = 10000

func (c *etagCache) get(f io.ReadSeeker, name string, info fs.FileInfo) (string, error) {
	key := etagKey{name, info.Size(), info.ModTime()}
	c.mu.Lock()
	etag, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return etag, nil
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	etag = `"` + base64.RawURLEncoding.EncodeToString(sum.Sum(nil)[:18]) + `"`
	c.mu.Lock()
	if len(c.m) >= maxETags {
		clear(c.m)
	}
	c.m[key] = etag
	c.mu.Unlock()
	return etag, nil
}
