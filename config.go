package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/legacy"
	"github.com/conduit-dev/conduit/resolvers"
	"github.com/conduit-dev/conduit/web"
)

// config is everything the server reads from its environment.
type config struct {
	production         bool
	addr               string
	metricsAddr        string
	databaseURL        string
	noEmbedded         bool // DATABASE_URL is required
	dataDir            string
	jwtSecret          string
	tokenTTL           time.Duration
	tokenCheckInterval time.Duration
	bcryptCost         int
	corsOrigins        []string
	corsSet            bool
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
	hub                conduit.HubConfig
	staticDir          string
	staticCSP          string
	legacy             legacy.Options
	legacyUsageOff     bool
	legacyUsage        legacy.UsageOptions
	// otlpEndpoint: an OTLP endpoint is set, so spans are exported (unless
	// otelDisabled). The SDK reads the endpoint itself.
	otlpEndpoint       bool
	otelDisabled       bool
	otlpProtocol       string // OTEL_EXPORTER_OTLP_PROTOCOL
	otlpTracesProtocol string // OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, which wins
}

// tracing says whether spans are made and exported.
func (c config) tracing() bool { return c.otlpEndpoint && !c.otelDisabled }

// tracesProtocol is the OTLP protocol that spans are exported with.
func (c config) tracesProtocol() string {
	if c.otlpTracesProtocol != "" {
		return c.otlpTracesProtocol
	}
	if c.otlpProtocol != "" {
		return c.otlpProtocol
	}
	return protocolHTTP
}

// setting is one environment variable: its name, its default as people
// read it, what it means, and how it sets the config. The table below is
// the one description of the configuration: loadConfig reads it, `conduit
// help` prints it and the README's table is rendered from it (a test
// fails when the README is stale).
type setting struct {
	name string
	def  string // "" for no default; shown as –
	help string
	set  func(c *config, v string) error
}

// settings is every variable the server reads, in the order people look
// for them. Defaults are applied by newConfig; a set func only runs for a
// variable that is present and not empty.
var settings = []setting{
	{"CONDUIT_ENV", "development", "`development` or `production` (anything else is refused). Production refuses a missing or weak `JWT_SECRET`, logs JSON, sends no CORS header unless `CORS_ORIGINS` says so, and keeps `/metrics` off the public port",
		func(c *config, v string) error {
			switch v {
			case "development":
			case "production":
				c.production = true
			default:
				return errors.New("want development (the default) or production")
			}
			return nil
		}},
	// ADDR and PORT are read by listenAddr, which conduit healthcheck shares.
	{"ADDR", ":8080", "listen address (`host:port`); wins over `PORT`", nil},
	{"PORT", "", "listen on `:PORT` (for platforms that set it)", nil},
	{"METRICS_ADDR", "", "serve `/metrics` and `net/http/pprof` (`/debug/pprof/`) on this address, e.g. `127.0.0.1:9090`, and not on the public port. Unset: `/metrics` is on the public port in development, nowhere in production",
		func(c *config, v string) error { c.metricsAddr = v; return nil }},
	{"DATABASE_URL", "", "PostgreSQL URL, e.g. `postgres://conduit:secret@db:5432/conduit?sslmode=require`. Unset: the embedded cluster",
		func(c *config, v string) error { c.databaseURL = v; return nil }},
	{"EMBEDDED_DATABASE", "true", "`false`: never start the embedded cluster, and refuse to start without `DATABASE_URL` (the container image sets this, having no PostgreSQL inside)",
		func(c *config, v string) error {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("want true or false")
			}
			c.noEmbedded = !on
			return nil
		}},
	{"DATA_DIR", ".data/postgres", "data directory of the embedded cluster", func(c *config, v string) error { c.dataDir = v; return nil }},
	{"DB_MAX_CONNS", "pgx default: the number of CPUs, at least 4", "connection pool size", intSetting(func(c *config) *int { return &c.dbMaxConns }, 1, 10_000)},
	{"DB_STATEMENT_TIMEOUT", "`REQUEST_TIMEOUT`", "PostgreSQL's `statement_timeout` (and idle-in-transaction timeout) on every connection",
		durationSetting(func(c *config) *time.Duration { return &c.dbStatementTimeout }, time.Millisecond)},
	{"JWT_SECRET", "development: random, kept in `.data/jwt-secret` (per process with `DATABASE_URL`)", "HS256 signing key. **Required in production**: at least 32 bytes and random-looking (`openssl rand -base64 32`); short, repeating, counting or low-entropy secrets are refused",
		func(c *config, v string) error { c.jwtSecret = v; return nil }},
	{"JWT_SECRET_FILE", "", "read `JWT_SECRET` from this file instead (surrounding white space dropped), such as the compose secret at `/run/secrets/jwt_secret` (a file keeps it out of the environment); setting both is refused",
		func(c *config, v string) error {
			if c.jwtSecret != "" {
				return errors.New("JWT_SECRET is set too: set one of them")
			}
			b, err := os.ReadFile(v)
			if err != nil {
				return err
			}
			if c.jwtSecret = strings.TrimSpace(string(b)); c.jwtSecret == "" {
				return errors.New("the file is empty")
			}
			return nil
		}},
	{"JWT_TTL", "720h", "token lifetime", durationSetting(func(c *config) *time.Duration { return &c.tokenTTL }, time.Second)},
	{"TOKEN_CHECK_INTERVAL", "10s", "how long a replica trusts a user's token version before reading it again (a password change revokes older tokens within it)",
		durationSetting(func(c *config) *time.Duration { return &c.tokenCheckInterval }, time.Millisecond)},
	{"BCRYPT_COST", "10", "password hashing cost (4–31)", intSetting(func(c *config) *int { return &c.bcryptCost }, 4, 31)},
	{"CORS_ORIGINS", "`*` in development, none in production", "comma-separated origins whose pages may call the API",
		func(c *config, v string) error {
			c.corsSet = true
			c.corsOrigins = nil
			for _, o := range strings.Split(v, ",") {
				if o = strings.TrimSpace(o); o != "" {
					c.corsOrigins = append(c.corsOrigins, o)
				}
			}
			return nil
		}},
	{"TRUSTED_PROXIES", "", "comma-separated addresses and CIDR prefixes of proxies whose `X-Forwarded-For` is believed, e.g. `10.0.0.0/8`",
		func(c *config, v string) error {
			p, err := web.ParseTrustedProxies(v)
			if err != nil {
				return fmt.Errorf("want IP addresses and CIDR prefixes separated by commas: %v", err)
			}
			c.trustedProxies = p
			return nil
		}},
	{"REQUEST_TIMEOUT", "5s", "the most any API request may take, database included; then 503",
		durationSetting(func(c *config) *time.Duration { return &c.requestTimeout }, time.Millisecond)},
	{"MAX_IN_FLIGHT", "256", "API requests a replica serves at once; the next gets 503 with `Retry-After` at once",
		intSetting(func(c *config) *int { return &c.maxInFlight }, 1, 1_000_000)},
	{"RATE_LIMIT_LOGIN_PER_ADDRESS", "60/1m", "sign-in attempts per client address (`N/DURATION` or `off`)", rateSetting(func(c *config) *rateLimit { return &c.loginPerAddress })},
	{"RATE_LIMIT_LOGIN_PER_ACCOUNT", "10/1m", "sign-in attempts per account (the email tried)", rateSetting(func(c *config) *rateLimit { return &c.loginPerAccount })},
	{"RATE_LIMIT_REGISTER_PER_ADDRESS", "20/1h", "sign-ups per client address", rateSetting(func(c *config) *rateLimit { return &c.registerPerAddress })},
	{"LOG_LEVEL", "info", "`debug`, `info`, `warn`, `error`",
		func(c *config, v string) error {
			if err := c.logLevel.UnmarshalText([]byte(v)); err != nil {
				return errors.New("want debug, info, warn or error")
			}
			return nil
		}},
	{"LOG_FORMAT", "`text` (`json` in production)", "`text` or `json`",
		func(c *config, v string) error {
			switch v = strings.ToLower(v); v {
			case "text", "json":
				c.logFormat = v
				return nil
			}
			return errors.New("want text or json")
		}},
	{"SHUTDOWN_TIMEOUT", "15s", "how long shutdown waits for in-flight requests", durationSetting(func(c *config) *time.Duration { return &c.shutdownTimeout }, 0)},
	// Read by the Go runtime and by tuneGC (gc.go); checked here so that a
	// typo fails the start instead of being ignored.
	{"GOGC", "from the live heap, for `serve`", "Go's collector target. Unset, a serving process lets its heap grow by 16 MiB past what is live, or by what is live when that is more (Go's default, `100`), before a collection: GOGC 320 at 5 MiB live, 100 from 16 MiB, set again every second (more requests a second for about 15 MiB more RSS; `BENCHMARKS.md`, \"GOGC\"). A number, or `off`, fixes it",
		func(_ *config, v string) error {
			if n, err := strconv.Atoi(v); v != "off" && (err != nil || n < 0) {
				return errors.New("want a percentage (a whole number) or off")
			}
			return nil
		}},
	{"GOMEMLIMIT", "90% of the container's memory limit (cgroup `memory.max`); none without one", "Go's soft memory limit (`512MiB`, `2GiB`): the collector works harder as the process nears it",
		func(*config, string) error { return nil }},
	{"AUTOMEMLIMIT", "`0.9`", "the share of the container's memory limit that `GOMEMLIMIT` is set to when unset, or `off`",
		func(_ *config, v string) error {
			if r, err := strconv.ParseFloat(v, 64); v != "off" && (err != nil || !(r > 0 && r <= 1)) {
				return errors.New("want a share in (0, 1] or off")
			}
			return nil
		}},
	{"SUBSCRIPTION_MAX_CONNECTIONS", "10000", "WebSocket and SSE connections a replica holds open at once (counted apart from `MAX_IN_FLIGHT`); the next gets 503",
		graphqlStream(func(o *resolvers.StreamOptions) *int { return &o.MaxConnections })},
	{"SUBSCRIPTIONS_PER_CONNECTION", "20", "subscriptions one WebSocket runs at once",
		graphqlStream(func(o *resolvers.StreamOptions) *int { return &o.MaxSubscriptionsPerConnection })},
	{"SUBSCRIPTION_MAX", "10000", "subscriptions a replica runs at once, over all connections",
		intSetting(func(c *config) *int { return &c.hub.MaxSubscriptions }, 1, 10_000_000)},
	{"SUBSCRIPTION_BUFFER", "64", "events queued for one subscriber; one more ends its subscription as too slow",
		intSetting(func(c *config) *int { return &c.hub.Buffer }, 1, 100_000)},
	{"SUBSCRIPTION_KEEPALIVE", "15s", "how often subscription connections are pinged; a graphql-transport-ws client that misses two pongs is disconnected",
		durationSetting(func(c *config) *time.Duration { return &c.graphql.Streams.KeepAlive }, time.Second)},
	{"SUBSCRIPTION_IDLE_TIMEOUT", "5m", "closes a WebSocket that has run no subscription for so long",
		durationSetting(func(c *config) *time.Duration { return &c.graphql.Streams.IdleTimeout }, time.Second)},
	{"SUBSCRIPTION_WRITE_TIMEOUT", "10s", "how long one event may wait for a client to read it before the client is disconnected",
		durationSetting(func(c *config) *time.Duration { return &c.graphql.Streams.WriteTimeout }, time.Millisecond)},
	{"GRAPHQL_COMPLEXITY_LIMIT", "5000", "the most one GraphQL operation may cost (see [Reliability and security](#reliability-and-security))", graphqlInt(func(o *resolvers.Options) *int { return &o.ComplexityLimit })},
	{"GRAPHQL_COMPLEXITY_NODE_LIMIT", "10000", "selections the cost measure may visit before it refuses the operation", graphqlInt(func(o *resolvers.Options) *int { return &o.ComplexityNodeLimit })},
	{"GRAPHQL_MAX_DOCUMENT_BYTES", "8192", "the largest GraphQL document (query text); variables are not counted", graphqlInt(func(o *resolvers.Options) *int { return &o.MaxDocumentBytes })},
	{"GRAPHQL_TOKEN_LIMIT", "1000", "lexical tokens the parser reads from one document", graphqlInt(func(o *resolvers.Options) *int { return &o.TokenLimit })},
	{"GRAPHQL_MAX_FIELDS", "1000", "fields one document selects in all, fragments counted where spread", graphqlInt(func(o *resolvers.Options) *int { return &o.MaxFields })},
	{"GRAPHQL_MAX_SELECTION_SET_FIELDS", "100", "fields one (merged) selection set holds", graphqlInt(func(o *resolvers.Options) *int { return &o.MaxSelectionSetFields })},
	{"GRAPHQL_MAX_REPEATED_FIELDS", "100", "fields that repeat another's response name in their selection set", graphqlInt(func(o *resolvers.Options) *int { return &o.MaxRepeatedFields })},
	{"GRAPHQL_MAX_ALIASES", "100", "aliased fields in one document", graphqlInt(func(o *resolvers.Options) *int { return &o.MaxAliases })},
	{"GRAPHQL_DEPTH_LIMIT", "12", "how deeply a GraphQL operation may nest", graphqlInt(func(o *resolvers.Options) *int { return &o.DepthLimit })},
	{"GRAPHQL_MAX_ERRORS", "50", "errors one response keeps (one more says how many were left out)", graphqlInt(func(o *resolvers.Options) *int { return &o.MaxErrors })},
	{"GRAPHQL_QUERY_CACHE_BYTES", "33554432", "memory of the cache of parsed and validated documents", graphqlInt(func(o *resolvers.Options) *int { return &o.QueryCacheBytes })},
	{"GRAPHQL_PERSISTED_QUERY_CACHE_BYTES", "4194304", "memory of the automatic persisted query cache", graphqlInt(func(o *resolvers.Options) *int { return &o.PersistedQueryCacheBytes })},
	{"GRAPHQL_INTROSPECTION", "true", "`false` turns off introspection and the SDL endpoint",
		func(c *config, v string) error {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("want true or false")
			}
			c.graphql.Introspection = on
			return nil
		}},
	{"GRAPHIQL_ASSETS_DIR", "`graphiql-assets` when it holds the files", "serve GraphiQL's scripts from this directory instead of pointing browsers at a CDN (`make graphiql-assets` fills `graphiql-assets/`; `make run` does when npm is there)",
		func(c *config, v string) error { c.graphql.GraphiQLAssetsDir = v; return nil }},
	{"DOCS_ASSETS_DIR", "`docs-assets` when it holds the files", "serve Swagger UI (`/api/docs`) and ReDoc (`/api/redoc`) from this directory (`make docs-assets` fills `docs-assets/`; `make run` does when npm is there). Without the files those pages say how to get them (no CDN); `/api/openapi.json` is served all the same",
		func(c *config, v string) error { c.legacy.DocsAssetsDir = v; return nil }},
	{"LEGACY_API", "on", "`off` switches the legacy REST API off: each of its operations answers `410 Gone` naming its GraphQL replacement and the migration guide (see [Retiring the REST API](docs/migration.md#retiring-the-rest-api)); its OpenAPI document and pages stay up",
		func(c *config, v string) error {
			switch v {
			case "on":
				c.legacy.Off = false
			case "off":
				c.legacy.Off = true
			default:
				return errors.New("want on or off")
			}
			return nil
		}},
	{"LEGACY_DEPRECATED_AT", "", "turns on the retirement signals: every legacy response carries `Deprecation: @<unix time>` of this time (RFC 9745) and a `Link` to its route's section of the migration guide. A date (`2027-01-01`, midnight UTC) or an RFC 3339 time with its zone (`2027-01-01T09:00Z`)",
		timeSetting(func(c *config) *time.Time { return &c.legacy.DeprecatedAt })},
	{"LEGACY_SUNSET_AT", "", "every legacy route's `Sunset` (RFC 8594): when it is expected to stop answering. Same formats; needs `LEGACY_DEPRECATED_AT`, not after it",
		timeSetting(func(c *config) *time.Time { return &c.legacy.SunsetAt })},
	{"LEGACY_ROUTE_SUNSETS", "", "per-route overrides, by operationId: `getTags=2027-06-01,getArticles=keep`. A time is that route's own sunset; `keep` leaves the route out of the retirement (no signals, no brownouts)",
		func(c *config, v string) error {
			m, err := legacy.ParseRouteSunsets(v)
			c.legacy.RouteSunsets = m
			return err
		}},
	{"LEGACY_BROWNOUTS", "", "windows in which a share of the calls to some routes get `410 Gone`, separated by `;`: `OPERATIONS START/DURATION PERCENT%`, operationIds separated by commas or `*` for all, e.g. `getTags,getArticles 2027-03-01T14:00Z/1h 10%; * 2027-04-01T14:00Z/30m 100%`. Needs `LEGACY_DEPRECATED_AT`",
		func(c *config, v string) error {
			b, err := legacy.ParseBrownouts(v)
			c.legacy.Brownouts = b
			return err
		}},
	{"LEGACY_GUIDE_URL", "`/docs/migration.md`", "where the `Link` header and the 410s send a client's developers: a path on this server or an `http(s)://` URL of the migration guide",
		func(c *config, v string) error { c.legacy.GuideURL = v; return nil }},
	{"LEGACY_USAGE", "on", "`off` stops counting the calls to the legacy API (per hour, operation, client and signed in or not, in the table `legacy_usage`; `conduit legacy-usage` reports them)",
		func(c *config, v string) error {
			switch v {
			case "on", "off":
				c.legacyUsageOff = v == "off"
				return nil
			}
			return errors.New("want on or off")
		}},
	{"LEGACY_USAGE_MAX_CLIENTS", "100", "distinct clients a replica counts apart per hour (and names in `/metrics`); calls of the others are counted as `(other)`",
		intSetting(func(c *config) *int { return &c.legacyUsage.MaxClients }, 1, 10_000)},
	{"LEGACY_USAGE_FLUSH_INTERVAL", "5s", "how often a replica writes its counts, in one statement (and once more when it stops)",
		durationSetting(func(c *config) *time.Duration { return &c.legacyUsage.FlushInterval }, 100*time.Millisecond)},
	{"STATIC_DIR", "", "a built frontend (such as Vite's `dist/`) to serve at `/` and every path outside the API's; without it `/` is a landing page linking the API's documentation (see [Serving a frontend](#serving-a-frontend))",
		func(c *config, v string) error {
			info, err := os.Stat(v)
			if err != nil {
				return fmt.Errorf("want a directory: %v", err)
			}
			if !info.IsDir() {
				return errors.New("want a directory, not a file")
			}
			c.staticDir = v
			return nil
		}},
	{"STATIC_CSP", "`" + web.DefaultStaticCSP + "`", "the `Content-Security-Policy` of the files of `STATIC_DIR`",
		func(c *config, v string) error {
			for _, r := range v {
				if r < ' ' || r == 0x7f {
					return errors.New("want a policy on one line, without control characters")
				}
			}
			c.staticCSP = v
			return nil
		}},
	// OpenTelemetry's standard variables. The SDK reads them from the
	// process's environment and applies them; loadConfig only decides
	// whether to trace and refuses malformed values, as for every other
	// setting, so that a typo stops the start instead of tracing nothing.
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "turns tracing on (see [Operations](#operations)): the base URL of an OTLP collector, e.g. `http://otel-collector:4318` (spans go to `/v1/traces` under it), or `http://otel-collector:4317` with `grpc`. Unset, with `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` unset too: no tracing, at no cost. This and the other `OTEL_` variables are OpenTelemetry's standard ones, read by its SDK",
		func(c *config, v string) error { c.otlpEndpoint = true; return endpointURL(v) }},
	{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", "the same for traces only, taken as it is (`http://otel-collector:4318/v1/traces`); wins over `OTEL_EXPORTER_OTLP_ENDPOINT`",
		func(c *config, v string) error { c.otlpEndpoint = true; return endpointURL(v) }},
	{"OTEL_EXPORTER_OTLP_PROTOCOL", protocolHTTP, "`http/protobuf` or `grpc` (Go's exporters have no `http/json`)", protocolSetting(func(c *config) *string { return &c.otlpProtocol })},
	{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "`OTEL_EXPORTER_OTLP_PROTOCOL`", "the same for traces; wins over it", protocolSetting(func(c *config) *string { return &c.otlpTracesProtocol })},
	{"OTEL_EXPORTER_OTLP_HEADERS", "", "headers sent with every export, `key=value` pairs separated by commas (a tracing service's API key, say)", nil},
	{"OTEL_SERVICE_NAME", "conduit", "the `service.name` of the spans", nil},
	{"OTEL_RESOURCE_ATTRIBUTES", "", "more attributes of every span's resource, e.g. `deployment.environment.name=production,service.version=1.4.0`", nil},
	{"OTEL_TRACES_SAMPLER", "parentbased_always_on", "`always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off` or `parentbased_traceidratio`. The `parentbased_` samplers follow the sampled flag of an incoming `traceparent`, which any client can set",
		func(c *config, v string) error {
			switch v {
			case "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio":
				return nil
			}
			return errors.New("want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio")
		}},
	{"OTEL_TRACES_SAMPLER_ARG", "1", "the share of traces the `traceidratio` samplers keep, from 0 to 1",
		func(c *config, v string) error {
			if f, err := strconv.ParseFloat(v, 64); err != nil || f < 0 || f > 1 {
				return errors.New("want a number from 0 to 1")
			}
			return nil
		}},
	{"OTEL_SDK_DISABLED", "false", "`true` turns tracing off whatever the endpoint says",
		func(c *config, v string) error {
			off, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("want true or false")
			}
			c.otelDisabled = off
			return nil
		}},
}

// The OTLP protocols Go's exporters speak.
const (
	protocolHTTP = "http/protobuf"
	protocolGRPC = "grpc"
)

func protocolSetting(field func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error {
		if v != protocolHTTP && v != protocolGRPC {
			return errors.New("want http/protobuf or grpc")
		}
		*field(c) = v
		return nil
	}
}

// endpointURL checks an OTLP endpoint: the SDK would ignore a malformed one
// and export to localhost instead.
func endpointURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an http:// or https:// URL, such as http://otel-collector:4318")
	}
	return nil
}

// defaultGraphiQLAssets is where `make graphiql-assets` puts GraphiQL's
// files, relative to the directory the server runs from.
const defaultGraphiQLAssets = "graphiql-assets"

// defaultDocsAssets is where `make docs-assets` puts the files of Swagger
// UI and ReDoc, relative to the directory the server runs from.
const defaultDocsAssets = "docs-assets"

// newConfig returns the configuration with every default.
func newConfig() config {
	return config{
		addr:               ":8080",
		dataDir:            ".data/postgres",
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
}

// loadConfig reads the environment. It refuses an unknown CONDUIT_ENV and
// malformed values, naming the variable, and, in production, a missing or
// weak JWT secret.
func loadConfig(getenv func(string) string) (config, error) {
	c := newConfig()
	c.addr = listenAddr(getenv)
	for _, s := range settings {
		v := getenv(s.name)
		if v == "" || s.set == nil {
			continue
		}
		if err := s.set(&c, v); err != nil {
			return c, fmt.Errorf("%s=%q: %v", s.name, v, err)
		}
	}
	if c.production {
		if reason := weakSecret(c.jwtSecret); reason != "" {
			return c, fmt.Errorf("CONDUIT_ENV=production needs JWT_SECRET, a random secret of at least 32 bytes such as `openssl rand -base64 32` prints: this one %s", reason)
		}
	}
	if c.noEmbedded && c.databaseURL == "" {
		return c, errors.New("DATABASE_URL is required: EMBEDDED_DATABASE=false (as in the container image) rules out the embedded cluster; set it to your PostgreSQL, e.g. postgres://conduit:secret@db:5432/conduit")
	}
	if err := c.legacy.Check(); err != nil {
		return c, fmt.Errorf("legacy API retirement: %v", err)
	}
	if c.dbStatementTimeout == 0 {
		// A statement may take as long as the request that runs it.
		c.dbStatementTimeout = c.requestTimeout
	}
	if !c.corsSet && !c.production {
		c.corsOrigins = []string{"*"}
	}
	if c.graphql.GraphiQLAssetsDir == "" {
		// What `make graphiql-assets` fetched, in the directory the server
		// runs from: served locally, GraphiQL works without a CDN.
		if abs, err := filepath.Abs(defaultGraphiQLAssets); err == nil {
			if _, err := os.Stat(filepath.Join(abs, "graphiql.min.js")); err == nil {
				c.graphql.GraphiQLAssetsDir = abs
			}
		}
	}
	if c.legacy.DocsAssetsDir == "" {
		// Likewise for the API docs, which have no CDN to fall back on.
		if abs, err := filepath.Abs(defaultDocsAssets); err == nil {
			if _, err := os.Stat(filepath.Join(abs, "swagger-ui-bundle.js")); err == nil {
				c.legacy.DocsAssetsDir = abs
			}
		}
	}
	if c.logFormat == "" {
		c.logFormat = "text"
		if c.production {
			c.logFormat = "json"
		}
	}
	return c, nil
}

// listenAddr is the public listen address: ADDR, else :PORT, else :8080.
func listenAddr(getenv func(string) string) string {
	if addr := getenv("ADDR"); addr != "" {
		return addr
	}
	if port := getenv("PORT"); port != "" {
		return ":" + port
	}
	return ":8080"
}

func durationSetting(field func(*config) *time.Duration, min time.Duration) func(*config, string) error {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < min {
			return fmt.Errorf("want a duration of at least %v, such as 10s", min)
		}
		*field(c) = d
		return nil
	}
}

func timeSetting(field func(*config) *time.Time) func(*config, string) error {
	return func(c *config, v string) error {
		t, err := legacy.ParseTime(v)
		if err != nil {
			return err
		}
		*field(c) = t
		return nil
	}
}

func intSetting(field func(*config) *int, min, max int) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return fmt.Errorf("want a whole number from %d to %d", min, max)
		}
		*field(c) = n
		return nil
	}
}

func graphqlInt(field func(*resolvers.Options) *int) func(*config, string) error {
	return intSetting(func(c *config) *int { return field(&c.graphql) }, 1, math.MaxInt32)
}

func graphqlStream(field func(*resolvers.StreamOptions) *int) func(*config, string) error {
	return intSetting(func(c *config) *int { return field(&c.graphql.Streams) }, 1, 10_000_000)
}

func rateSetting(field func(*config) *rateLimit) func(*config, string) error {
	return func(c *config, v string) error {
		l, err := parseRateLimit(v)
		if err != nil {
			return err
		}
		*field(c) = l
		return nil
	}
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

// settingsTable renders settings as the README's Markdown table.
func settingsTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Default | Meaning |\n|---|---|---|\n")
	for _, s := range settings {
		def := s.def
		switch {
		case def == "":
			def = "–"
		case !strings.ContainsAny(def, "` "):
			def = "`" + def + "`" // a plain value; a phrase is Markdown already
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.name, def, s.help)
	}
	return b.String()
}

// usage writes `conduit help`: the commands and every setting.
func usage(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString(`conduit serves the Conduit API: REST under /api, GraphQL under /graphql.

Usage:
  conduit [serve]   serve (the default); without DATABASE_URL, on an embedded PostgreSQL
  conduit seed      load the demo data (idempotent) and exit
  conduit migrate   apply the database migrations and exit
  conduit schema    print the GraphQL schema (SDL) and exit
  conduit healthcheck [/path]
                    exit 0 if the server listening at ADDR (or PORT) on this
                    machine answers 200 to GET /healthz (or path), else 1:
                    the container image's HEALTHCHECK
  conduit legacy-usage [-since 7d]
                    print, per legacy REST operation, its calls, clients,
                    top clients and first and last call, from every replica
  conduit check-counters [-repair]
                    compare the article counts kept for the lists' totals
                    with a count of the rows (exit 1 if any differs); with
                    -repair, set those that differ right
  conduit diff -old URL -new URL [-seed N] [-sequences N] [-report FILE] [-known FILE]
                    play the same REST calls against an old backend and this
                    one (each on its own empty database) and report how their
                    answers differ; exit 1 on a difference not in
                    docs/diff-known.yaml (conduit diff -h: every flag)
  conduit help      print this help

Configuration, from the environment (all optional in development):
`)
	for _, s := range settings {
		fmt.Fprintf(&b, "\n  %s", s.name)
		if s.def != "" {
			fmt.Fprintf(&b, " (default: %s)", plain(s.def))
		}
		b.WriteByte('\n')
		wrap(&b, plain(s.help), "      ", 78)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// wrap writes text in lines of at most width columns, each indented.
func wrap(b *bytes.Buffer, text, indent string, width int) {
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
}

// plain drops the Markdown of a setting's help for the terminal.
func plain(s string) string {
	s = strings.NewReplacer("`", "", "**", "").Replace(s)
	if i := strings.Index(s, " (see ["); i >= 0 {
		s = s[:i]
	}
	return s
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

func newLogger(c config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
