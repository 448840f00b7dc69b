// Command floor is the performance floor the benchmark compares Conduit
// with: the least a Go server can do to answer the hottest legacy reads.
// It is plain net/http over one pgxpool and sends exactly ONE
// hand-written SQL statement per request, and its bodies are byte for byte
// those of the legacy API:
//
//	GET /api/articles?limit=&offset=       anonymous, or signed in with "Token <jwt>"
//	GET /api/articles?tag=&limit=&offset=  the same, only the articles with the tag
//	GET /api/articles/feed?limit=&offset=  signed in: by the users the viewer follows
//	GET /api/articles/{slug}
//	GET /api/tags
//	GET /metrics                           conduit_sql_statements_total, as Conduit exposes it
//	GET /readyz
//
// It reads DATABASE_URL, JWT_SECRET and ADDR from the environment. It is a
// measuring stick, not a product: it has no logging, no other routes and no
// rules beyond the wire format.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends.
func run(ctx context.Context, getenv func(string) string) error {
	url, secret, addr := getenv("DATABASE_URL"), getenv("JWT_SECRET"), getenv("ADDR")
	if url == "" || secret == "" || addr == "" {
		return errors.New("DATABASE_URL, JWT_SECRET and ADDR are required")
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	s := &server{pool: pool, tokens: newVerifier([]byte(secret))}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// server holds what every handler needs.
type server struct {
	pool       *pgxpool.Pool
	tokens     *verifier
	statements atomic.Int64
}

// routes lists every path the floor serves.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/articles", s.handleArticles)
	mux.HandleFunc("GET /api/articles/feed", s.handleFeed)
	mux.HandleFunc("GET /api/articles/{slug}", s.handleArticle)
	mux.HandleFunc("GET /api/tags", s.handleTags)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}

// handleMetrics exposes the statement counter under the name Conduit uses,
// so that the harness scrapes both servers alike.
func (s *server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprintf(w, "# TYPE conduit_sql_statements_total counter\nconduit_sql_statements_total %d\n", s.statements.Load())
}

// page reads limit (default 20, 1 to 100) and offset (default 0).
func page(r *http.Request) (limit, offset int, ok bool) {
	limit = 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, false
		}
		limit = min(n, 100)
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		offset = n
	}
	return limit, offset, true
}

// viewer returns the user id the request's token proves, 0 when there is
// no token, and false when there is one that is not valid.
func (s *server) viewer(r *http.Request) (int64, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return 0, true
	}
	id, err := s.tokens.verify(h)
	return id, err == nil
}

// handles "GET /api/articles"
func (s *server) handleArticles(w http.ResponseWriter, r *http.Request) {
	viewer, ok := s.viewer(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "token", "invalid token")
		return
	}
	limit, offset, ok := page(r)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, "limit", "is invalid")
		return
	}
	s.statements.Add(1)
	var list articleList
	var err error
	if tag := r.URL.Query().Get("tag"); tag != "" {
		list, err = listArticles(r.Context(), s.pool, tagSQL, viewer, limit, offset, tag)
	} else {
		list, err = listArticles(r.Context(), s.pool, allSQL, viewer, limit, offset)
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "error", "internal server error")
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// handles "GET /api/articles/feed"
func (s *server) handleFeed(w http.ResponseWriter, r *http.Request) {
	viewer, ok := s.viewer(r)
	if !ok || viewer == 0 {
		writeError(w, http.StatusUnauthorized, "token", "invalid token")
		return
	}
	limit, offset, ok := page(r)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, "limit", "is invalid")
		return
	}
	s.statements.Add(1)
	list, err := listArticles(r.Context(), s.pool, feedSQL, viewer, limit, offset)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "error", "internal server error")
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// handles "GET /api/articles/{slug}"
func (s *server) handleArticle(w http.ResponseWriter, r *http.Request) {
	viewer, ok := s.viewer(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "token", "invalid token")
		return
	}
	s.statements.Add(1)
	a, found, err := articleBySlug(r.Context(), s.pool, viewer, r.PathValue("slug"))
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, "error", "internal server error")
	case !found:
		writeError(w, http.StatusNotFound, "article", "not found")
	default:
		writeJSON(w, http.StatusOK, articleEnvelope{Article: a})
	}
}

// handles "GET /api/tags"
func (s *server) handleTags(w http.ResponseWriter, r *http.Request) {
	s.statements.Add(1)
	tags, err := tagsInUse(r.Context(), s.pool)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "error", "internal server error")
		return
	}
	writeJSON(w, http.StatusOK, tagsEnvelope{Tags: tags})
}
