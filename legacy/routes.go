// Package legacy serves the old Conduit REST API under /api, byte for byte
// as the clients that have not moved to GraphQL expect it. Handlers decode,
// call one service method and encode; every rule lives in package conduit.
package legacy

import (
	"log/slog"
	"net/http"
	"reflect"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/web"
)

// handlerMaker makes a route's handler over the service.
type handlerMaker func(*conduit.Service, errorWriter) http.HandlerFunc

// route is one operation of the legacy API: how chi serves it, and what the
// OpenAPI document says about it beyond what its wire types tell.
type route struct {
	method  string
	pattern string // under /api, in chi's syntax
	handler handlerMaker
	doc     operation
}

// Access is who may call a route. Its values are the words of the contract's
// "Auth" column.
type Access string

// The access levels of the legacy routes.
const (
	// Public routes look at no token: one that does not verify is ignored.
	Public Access = "none"
	// Optional routes answer anonymous callers, and honour or refuse a
	// token that is sent.
	Optional Access = "optional"
	// Required routes refuse anonymous callers with 401.
	Required Access = "required"
	// AuthorOnly routes are for the article's author; others get 403.
	AuthorOnly Access = "author only"
	// CommentAuthorOnly routes are for the comment's author.
	CommentAuthorOnly Access = "comment author only"
)

// operation is what the document says about a route.
type operation struct {
	id          string // operationId
	tag         string // one of docTags
	summary     string
	description string // Markdown: what a client must know beyond the schemas
	auth        Access
	// graphql is the GraphQL field that replaces the route, as a schema
	// coordinate: "Mutation.favoriteArticle", "Article.comments".
	graphql string
	query   []parameter
	// request is the type the handler decodes the body into, nil for a
	// route that reads no body; requestExample is a body it accepts.
	request        reflect.Type
	requestExample string
	status         int // of success
	// response is a sample of what the handler encodes on success, nil for
	// an empty body; the document takes its type and its JSON example.
	response    any
	noStore     bool      // success carries a token: Cache-Control: no-store
	failures    []failure // beyond those every route of its kind can answer
	rateLimited bool      // 429 with Retry-After
}

// failure is one way a route can fail, with an example of its body.
type failure struct {
	status  int
	when    string
	example errorBody
}

// routes is the legacy API: every operation, in the order of the contract.
// NewHandler serves it and the OpenAPI document describes it, so the two
// cannot disagree about which operations exist.
var routes = []route{
	{"POST", "/users/login", handleLogin, opLogin},
	{"POST", "/users", handleRegister, opRegister},
	{"GET", "/user", handleCurrentUser, opCurrentUser},
	{"PUT", "/user", handleUpdateUser, opUpdateUser},

	{"GET", "/profiles/{username}", handleProfileAction((*conduit.Service).Profile), opProfile},
	{"POST", "/profiles/{username}/follow", handleProfileAction((*conduit.Service).Follow), opFollow},
	{"DELETE", "/profiles/{username}/follow", handleProfileAction((*conduit.Service).Unfollow), opUnfollow},

	{"GET", "/articles/feed", handleFeed, opFeed}, // a static segment wins over {slug}
	{"GET", "/articles", handleArticles, opArticles},
	{"POST", "/articles", handleCreateArticle, opCreateArticle},
	{"GET", "/articles/{slug}", handleArticleAction((*conduit.Service).Article), opArticle},
	{"PUT", "/articles/{slug}", handleUpdateArticle, opUpdateArticle},
	{"DELETE", "/articles/{slug}", handleDeleteArticle, opDeleteArticle},

	{"GET", "/articles/{slug}/comments", handleComments, opComments},
	{"POST", "/articles/{slug}/comments", handleAddComment, opAddComment},
	{"DELETE", "/articles/{slug}/comments/{id}", handleDeleteComment, opDeleteComment},

	{"POST", "/articles/{slug}/favorite", handleArticleAction((*conduit.Service).Favorite), opFavorite},
	{"DELETE", "/articles/{slug}/favorite", handleArticleAction((*conduit.Service).Unfavorite), opUnfavorite},

	{"GET", "/tags", handleTags, opTags},
}

// Options tunes the legacy handler.
type Options struct {
	// DocsAssetsDir is a directory holding the scripts of Swagger UI and
	// ReDoc (`make docs-assets` fills one), served under /api/docs/assets/
	// for the pages at /api/docs and /api/redoc. Empty: those pages say how
	// to install them; the OpenAPI document is served all the same.
	DocsAssetsDir string

	// DeprecatedAt, when set, turns on the deprecation signals: every
	// response of a route that is not kept carries Deprecation (RFC 9745)
	// with this time, Link to the route's section of the migration guide,
	// and Sunset (RFC 8594) when the route has one.
	DeprecatedAt time.Time
	// SunsetAt is every route's sunset unless RouteSunsets gives its own.
	SunsetAt time.Time
	// RouteSunsets override the sunset of routes by operationId, or keep
	// them out of the retirement.
	RouteSunsets map[string]RouteSunset
	// Brownouts refuse a share of the calls to some routes during windows
	// of time, with 410 Gone.
	Brownouts []Brownout
	// Off switches the API off: every operation answers 410 Gone, naming
	// its replacement. The document and its pages are still served.
	Off bool
	// GuideURL is where the migration guide is, for the Link header and
	// the 410s: DefaultGuideURL when empty.
	GuideURL string
	// Usage, when set, counts every call of an operation.
	Usage *Usage
	// Now is the clock of the usage counts and the brownouts; time.Now
	// when nil.
	Now func() time.Time
	// Rand draws which calls a brownout refuses, uniformly in [0, 1);
	// math/rand/v2's when nil. It is called by one request at a time.
	Rand func() float64
}

// NewHandler returns the legacy API, and its OpenAPI document and
// documentation pages. Mount it at /api; it expects the shared middleware
// (request id, authentication, body limit) to run first.
func NewHandler(svc *conduit.Service, logger *slog.Logger, opts Options) http.Handler {
	if err := opts.Check(); err != nil {
		panic("legacy: " + err.Error()) // loadConfig refuses such settings; this is a caller's bug
	}
	ew := errorWriter{logger: logger}
	r := chi.NewRouter()
	r.Use(middleware.StripSlashes) // "/api/articles/" is "/api/articles", as on the old server

	for _, rt := range routes {
		var h http.Handler = retiring(rt, opts, rt.handler(svc, ew))
		if conditional(rt.method, rt.doc) {
			h = web.Conditional(h)
		}
		r.Method(rt.method, rt.pattern, h)
	}
	mountDocs(r, opts.DocsAssetsDir, logger)

	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusNotFound, general("no such endpoint: "+r.Method+" "+r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusMethodNotAllowed, general("method "+r.Method+" not allowed on "+r.URL.Path))
	})
	return r
}

// Route is what tests and documentation outside the package learn about
// one legacy operation.
type Route struct {
	Method string // "GET"
	Path   string // "/api/articles/{slug}", as the contract and the OpenAPI document write it
	// OperationID names the operation in the OpenAPI document.
	OperationID string
	Auth        Access
	// GraphQL is the field that replaces the operation, as a schema
	// coordinate: "Mutation.favoriteArticle".
	GraphQL string
	// Guide is the fragment of the operation's section in the migration
	// guide, where the Link header points: "favoritearticle".
	Guide string
}

// Routes returns every legacy operation, in the order of the contract.
func Routes() []Route {
	out := make([]Route, len(routes))
	for i, rt := range routes {
		out[i] = Route{Method: rt.method, Path: apiPrefix + rt.pattern, OperationID: rt.doc.id, Auth: rt.doc.auth, GraphQL: rt.doc.graphql, Guide: guideAnchor(rt.doc.graphql)}
	}
	return out
}

// apiPrefix is where the handler is mounted.
const apiPrefix = "/api"

// WriteError answers, in the legacy error envelope, a request to /api that
// the shared plumbing refused before any handler ran: a panic (Internal),
// a replica too busy (Unavailable).
func WriteError(logger *slog.Logger) web.Fail {
	ew := errorWriter{logger: logger}
	return ew.write
}
