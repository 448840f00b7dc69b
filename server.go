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
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
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

// config is everything the server reads from its environment.
type config struct {
	production         bool
	addr               string
	metricsAddr        string
	databaseURL        string
	dataDir            string
	jwtSecret          string
	tokenTTL           time.Duration
	tokenCheckInterval time.Duration
	bcryptCost         int
	corsOrigins        []string
	trustedProxies     []netip.Prefix
	requestTimeout     time.Duration
	maxInFlight        int
	loginPerAddress    rateLimit
	loginPerAccount    rateLimit
	registerPerAddress rateLimit
	logLevel           slog.Level
	logFormat          string
	shutdownTimeout    time.Duration
	dbMaxConns         int
	dbStatementTimeout time.Duration
	graphql            resolvers.Options
}

// rateLimit is "n attempts per window"; a zero n means no limit.
type rateLimit struct {
	n      int
	window time.Duration
}

// throttle returns the limit as a conduit.Throttle, or nil for none.
func (l rateLimit) throttle() conduit.Throttle {
	if l.n == 0 {
		return nil
	}
	return web.NewThrottle(l.n, l.window)
}

// parseRateLimit reads "N/DURATION" (such as 10/1m) or "off".
func parseRateLimit(s string) (rateLimit, error) {
	if strings.EqualFold(s, "off") {
		return rateLimit{}, nil
	}
	n, d, ok := strings.Cut(s, "/")
	limit, err := strconv.Atoi(n)
	if !ok || err != nil || limit < 1 {
		return rateLimit{}, errors.New("want N/DURATION, such as 10/1m, or off")
	}
	window, err := time.ParseDuration(d)
	if err != nil || window < time.Second {
		return rateLimit{}, errors.New("want N/DURATION with a window of at least 1s, such as 10/1m, or off")
	}
	return rateLimit{n: limit, window: window}, nil
}

// loadConfig reads the environment. It refuses an unknown CONDUIT_ENV and
// malformed values, and, in production, a missing or weak JWT secret.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		addr:               ":8080",
		metricsAddr:        getenv("METRICS_ADDR"),
		databaseURL:        getenv("DATABASE_URL"),
		dataDir:            orDefault(getenv("DATA_DIR"), ".data/postgres"),
		jwtSecret:          getenv("JWT_SECRET"),
		logFormat:          strings.ToLower(getenv("LOG_FORMAT")),
		tokenTTL:           30 * 24 * time.Hour,
		tokenCheckInterval: conduit.DefaultTokenCheckInterval,
		requestTimeout:     app.DefaultRequestTimeout,
		maxInFlight:        app.DefaultMaxInFlight,
		loginPerAddress:    rateLimit{n: 60, window: time.Minute},
		loginPerAccount:    rateLimit{n: 10, window: time.Minute},
		registerPerAddress: rateLimit{n: 20, window: time.Hour},
		shutdownTimeout:    15 * time.Second,
		graphql:            resolvers.DefaultOptions(),
	}
	switch env := getenv("CONDUIT_ENV"); env {
	case "", "development":
	case "production":
		c.production = true
	default:
		return c, fmt.Errorf("CONDUIT_ENV=%q: want development (the default) or production", env)
	}
	if port := getenv("PORT"); port != "" {
		c.addr = ":" + port
	}
	if addr := getenv("ADDR"); addr != "" {
		c.addr = addr
	}
	if c.production {
		if reason := weakSecret(c.jwtSecret); reason != "" {
			return c, fmt.Errorf("CONDUIT_ENV=production needs JWT_SECRET, a random secret of at least 32 bytes such as `openssl rand -base64 32` prints: this one %s", reason)
		}
	}
	durations := []struct {
		name string
		dst  *time.Duration
		min  time.Duration
	}{
		{"JWT_TTL", &c.tokenTTL, time.Second},
		{"TOKEN_CHECK_INTERVAL", &c.tokenCheckInterval, time.Millisecond},
		{"REQUEST_TIMEOUT", &c.requestTimeout, time.Millisecond},
		{"DB_STATEMENT_TIMEOUT", &c.dbStatementTimeout, time.Millisecond},
		{"SHUTDOWN_TIMEOUT", &c.shutdownTimeout, 0},
	}
	for _, v := range durations {
		if s := getenv(v.name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < v.min {
				return c, fmt.Errorf("%s=%q: want a duration of at least %v, such as 10s", v.name, s, v.min)
			}
			*v.dst = d
		}
	}
	if c.dbStatementTimeout == 0 {
		// A statement may take as long as the request that runs it.
		c.dbStatementTimeout = c.requestTimeout
	}
	numbers := []struct {
		name     string
		dst      *int
		min, max int
	}{
		{"BCRYPT_COST", &c.bcryptCost, 4, 31},
		{"DB_MAX_CONNS", &c.dbMaxConns, 1, 10_000},
		{"MAX_IN_FLIGHT", &c.maxInFlight, 1, 1_000_000},
	}
	for _, v := range numbers {
		if s := getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < v.min || n > v.max {
				return c, fmt.Errorf("%s=%q: want a whole number from %d to %d", v.name, s, v.min, v.max)
			}
			*v.dst = n
		}
	}
	for _, v := range []struct {
		name string
		dst  *rateLimit
	}{
		{"RATE_LIMIT_LOGIN_PER_ADDRESS", &c.loginPerAddress},
		{"RATE_LIMIT_LOGIN_PER_ACCOUNT", &c.loginPerAccount},
		{"RATE_LIMIT_REGISTER_PER_ADDRESS", &c.registerPerAddress},
	} {
		if s := getenv(v.name); s != "" {
			l, err := parseRateLimit(s)
			if err != nil {
				return c, fmt.Errorf("%s=%q: %v", v.name, s, err)
			}
			*v.dst = l
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
	if s := getenv("TRUSTED_PROXIES"); s != "" {
		var err error
		if c.trustedProxies, err = web.ParseTrustedProxies(s); err != nil {
			return c, fmt.Errorf("TRUSTED_PROXIES=%q: want IP addresses and CIDR prefixes separated by commas: %v", s, err)
		}
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

// publishedDevSecret signed development tokens in releases before the
// development secret became random; anyone can mint tokens with it.
const publishedDevSecret = "conduit-development-secret-not-for-production-use"

// weakSecret says why s is not good enough to sign tokens with, or "" if
// it is. Beyond a length, it estimates the entropy of s from the frequency
// of its bytes and refuses secrets that repeat themselves or count up or
// down: what a person types, not what a random generator gives. (32 random
// bytes in base64 or hex carry over 200 bits by this estimate.)
func weakSecret(s string) string {
	if s == "" {
		return "is unset"
	}
	if len(s) < 32 {
		return fmt.Sprintf("is %d bytes long", len(s))
	}
	if s == publishedDevSecret {
		return "was published as the development secret of earlier releases"
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	bits := 0.0
	for _, n := range counts {
		if n > 0 {
			p := float64(n) / float64(len(s))
			bits -= float64(n) * math.Log2(p)
		}
	}
	if bits < 128 {
		return fmt.Sprintf("has about %.0f bits of entropy, fewer than 128", bits)
	}
	for period := 1; period <= len(s)/2; period++ {
		if s[period:] == s[:len(s)-period] {
			return fmt.Sprintf("repeats itself every %d bytes", period)
		}
	}
	steps := 0
	for i := 1; i < len(s); i++ {
		if d := int(s[i]) - int(s[i-1]); d == 1 || d == -1 {
			steps++
		}
	}
	if steps*2 > len(s) {
		return "mostly counts up or down (abcd…, 1234…)"
	}
	return ""
}

// secretFile is where a development server without JWT_SECRET keeps the
// random secret it made, beside the embedded cluster's data, so that
// tokens survive restarts.
func secretFile(dataDir string) string { return filepath.Join(filepath.Dir(dataDir), "jwt-secret") }

// devSecret returns the secret a development server signs with when
// JWT_SECRET is unset: never a constant, which would let anyone mint a
// token for any user. With the embedded cluster it is made once and kept
// in secretFile; with DATABASE_URL it is made anew for each process, so
// tokens last until a restart.
func devSecret(cfg config, logger *slog.Logger) (string, error) {
	fresh := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // crypto/rand never fails
		return base64.RawURLEncoding.EncodeToString(b)
	}
	if cfg.databaseURL != "" {
		logger.Warn("JWT_SECRET is unset: signing with a random secret made for this process; tokens stop working when it restarts")
		return fresh(), nil
	}
	path := secretFile(cfg.dataDir)
	if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) >= 32 {
		return string(bytes.TrimSpace(b)), nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read the development JWT secret: %w", err)
	}
	secret := fresh()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("keep the development JWT secret: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep the development JWT secret: %w", err)
	}
	logger.Info("JWT_SECRET is unset: made a random development secret", slog.String("file", path))
	return secret, nil
}

// loadGraphQLConfig reads the GraphQL limits and switches.
func loadGraphQLConfig(o *resolvers.Options, getenv func(string) string) error {
	for _, v := range []struct {
		name string
		dst  *int
	}{
		{"GRAPHQL_COMPLEXITY_LIMIT", &o.ComplexityLimit},
		{"GRAPHQL_COMPLEXITY_NODE_LIMIT", &o.ComplexityNodeLimit},
		{"GRAPHQL_DEPTH_LIMIT", &o.DepthLimit},
		{"GRAPHQL_TOKEN_LIMIT", &o.TokenLimit},
		{"GRAPHQL_MAX_DOCUMENT_BYTES", &o.MaxDocumentBytes},
		{"GRAPHQL_MAX_FIELDS", &o.MaxFields},
		{"GRAPHQL_MAX_SELECTION_SET_FIELDS", &o.MaxSelectionSetFields},
		{"GRAPHQL_MAX_REPEATED_FIELDS", &o.MaxRepeatedFields},
		{"GRAPHQL_MAX_ALIASES", &o.MaxAliases},
		{"GRAPHQL_MAX_ERRORS", &o.MaxErrors},
		{"GRAPHQL_QUERY_CACHE_BYTES", &o.QueryCacheBytes},
		{"GRAPHQL_PERSISTED_QUERY_CACHE_BYTES", &o.PersistedQueryCacheBytes},
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
	if cfg.jwtSecret == "" {
		if cfg.jwtSecret, err = devSecret(cfg, logger); err != nil {
			return err
		}
	}

	store, closeDB, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeDB()

	svc, err := conduit.NewService(store, conduit.Config{
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
	h := app.New(app.Config{
		Logger:         logger,
		CORSOrigins:    cfg.corsOrigins,
		RequestTimeout: cfg.requestTimeout,
		MaxInFlight:    cfg.maxInFlight,
		TrustedProxies: cfg.trustedProxies,
		// Metrics are for operators: in production only on METRICS_ADDR.
		PublicMetrics: cfg.metricsAddr == "" && !cfg.production,
		GraphQL:       cfg.graphql,
	}, svc, store)
	if cfg.metricsAddr != "" {
		stopOperator, err := serveOperator(cfg.metricsAddr, h.Operator, logger)
		if err != nil {
			return err
		}
		defer stopOperator()
	}
	return serve(ctx, cfg, logger, h.Public)
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
	store, err := db.Open(ctx, url, db.Options{MaxConns: cfg.dbMaxConns, StatementTimeout: cfg.dbStatementTimeout, Logger: logger})
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
