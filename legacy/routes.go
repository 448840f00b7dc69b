// Package legacy serves the old Conduit REST API under /api, byte for byte
// as the clients that have not moved to GraphQL expect it. Handlers decode,
// call one service method and encode; every rule lives in package conduit.
package legacy

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/web"
)

// NewHandler returns the legacy API. Mount it at /api; it expects the
// shared middleware (request id, authentication, body limit) to run first.
func NewHandler(svc *conduit.Service, logger *slog.Logger) http.Handler {
	ew := errorWriter{logger: logger}
	r := chi.NewRouter()
	r.Use(middleware.StripSlashes) // "/api/articles/" is "/api/articles", as on the old server

	r.Post("/users/login", handleLogin(svc, ew))
	r.Post("/users", handleRegister(svc, ew))
	r.Get("/user", handleCurrentUser(svc, ew))
	r.Put("/user", handleUpdateUser(svc, ew))

	r.Get("/profiles/{username}", handleProfileAction(svc.Profile, ew))
	r.Post("/profiles/{username}/follow", handleProfileAction(svc.Follow, ew))
	r.Delete("/profiles/{username}/follow", handleProfileAction(svc.Unfollow, ew))

	r.Get("/articles/feed", handleFeed(svc, ew)) // a static segment wins over {slug}
	r.Get("/articles", handleArticles(svc, ew))
	r.Post("/articles", handleCreateArticle(svc, ew))
	r.Get("/articles/{slug}", handleArticleAction(svc.Article, ew))
	r.Put("/articles/{slug}", handleUpdateArticle(svc, ew))
	r.Delete("/articles/{slug}", handleDeleteArticle(svc, ew))

	r.Get("/articles/{slug}/comments", handleComments(svc, ew))
	r.Post("/articles/{slug}/comments", handleAddComment(svc, ew))
	r.Delete("/articles/{slug}/comments/{id}", handleDeleteComment(svc, ew))

	r.Post("/articles/{slug}/favorite", handleArticleAction(svc.Favorite, ew))
	r.Delete("/articles/{slug}/favorite", handleArticleAction(svc.Unfavorite, ew))

	r.Get("/tags", handleTags(svc, ew))

	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusNotFound, general("no such endpoint: "+r.Method+" "+r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusMethodNotAllowed, general("method "+r.Method+" not allowed on "+r.URL.Path))
	})
	return r
}

// WriteError answers, in the legacy error envelope, a request to /api that
// the shared plumbing refused before any handler ran: a panic (Internal),
// a replica too busy (Unavailable).
func WriteError(logger *slog.Logger) web.Fail {
	ew := errorWriter{logger: logger}
	return ew.write
}
