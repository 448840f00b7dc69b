// Command conduit serves the Conduit blogging API: the legacy REST surface
// under /api and the GraphQL API under /graphql, over one PostgreSQL
// database. Without DATABASE_URL it runs a private PostgreSQL cluster from
// the binaries on the machine.
//
// Usage:
//
//	conduit          serve
//	conduit seed     load demo data (idempotent) and exit
//	conduit migrate  apply migrations and exit
//	conduit schema   print the GraphQL schema (SDL) and exit
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/cors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/legacy"
	"github.com/conduit-dev/conduit/resolvers"
	"github.com/conduit-dev/conduit/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "conduit:", err)
		os.Exit(1)
	}
}

// devSecret signs tokens in development when JWT_SECRET is unset. It is
// public, so production refuses it.
const devSecret = "conduit-development-secret-not-for-production-use"

// config is everything the server reads from its environment.
type config struct {
	addr            string
	databaseURL     string
	dataDir         string
	jwtSecret       string
	tokenTTL        time.Duration
	bcryptCost      int
	corsOrigins     []string
	production      bool
	logLevel        slog.Level
	logFormat       string
	shutdownTimeout time.Duration
	dbMaxConns      int
	pprofAddr       string
	graphql         resolvers.Options
}

// loadConfig reads the environment. It refuses, in production, to run
// without a real JWT secret.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		addr:            ":8080",
		databaseURL:     getenv("DATABASE_URL"),
		dataDir:         orDefault(getenv("DATA_DIR"), ".data/postgres"),
		jwtSecret:       getenv("JWT_SECRET"),
		production:      strings.EqualFold(getenv("CONDUIT_ENV"), "production"),
		logFormat:       strings.ToLower(getenv("LOG_FORMAT")),
		tokenTTL:        30 * 24 * time.Hour,
		shutdownTimeout: 15 * time.Second,
		pprofAddr:       getenv("PPROF_ADDR"),
		graphql:         resolvers.DefaultOptions(),
	}
	if port := getenv("PORT"); port != "" {
		c.addr = ":" + port
	}
	if addr := getenv("ADDR"); addr != "" {
		c.addr = addr
	}
	if c.production {
		if len(c.jwtSecret) < 32 || c.jwtSecret == devSecret {
			return c, errors.New("CONDUIT_ENV=production needs JWT_SECRET: a random secret of at least 32 bytes")
		}
	} else if c.jwtSecret == "" {
		c.jwtSecret = devSecret
	}
	var err error
	if s := getenv("JWT_TTL"); s != "" {
		if c.tokenTTL, err = time.ParseDuration(s); err != nil || c.tokenTTL <= 0 {
			return c, fmt.Errorf("JWT_TTL=%q: want a positive duration such as 720h", s)
		}
	}
	if s := getenv("SHUTDOWN_TIMEOUT"); s != "" {
		if c.shutdownTimeout, err = time.ParseDuration(s); err != nil || c.shutdownTimeout < 0 {
			return c, fmt.Errorf("SHUTDOWN_TIMEOUT=%q: want a duration such as 15s", s)
		}
	}
	if s := getenv("BCRYPT_COST"); s != "" {
		if c.bcryptCost, err = strconv.Atoi(s); err != nil || c.bcryptCost < 4 || c.bcryptCost > 31 {
			return c, fmt.Errorf("BCRYPT_COST=%q: want a whole number from 4 to 31", s)
		}
	}
	if s := getenv("DB_MAX_CONNS"); s != "" {
		if c.dbMaxConns, err = strconv.Atoi(s); err != nil || c.dbMaxConns < 1 {
			return c, fmt.Errorf("DB_MAX_CONNS=%q: want a positive whole number", s)
		}
	}
	switch s := strings.TrimSpace(getenv("CORS_ORIGINS")); {
	case s != "":
		for _, o := range strings.Split(s, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.corsOrigins = append(c.corsOrigins, o)
			}
		}
	case !c.production:
		c.corsOrigins = []string{"*"}
	}
	if err := loadGraphQLConfig(&c.graphql, getenv); err != nil {
		return c, err
	}
	if s := getenv("LOG_LEVEL"); s != "" {
		if err := c.logLevel.UnmarshalText([]byte(s)); err != nil {
			return c, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", s)
		}
	}
	switch c.logFormat {
	case "":
		c.logFormat = "text"
		if c.production {
			c.logFormat = "json"
		}
	case "text", "json":
	default:
		return c, fmt.Errorf("LOG_FORMAT=%q: want text or json", c.logFormat)
	}
	return c, nil
}

// loadGraphQLConfig reads the GraphQL limits and switches.
func loadGraphQLConfig(o *resolvers.Options, getenv func(string) string) error {
	for _, v := range []struct {
		name string
		dst  *int
	}{
		{"GRAPHQL_COMPLEXITY_LIMIT", &o.ComplexityLimit},
		{"GRAPHQL_DEPTH_LIMIT", &o.DepthLimit},
		{"GRAPHQL_TOKEN_LIMIT", &o.TokenLimit},
	} {
		if s := getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return fmt.Errorf("%s=%q: want a positive whole number", v.name, s)
			}
			*v.dst = n
		}
	}
	if s := getenv("GRAPHQL_INTROSPECTION"); s != "" {
		on, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("GRAPHQL_INTROSPECTION=%q: want true or false", s)
		}
		o.Introspection = on
	}
	if s := getenv("GRAPHIQL_ASSETS_DIR"); s != "" {
		o.GraphiQLAssetsDir = s
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func newLogger(c config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// run is the whole program: main only supplies what the OS provides.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	command := "serve"
	if len(args) > 1 {
		command = args[1]
	}
	switch command {
	case "schema":
		_, err := stdout.Write(resolvers.SDL())
		return err
	case "serve", "seed", "migrate":
	default:
		return fmt.Errorf("unknown command %q (want serve, seed, migrate or schema)", command)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stdout)
	if cfg.jwtSecret == devSecret {
		logger.Warn("JWT_SECRET is unset: signing tokens with the public development secret")
	}

	store, closeDB, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeDB()

	svc, err := conduit.NewService(store, conduit.Config{
		JWTSecret: []byte(cfg.jwtSecret), TokenTTL: cfg.tokenTTL, BcryptCost: cfg.bcryptCost,
	})
	if err != nil {
		return err
	}
	switch command {
	case "migrate":
		logger.Info("migrated")
		return nil
	case "seed":
		return seed(ctx, svc, logger)
	}
	if cfg.pprofAddr != "" {
		go servePprof(cfg.pprofAddr, logger)
	}
	return serve(ctx, cfg, logger, newHandler(cfg, logger, svc, store))
}

// openDatabase connects to DATABASE_URL, or to the embedded cluster when it
// is unset, and migrates. The returned func closes both.
func openDatabase(ctx context.Context, cfg config, logger *slog.Logger) (*db.DB, func(), error) {
	url := cfg.databaseURL
	stopEmbedded := func() {}
	if url == "" {
		emb, err := db.StartEmbedded(ctx, db.EmbeddedConfig{Dir: cfg.dataDir, Logger: logger})
		if err != nil {
			return nil, nil, err
		}
		url = emb.URL()
		stopEmbedded = func() {
			if err := emb.Stop(); err != nil {
				logger.Error("stop embedded PostgreSQL", slog.Any("error", err))
			}
		}
	}
	store, err := db.Open(ctx, url, db.Options{MaxConns: cfg.dbMaxConns, Logger: logger})
	if err != nil {
		stopEmbedded()
		return nil, nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		stopEmbedded()
		return nil, nil, err
	}
	return store, func() { store.Close(); stopEmbedded() }, nil
}

// newHandler mounts both surfaces behind the shared middleware.
func newHandler(cfg config, logger *slog.Logger, svc *conduit.Service, store *db.DB) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "conduit_sql_statements_total",
			Help: "SQL statements sent to PostgreSQL, transaction control included.",
		}, func() float64 { return float64(store.Statements()) }),
	)
	r := chi.NewRouter()
	r.Use(
		web.RequestID,
		web.AccessLog(logger),
		web.Metrics(reg),
		web.Recover(logger, legacy.WriteInternalError(logger)),
		cors.Handler(cors.Options{
			AllowedOrigins: cfg.corsOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions},
			AllowedHeaders: []string{"Authorization", "Content-Type", "X-Requested-With", "X-Request-Id", "Accept"},
			ExposedHeaders: []string{web.RequestIDHeader},
			MaxAge:         600,
		}),
		web.LimitBody(web.MaxBodyBytes),
		web.Authenticate(svc),
	)
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := store.Ping(ctx); err != nil {
			logger.WarnContext(ctx, "readiness: database unreachable", slog.Any("error", err))
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "database unreachable\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r.Mount("/api", legacy.NewHandler(svc, logger))
	r.Mount("/graphql", resolvers.NewHandler(svc, logger, cfg.graphql))
	return r
}

// servePprof serves the runtime profiles on their own address, which should
// be a loopback one: profiles are for operators, not for the public port.
func servePprof(addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	logger.Info("pprof listening", slog.String("addr", "http://"+addr+"/debug/pprof/"))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		logger.Error("pprof server", slog.Any("error", err))
	}
}

// serve listens until ctx ends, then lets in-flight requests finish.
func serve(ctx context.Context, cfg config, logger *slog.Logger, h http.Handler) error {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	logger.Info("listening", slog.String("addr", "http://"+ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining in-flight requests", slog.Duration("timeout", cfg.shutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
