package resolvers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"go.opentelemetry.io/otel/trace"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
)

// Options tunes the GraphQL handler. Zero numbers take the defaults of
// DefaultOptions; Introspection is a plain switch, so start from
// DefaultOptions to keep it on.
//
// The limits on documents (MaxDocumentBytes to DepthLimit) are checked on
// the text and the parsed document before validation, and hold for the
// whole document, whatever operation a request names; the cost is checked
// after validation, for the operation that is to run. Each refusal is a
// request error (no "data") with its own extensions.code.
//
// The defaults of the document limits are a few times what the largest
// document our clients send needs: GraphiQL's introspection query
// (getIntrospectionQuery of graphql-js 16.15 with every option on, as in
// resolvers/testdata/introspection.graphql) is 2,075 bytes and 184 tokens,
// selects 230 fields with its fragments spread, 10 in its widest
// selection set, and has no alias, no repeated field, no depth outside
// introspection; the largest documents of docs/migration.md and parity/
// are at most 336 bytes and 61 tokens, select at most 20 fields, 10 in one
// set, 5 deep, with no alias and no repeated field.
type Options struct {
	// Introspection allows __schema and __type queries and serves the SDL at
	// /graphql/schema.graphql. On in DefaultOptions.
	Introspection bool
	// ComplexityLimit is the most an operation may cost: a field costs 1 plus
	// its selections, a connection its page size (first or last, 20 when
	// absent, at most 100) times what each item selects, a root field that
	// runs a statement at least 10, __schema and __type a flat price sized
	// to what they answer (see limits.go). Default 5000. Code
	// COMPLEXITY_LIMIT_EXCEEDED.
	ComplexityLimit int
	// ComplexityNodeLimit is how many selections measuring an operation's
	// cost may visit (each fragment once); past it, the operation is refused
	// as too complex. The document limits keep every document far below it
	// (a document of 1,000 tokens has fewer than 1,000 selections). Default
	// 10000. Code COMPLEXITY_LIMIT_EXCEEDED.
	ComplexityNodeLimit int
	// MaxDocumentBytes is the size of the largest document (the query text)
	// accepted. Default 8192, 3.9 times GraphiQL's introspection query. Code
	// DOCUMENT_TOO_LARGE.
	MaxDocumentBytes int
	// TokenLimit is how many lexical tokens the parser reads from one
	// document before it gives up. Default 1000, 5.4 times GraphiQL's
	// introspection query. Code GRAPHQL_PARSE_FAILED.
	TokenLimit int
	// MaxFields is how many fields a document may select in all, fragments
	// counted wherever they are spread. Default 1000, 4.3 times GraphiQL's
	// introspection query. Code TOO_MANY_FIELDS.
	MaxFields int
	// MaxSelectionSetFields is how many fields one selection set may hold,
	// counting those of the fragments it spreads and of the fields of the
	// same name beside it, whose selections merge into one object. Default
	// 100, 10 times what our clients need. Code TOO_MANY_FIELDS.
	MaxSelectionSetFields int
	// MaxRepeatedFields is how many fields of a document may repeat the
	// response name of another field of their (merged) selection set, as
	// fragments that select the same fields do. Validation compares such
	// fields pairwise: without this limit, 10 `viewer { id ×100 }` in 3 KB
	// take 80 ms to validate; with it, a document takes at most about 1 ms.
	// Default 100 (our clients repeat none; Apollo Client's __typename in
	// every fragment repeats one per fragment). Code TOO_MANY_REPEATED_FIELDS.
	MaxRepeatedFields int
	// MaxAliases is how many aliased fields a document may hold, fragments
	// counted wherever they are spread. Default 100 (our clients use none).
	// Code TOO_MANY_ALIASES.
	MaxAliases int
	// DepthLimit is how deeply an operation's selections may nest, fields of
	// introspection left out. Default 12. Code DEPTH_LIMIT_EXCEEDED.
	DepthLimit int
	// MaxErrors is how many errors a response keeps; one more error then
	// says how many were left out (code TOO_MANY_ERRORS). Default 50.
	MaxErrors int
	// QueryCacheBytes bounds the cache of parsed and validated documents by
	// what they keep in memory (see newQueryCache). Default 32 MiB, about
	// 1,000 documents of our clients' size.
	QueryCacheBytes int
	// PersistedQueryCacheBytes bounds the cache of automatic persisted
	// queries (the text by its hash), by bytes. Default 4 MiB, about 8,000
	// documents of our clients' size.
	PersistedQueryCacheBytes int
	// GraphiQLAssetsDir, when set, is a directory holding GraphiQL's files,
	// served under /graphql/assets/ and used by the GraphiQL page instead of
	// the CDN: graphiql.min.js and graphiql.min.css (from the root of the npm
	// package graphiql@4.1.2), react.production.min.js and
	// react-dom.production.min.js (from umd/ of react@18.2.0 and
	// react-dom@18.2.0). Those are the versions gqlgen's page was written
	// for; the page checks each file against its SHA-256, computed at start.
	GraphiQLAssetsDir string

	// Streams bounds the connections that carry subscriptions.
	Streams StreamOptions

	// TracerProvider, when set, makes a span of each operation (never of
	// a field), the parent of the spans of its SQL statements. app.New
	// sets it; nil makes none.
	TracerProvider trace.TracerProvider
	// Metrics, when set, is where the handler registers
	// conduit_graphql_operation_duration_seconds. app.New sets it; nil
	// records nothing.
	Metrics prometheus.Registerer
}

// DefaultOptions returns the options of a public deployment.
func DefaultOptions() Options {
	return Options{
		Introspection:            true,
		ComplexityLimit:          5000,
		ComplexityNodeLimit:      10000,
		MaxDocumentBytes:         8192,
		TokenLimit:               1000,
		MaxFields:                1000,
		MaxSelectionSetFields:    100,
		MaxRepeatedFields:        100,
		MaxAliases:               100,
		DepthLimit:               12,
		MaxErrors:                50,
		QueryCacheBytes:          32 << 20,
		PersistedQueryCacheBytes: 4 << 20,
		Streams:                  DefaultStreamOptions(),
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&o.ComplexityLimit, d.ComplexityLimit)
	set(&o.ComplexityNodeLimit, d.ComplexityNodeLimit)
	set(&o.MaxDocumentBytes, d.MaxDocumentBytes)
	set(&o.TokenLimit, d.TokenLimit)
	set(&o.MaxFields, d.MaxFields)
	set(&o.MaxSelectionSetFields, d.MaxSelectionSetFields)
	set(&o.MaxRepeatedFields, d.MaxRepeatedFields)
	set(&o.MaxAliases, d.MaxAliases)
	set(&o.DepthLimit, d.DepthLimit)
	set(&o.MaxErrors, d.MaxErrors)
	set(&o.QueryCacheBytes, d.QueryCacheBytes)
	set(&o.PersistedQueryCacheBytes, d.PersistedQueryCacheBytes)
	return o
}

// The files GraphiQL needs, looked for in Options.GraphiQLAssetsDir.
const (
	graphiQLJS    = "graphiql.min.js"
	graphiQLCSS   = "graphiql.min.css"
	reactJS       = "react.production.min.js"
	reactDOMJS    = "react-dom.production.min.js"
	assetsPath    = "/graphql/assets/"
	endpointPath  = "/graphql"
	schemaPath    = "/graphql/schema.graphql"
	graphiQLTitle = "Conduit GraphiQL"
)

// NewHandler returns the GraphQL surface. It serves, under whatever prefix
// routes requests for /graphql and /graphql/ to it (chi's Mount("/graphql")
// does):
//
//	POST /graphql                  GraphQL over HTTP (application/json body)
//	GET  /graphql?query=…          GraphQL over HTTP, queries only
//	GET  /graphql (Upgrade)        subscriptions over WebSocket (graphql-transport-ws, graphql-ws)
//	POST /graphql (event-stream)   subscriptions over server-sent events
//	GET  /graphql                  GraphiQL, for a browser that asks for text/html
//	GET  /graphql/schema.graphql   the schema's SDL (when introspection is on)
//	GET  /graphql/assets/…         GraphiQL's files (when GraphiQLAssetsDir is set)
//
// It expects web.RequestID and web.Authenticate to have run, and a body
// limit (web.LimitBody) to be in place.
func NewHandler(svc *conduit.Service, logger *slog.Logger, opts Options) *Handler {
	h, _ := newHandler(svc, logger, opts)
	return h
}

// Handler is the GraphQL surface.
type Handler struct {
	mux     http.Handler
	streams *streams
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Shutdown ends every subscription connection, WebSockets with 1001 (going
// away), after their subscriptions have told their clients why (close the
// service's hub first), and waits for them to be gone until ctx ends. Run
// it beside http.Server.Shutdown, which neither ends streams nor waits for
// WebSockets.
func (h *Handler) Shutdown(ctx context.Context) { h.streams.shutdown(ctx) }

// OpenStreams returns how many subscription connections are open.
func (h *Handler) OpenStreams() int { return h.streams.count() }

// RefusedStreams returns how many subscription connections were refused
// because the replica held as many as it may, or was shutting down.
func (h *Handler) RefusedStreams() uint64 { return h.streams.refused.Load() }

// handlerCaches are the caches of one handler, for tests to weigh.
type handlerCaches struct {
	query     *byteLRU[*ast.QueryDocument]
	persisted *byteLRU[string]
}

func newHandler(svc *conduit.Service, logger *slog.Logger, opts Options) (*Handler, handlerCaches) {
	opts = opts.withDefaults()
	es := graph.NewExecutableSchema(graph.Config{
		Resolvers:  &Resolver{Service: svc, loads: newEventLoads()},
		Complexity: complexity(),
	})
	caches := handlerCaches{
		query:     newQueryCache(int64(opts.QueryCacheBytes)),
		persisted: newPersistedQueryCache(int64(opts.PersistedQueryCacheBytes)),
	}

	srv := handler.New(es)
	// graph's plain writers (graph/plain_gen.go) write plain fields
	// without running the field middleware: an extension that intercepts
	// fields would miss them, so none may be installed.
	use := func(ext graphql.HandlerExtension) {
		if _, ok := ext.(graphql.FieldInterceptor); ok {
			panic(fmt.Sprintf("resolvers: %T intercepts fields, which graph's plain writers do not run", ext))
		}
		srv.Use(ext)
	}
	srv.SetErrorPresenter(presentError(logger))
	srv.SetRecoverFunc(recoverPanic)
	srv.SetQueryCache(caches.query)
	srv.SetParserTokenLimit(opts.TokenLimit)
	srv.SetValidationRulesFn(validationRules)
	if ops := newOperations(opts.TracerProvider, opts.Metrics); ops != nil {
		// First, so that it sees each response as the client does.
		use(ops)
	}
	use(errorLimit{max: opts.MaxErrors})
	streams := newStreams(svc, logger, opts.Streams)
	use(newSubscriptionEnds(svc, logger, streams.opts.MaxSubscriptionsPerConnection))
	// Before parsing, in this order: the persisted query fills in the text
	// that the document limits measure.
	use(persistedQueries{cache: caches.persisted})
	use(documentLimits{
		cache:        caches.query,
		maxBytes:     opts.MaxDocumentBytes,
		maxTokens:    opts.TokenLimit,
		maxFields:    opts.MaxFields,
		maxSetFields: opts.MaxSelectionSetFields,
		maxRepeats:   opts.MaxRepeatedFields,
		maxAliases:   opts.MaxAliases,
		maxDepth:     opts.DepthLimit,
	})
	// After validation, before anything runs.
	use(extension.Introspection{})
	if !opts.Introspection {
		use(noIntrospection{})
	}
	use(&int32Variables{})
	use(&costLimit{max: opts.ComplexityLimit, maxNodes: opts.ComplexityNodeLimit})
	srv.AroundRootFields(freshLoadersPerMutation(svc))

	// The first transport that supports a request serves it.
	so := streams.opts
	srv.AddTransport(streamTransport{s: streams, Transport: transport.Websocket{
		Implementation:        newWebsockets(so),
		InitFunc:              streams.initWebSocket,
		InitTimeout:           so.InitTimeout,
		KeepAlivePingInterval: so.KeepAlive, // graphql-ws
		PingPongInterval:      so.KeepAlive, // graphql-transport-ws
		PayloadReadLimit:      &wsReadLimit,
		ErrorFunc: func(ctx context.Context, err error) {
			logger.DebugContext(ctx, "graphql: websocket", slog.Any("error", err))
		},
	}})
	srv.AddTransport(streamTransport{s: streams, sse: true, Transport: transport.SSE{KeepAlivePingInterval: so.KeepAlive}})
	srv.AddTransport(graphiQLTransport{page: withPageCSP(withLoadNotice(graphiQL(opts.GraphiQLAssetsDir, logger), "GraphiQL", graphiQLNotice(opts.GraphiQLAssetsDir)))})
	srv.AddTransport(getTransport{logger: logger})
	srv.AddTransport(postTransport{logger: logger})
	srv.AddTransport(otherMethods{logger: logger})

	endpoint := srv
	mux := http.NewServeMux()
	mux.Handle(endpointPath, endpoint)
	mux.Handle(endpointPath+"/{$}", endpoint)
	if opts.Introspection {
		mux.Handle("GET "+schemaPath, sdl(es.Schema()))
	}
	if opts.GraphiQLAssetsDir != "" {
		mux.Handle("GET "+assetsPath, http.StripPrefix(assetsPath, http.FileServerFS(os.DirFS(opts.GraphiQLAssetsDir))))
	}
	return &Handler{mux: mux, streams: streams}, caches
}

// wsReadLimit bounds one message a WebSocket client sends: a subscribe
// message holds a document (at most MaxDocumentBytes, 8 KiB by default)
// and its variables.
var wsReadLimit int64 = 64 << 10

// SDL returns the schema in the schema definition language, as served at
// /graphql/schema.graphql and committed as schema.graphql.
func SDL() []byte {
	return formatSDL(graph.NewExecutableSchema(graph.Config{}).Schema())
}

func formatSDL(s *ast.Schema) []byte {
	var buf bytes.Buffer
	formatter.NewFormatter(&buf, formatter.WithIndent("  ")).FormatSchema(s)
	return buf.Bytes()
}

// sdl serves the schema as SDL, formatted once.
func sdl(s *ast.Schema) http.Handler {
	body := formatSDL(s)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(body)
	})
}

// graphiQLNotice is what the GraphiQL page says when its scripts did not
// load, with what to do about it.
func graphiQLNotice(assetsDir string) string {
	if assetsDir != "" {
		return "GraphiQL's scripts did not load from " + assetsPath + " (GRAPHIQL_ASSETS_DIR=" + assetsDir + ").\n\n" +
			"Run `make graphiql-assets` to fetch them again (it needs npm), then restart the server."
	}
	return "GraphiQL's scripts did not load: this server points the browser at a CDN, which it cannot reach.\n\n" +
		"Run `make graphiql-assets` (it needs npm), then restart the server (`make run` serves graphiql-assets/ " +
		"by itself), or set GRAPHIQL_ASSETS_DIR to a directory holding them.\n\n" +
		"Meanwhile GraphQL itself works: POST queries to /graphql, e.g. with curl."
}

// graphiQL returns the GraphiQL page, loading its files from the CDN that
// gqlgen's page names, or from assetsDir (served under /graphql/assets/)
// when it is set.
func graphiQL(assetsDir string, logger *slog.Logger) http.Handler {
	// Keeping the editor's state in the URL makes a link to GraphiQL with
	// ?query=… open with that query, for documentation to point at.
	persist := playground.WithGraphiqlPersistStateInURL(true)
	if assetsDir == "" {
		return playground.Handler(graphiQLTitle, endpointPath, persist)
	}
	sri := func(name string) string {
		b, err := os.ReadFile(filepath.Join(assetsDir, name))
		if err != nil {
			// Serve the page all the same: the missing file 404s in the
			// browser, which is easier to diagnose than no page at all.
			logger.Error("graphiql: asset missing", slog.String("file", name), slog.Any("error", err))
			return ""
		}
		sum := sha256.Sum256(b)
		return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	}
	return playground.Handler(graphiQLTitle, endpointPath, persist,
		playground.WithGraphiqlVersion(assetsPath+graphiQLJS, assetsPath+graphiQLCSS, sri(graphiQLJS), sri(graphiQLCSS)),
		playground.WithGraphiqlReactVersion(assetsPath+reactJS, assetsPath+reactDOMJS, sri(reactJS), sri(reactDOMJS)),
	)
}
