// Package app assembles Conduit's HTTP server: the legacy REST surface
// under /api, GraphQL under /graphql, the health, readiness and metrics
// endpoints, the migration guide, and at / a frontend or a landing page,
// behind the one middleware chain. The server and every test
// harness build the handler here, so that tests run what production runs.
package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/cors"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/legacy"
	"github.com/conduit-dev/conduit/resolvers"
	"github.com/conduit-dev/conduit/web"
)

// Defaults of Config.
const (
	// DefaultRequestTimeout bounds every API request, database included:
	// a healthy request takes milliseconds, so a few seconds means the
	// database is gone or stuck, and the client had better hear 503 than
	// wait for as long as the outage lasts.
	DefaultRequestTimeout = 5 * time.Second
	// DefaultMaxInFlight is how many API requests a replica serves at once
	// before it sheds more: many times what its database pool can run, so
	// that it only sheds when requests pile up behind a slow database.
	DefaultMaxInFlight = 256
)

// Config is what the handler needs beyond the service.
type Config struct {
	Logger *slog.Logger
	// CORSOrigins are the origins whose pages may call the API ("*": any).
	// Empty allows no cross-origin caller: no CORS header is sent.
	CORSOrigins []string
	// RequestTimeout bounds each API request; DefaultRequestTimeout when 0.
	RequestTimeout time.Duration
	// MaxInFlight caps the API requests served at once; DefaultMaxInFlight
	// when 0.
	MaxInFlight int
	// TrustedProxies are the peers whose X-Forwarded-For is believed when
	// finding the client's address for rate limits.
	TrustedProxies []netip.Prefix
	// PublicMetrics serves /metrics on the public handler as well as on
	// the operator's.
	PublicMetrics bool
	GraphQL       resolvers.Options
	// Static serves a built frontend (web.Static) for every path that no
	// route claims; nil serves a landing page at / instead.
	Static http.Handler
	// Legacy tunes the legacy handler: the API docs' assets, the
	// retirement (signals, brownouts, the switch-off) and the usage counts,
	// which /metrics exports too.
	Legacy legacy.Options
	// TracerProvider, when set, traces every request: a server span per
	// request and a span per GraphQL operation (the database makes the
	// spans of its statements with the provider db.Options was given).
	// Nil traces nothing and adds nothing to the chain.
	TracerProvider trace.TracerProvider
	// Live is what delivers subscriptions' events, for /metrics; nil
	// members export nothing.
	Live Live
}

// Live is the machinery of subscriptions that /metrics reports on: the hub
// of this replica and the count of its listener's reconnections.
type Live struct {
	Hub                *conduit.Hub
	ListenerReconnects func() uint64
}

// Database is what the handler asks of the store: whether it answers (for
// /readyz), how many statements it has run and how its connection pool
// fares (for /metrics).
type Database interface {
	Ping(ctx context.Context) error
	Statements() int64
	Stat() *pgxpool.Stat
}

// Handlers are the two faces of a replica: Public for clients, Operator
// (/metrics and /debug/pprof/) for an address only operators reach.
type Handlers struct {
	Public   http.Handler
	Operator http.Handler
	// Shutdown ends every subscription (the hub first, so that each tells
	// its client why, then the connections, WebSockets with 1001) and waits
	// for their connections to close, until ctx ends. Run it beside
	// http.Server.Shutdown, which does neither.
	Shutdown func(ctx context.Context)
}

// New builds the handlers over svc and database.
func New(cfg Config, svc *conduit.Service, database Database) Handlers {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}

	reg := prometheus.NewRegistry()
	shed := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "conduit_http_requests_shed_total",
		Help: "API requests refused with 503 because the replica had as many in flight as it may.",
	})
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "conduit_sql_statements_total",
			Help: "SQL statements sent to PostgreSQL, transaction control included.",
		}, func() float64 { return float64(database.Statements()) }),
		shed,
		poolCollector{stat: database.Stat},
	)
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	cfg.GraphQL.TracerProvider = cfg.TracerProvider
	cfg.GraphQL.Metrics = reg

	if len(cfg.GraphQL.Streams.AllowedOrigins) == 0 {
		cfg.GraphQL.Streams.AllowedOrigins = cfg.CORSOrigins
	}
	graphql := resolvers.NewHandler(svc, logger, cfg.GraphQL)
	reg.MustRegister(liveMetrics(cfg.Live, graphql)...)
	if cfg.Legacy.Usage != nil {
		reg.MustRegister(cfg.Legacy.Usage)
	}

	fail := failBySurface(legacy.WriteError(logger), resolvers.WriteError(logger))
	r := chi.NewRouter()
	r.Use(web.RequestID, web.SecurityHeaders)
	if cfg.TracerProvider != nil {
		// Outside AccessLog, which logs the trace id.
		r.Use(web.Trace(cfg.TracerProvider))
	}
	r.Use(
		web.AccessLog(logger),
		web.Metrics(reg),
		web.Recover(logger, fail),
	)
	if len(cfg.CORSOrigins) > 0 {
		r.Use(cors.Handler(cors.Options{
			AllowedOrigins: cfg.CORSOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions},
			AllowedHeaders: []string{"Authorization", "Content-Type", "X-Requested-With", "X-Request-Id", "Accept", legacy.ClientNameHeader},
			// A page's script reads the retirement signals of the legacy API too.
			ExposedHeaders: []string{web.RequestIDHeader, "Retry-After", "Deprecation", "Sunset", "Link", "ETag"},
			MaxAge:         600,
		}))
	}
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := database.Ping(ctx); err != nil {
			// The store logs the outage once; load balancers ask every second.
			logger.DebugContext(ctx, "readiness: database unreachable", slog.Any("error", err))
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "database unreachable\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	if cfg.PublicMetrics {
		r.Handle("/metrics", metrics)
	}
	r.Group(func(r chi.Router) {
		r.Use(
			// Subscription connections last: they are bounded by the
			// GraphQL handler's StreamOptions instead.
			except(resolvers.IsStream, web.Shed(cfg.MaxInFlight, fail, shed.Inc)),
			except(resolvers.IsStream, web.Deadline(cfg.RequestTimeout)),
			web.ClientAddress(cfg.TrustedProxies),
			web.LimitBody(web.MaxBodyBytes),
			web.Authenticate(svc),
		)
		r.Mount("/api", legacy.NewHandler(svc, logger, cfg.Legacy))
		r.Mount("/graphql", noStore(graphql))
	})
	guide := migrationGuide()
	r.Get(migrationGuidePath, guide.ServeHTTP)
	r.Head(migrationGuidePath, guide.ServeHTTP)
	if cfg.Static != nil {
		// The frontend only ever answers what no route above matched.
		r.NotFound(outsideRoutes(cfg.Static))
	} else {
		page := landing(cfg.GraphQL.Introspection)
		r.Get("/", page.ServeHTTP)
		r.Head("/", page.ServeHTTP)
	}

	shutdown := func(ctx context.Context) {
		if cfg.Live.Hub != nil {
			cfg.Live.Hub.Close()
		}
		graphql.Shutdown(ctx)
	}
	return Handlers{Public: r, Operator: operator(metrics), Shutdown: shutdown}
}

// ownPaths are the paths the server answers itself, with their subpaths;
// the frontend must never answer for them, even where no route matched.
var ownPaths = []string{"/api", "/graphql", "/healthz", "/readyz", "/metrics", migrationGuidePath}

// outsideRoutes hands static the paths outside ownPaths. A path inside
// that no route matched (/healthz/x; /metrics when it is not public) is a
// plain 404, not a file of the same name or the app's index.html.
func outsideRoutes(static http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, p := range ownPaths {
			if rest, ok := strings.CutPrefix(r.URL.Path, p); ok && (rest == "" || rest[0] == '/') {
				http.NotFound(w, r)
				return
			}
		}
		static.ServeHTTP(w, r)
	}
}

// failBySurface answers a refused request in the wire format of the
// surface it was for.
func failBySurface(rest, graphql web.Fail) web.Fail {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if r.URL.Path == "/graphql" || strings.HasPrefix(r.URL.Path, "/graphql/") {
			graphql(w, r, err)
			return
		}
		rest(w, r, err)
	}
}

// except applies mw to the requests for which skip is false.
func except(skip func(*http.Request) bool, mw func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		wrapped := mw(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if skip(r) {
				next.ServeHTTP(w, r)
				return
			}
			wrapped.ServeHTTP(w, r)
		})
	}
}

// noStore keeps responses out of caches: a mutation's answer may carry a
// token (login, register, updateViewer), and any answer what only its
// viewer may see. The 200 answers of GET queries are the exception: they
// carry no token, and web.Conditional, which tags them, replaces no-store
// with a Cache-Control that lets them be kept and revalidated.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// operator serves what is for operators only: the metrics, and the
// runtime profiles of net/http/pprof.
func operator(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
