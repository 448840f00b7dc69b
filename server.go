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
//	conduit healthcheck [/path]
//	                 exit 0 if the local server answers /healthz (or path)
//	conduit legacy-usage [-since 7d]
//	                 print who called which legacy REST operation, and when
//	conduit check-counters [-repair]
//	                 compare the kept article counts with the rows (and fix them)
//	conduit diff -old URL -new URL
//	                 compare the REST answers of an old backend and this one
//	conduit help     list the commands and every setting (config.go)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"go.opentelemetry.io/otel/trace"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/difftest"
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
	case "help", "-h", "-help", "--help":
		return usage(stdout)
	case "healthcheck":
		return healthcheck(ctx, args, getenv)
	case "legacy-usage":
		return legacyUsage(ctx, args[2:], getenv, stdout)
	case "check-counters":
		return checkCounters(ctx, args[2:], getenv, stdout)
	case "diff":
		return difftest.Command(ctx, args[2:], stdout)
	case "serve", "seed", "migrate":
	default:
		return fmt.Errorf("unknown command %q (want serve, seed, migrate, schema, healthcheck, legacy-usage, check-counters, diff or help)", command)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stdout)
	if cfg.jwtSecret == "" {
		if cfg.jwtSecret, err = devSecret(cfg, logger); err != nil {
			return err
		}
	}

	if command == "serve" {
		tuneGC(ctx, getenv, memlimit.FromCgroup, logger)
	}

	// Only a serving process traces: seeding and migrating run outside
	// any request.
	var tp trace.TracerProvider
	if command == "serve" && cfg.tracing() {
		var stopTracing func()
		if tp, stopTracing, err = newTracerProvider(ctx, cfg.tracesProtocol(), logger); err != nil {
			return err
		}
		// Deferred after closeDB below, so it runs before it, once the
		// server has drained: the last requests' spans are flushed.
		defer stopTracing()
		logger.Info("tracing: exporting spans over OTLP", slog.String("protocol", cfg.tracesProtocol()))
	}

	store, closeDB, err := openDatabase(ctx, cfg, tp, logger)
	if err != nil {
		return err
	}
	defer closeDB()

	// Events of writes reach subscribers through PostgreSQL (LISTEN and
	// NOTIFY), so that every replica delivers every event.
	hub := conduit.NewHub(store, cfg.hub)
	svc, err := conduit.NewService(store, conduit.Config{
		Hub:                hub,
		JWTSecret:          []byte(cfg.jwtSecret),
		TokenTTL:           cfg.tokenTTL,
		TokenCheckInterval: cfg.tokenCheckInterval,
		BcryptCost:         cfg.bcryptCost,
		LoginPerAddress:    cfg.loginPerAddress.throttle(),
		LoginPerAccount:    cfg.loginPerAccount.throttle(),
		RegisterPerAddress: cfg.registerPerAddress.throttle(),
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
	reconnects, err := listen(ctx, store, hub, svc, logger)
	if err != nil {
		return err
	}
	var static http.Handler
	if cfg.staticDir != "" {
		st, err := web.NewStatic(cfg.staticDir, web.StaticOptions{CSP: cfg.staticCSP, Logger: logger})
		if err != nil {
			return fmt.Errorf("STATIC_DIR=%q: %w", cfg.staticDir, err)
		}
		defer st.Close()
		static = st
		logger.Info("serving a frontend", slog.String("dir", cfg.staticDir))
	}
	if !cfg.legacyUsageOff {
		cfg.legacyUsage.Logger = logger
		cfg.legacy.Usage = legacy.NewUsage(store, cfg.legacyUsage)
		// Deferred after closeDB, so that it runs before it, once the
		// server has drained: the last counts are written.
		defer cfg.legacy.Usage.Start(cfg.shutdownTimeout)()
	}
	h := app.New(app.Config{
		Logger:         logger,
		CORSOrigins:    cfg.corsOrigins,
		RequestTimeout: cfg.requestTimeout,
		MaxInFlight:    cfg.maxInFlight,
		TrustedProxies: cfg.trustedProxies,
		// Metrics are for operators: in production only on METRICS_ADDR.
		PublicMetrics:  cfg.metricsAddr == "" && !cfg.production,
		GraphQL:        cfg.graphql,
		Static:         static,
		Legacy:         cfg.legacy,
		TracerProvider: tp,
		Live:           app.Live{Hub: hub, ListenerReconnects: reconnects.Load},
	}, svc, store)
	if cfg.metricsAddr != "" {
		stopOperator, err := serveOperator(cfg.metricsAddr, h.Operator, logger)
		if err != nil {
			return err
		}
		defer stopOperator()
	}
	return serve(ctx, cfg, logger, h)
}

// listenStartTimeout is how long the server waits for its listener's first
// LISTEN before it serves anyway (the listener keeps trying): events of
// writes made before then would reach no one on this replica.
const listenStartTimeout = 10 * time.Second

// listen starts the listener that hands the events of every replica's
// writes to hub, and waits until it listens. A new article, which may
// bring new tags, also makes svc read its tag list anew, and so does a
// reconnection, after which events may have been missed. The returned
// counter counts its reconnections.
func listen(ctx context.Context, store *db.DB, hub *conduit.Hub, svc *conduit.Service, logger *slog.Logger) (*atomic.Uint64, error) {
	var reconnects atomic.Uint64
	listening := make(chan struct{})
	var once sync.Once
	go func() {
		err := store.Listen(ctx, func(e conduit.Event) {
			if e.Kind == conduit.ArticlePublished {
				svc.TagsChanged()
			}
			if err := hub.Publish(ctx, e); err != nil {
				logger.Warn("subscriptions: event not delivered to every subscriber", slog.String("kind", string(e.Kind)), slog.Any("error", err))
			}
		}, db.ListenOptions{
			Logger: logger,
			OnListening: func() {
				first := false
				once.Do(func() { first = true; close(listening) })
				if !first {
					reconnects.Add(1)
					svc.TagsChanged()
				}
			},
		})
		if err != nil {
			logger.Error("subscriptions: listener stopped", slog.Any("error", err))
		}
	}()
	select {
	case <-listening:
	case <-time.After(listenStartTimeout):
		logger.Warn("subscriptions: not listening yet; serving anyway", slog.Duration("waited", listenStartTimeout))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &reconnects, nil
}

// openDatabase connects to DATABASE_URL, or to the embedded cluster when it
// is unset, and migrates. Statements are traced with tp when it is not
// nil. The returned func closes both.
func openDatabase(ctx context.Context, cfg config, tp trace.TracerProvider, logger *slog.Logger) (*db.DB, func(), error) {
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
	store, err := db.Open(ctx, url, db.Options{
		MaxConns: cfg.dbMaxConns, StatementTimeout: cfg.dbStatementTimeout, Logger: logger, TracerProvider: tp,
	})
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

// serveOperator serves the operator's handler (metrics, profiles) on its
// own address, which should be one that only operators reach. The
// returned func stops it.
func serveOperator(addr string, h http.Handler, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on METRICS_ADDR %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	// Not "addr", which names the public listener to scripts that wait for it.
	logger.Info("metrics and pprof listening", slog.String("metrics_addr", "http://"+ln.Addr().String()))
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", slog.Any("error", err))
		}
	}()
	return func() { _ = srv.Close() }, nil
}

// baseURL is the address a person can click for the listener: a wildcard
// host ("[::]:8080", "0.0.0.0:8080") reads as localhost.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// serve listens until ctx ends, then lets in-flight requests finish and
// ends every subscription.
func serve(ctx context.Context, cfg config, logger *slog.Logger, handlers app.Handlers) error {
	h := handlers.Public
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
	base := baseURL(ln.Addr())
	logger.Info("listening", slog.String("addr", base),
		slog.String("graphiql", base+"/graphql"), slog.String("api_docs", base+"/api/docs"), slog.String("rest", base+"/api"))
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
	// Beside Shutdown, which waits for requests (SSE streams among them)
	// but neither ends streams nor waits for WebSockets.
	streamsDone := make(chan struct{})
	go func() {
		defer close(streamsDone)
		handlers.Shutdown(sctx)
	}()
	err = srv.Shutdown(sctx)
	<-streamsDone
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
