package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write
// while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestRunEndToEnd starts the real program on port 0 with the embedded
// PostgreSQL default and walks a user through the legacy API over HTTP.
func TestRunEndToEnd(t *testing.T) {
	dir := dbtest.ClusterDir(t) // the server's own cluster is in it
	site := filepath.Join(dir, "site")
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	const indexHTML = "<!doctype html><title>e2e</title>\n"
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte(indexHTML), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"conduit"}, env(map[string]string{
			"ADDR": "127.0.0.1:0", "DATA_DIR": filepath.Join(dir, "pg"), "BCRYPT_COST": "4", "LOG_FORMAT": "json",
			"STATIC_DIR": site, "STATIC_CSP": "default-src 'self'; frame-ancestors 'none'",
		}), &out)
	}()
	base := waitListening(t, &out, done)
	waitOK(t, base+"/healthz")
	if res := get(t, base+"/readyz", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("/readyz = %d, want 200", res.StatusCode)
	}

	var reg struct{ User struct{ Token string } }
	call(t, "POST", base+"/api/users", "", `{"user":{"username":"e2e","email":"e2e@example.com","password":"password1"}}`, 201, &reg)
	token := reg.User.Token
	var created struct{ Article struct{ Slug string } }
	call(t, "POST", base+"/api/articles", token, `{"article":{"title":"End to end","description":"d","body":"b","tagList":["e2e"]}}`, 201, &created)
	var list struct {
		Articles      []struct{ Slug string }
		ArticlesCount int
	}
	call(t, "GET", base+"/api/articles?tag=e2e", "", "", 200, &list)
	if list.ArticlesCount != 1 || list.Articles[0].Slug != created.Article.Slug {
		t.Fatalf("list = %+v, want the one article %s", list, created.Article.Slug)
	}
	var fav struct {
		Article struct {
			Favorited      bool
			FavoritesCount int
		}
	}
	call(t, "POST", base+"/api/articles/"+created.Article.Slug+"/favorite", token, "", 200, &fav)
	if !fav.Article.Favorited || fav.Article.FavoritesCount != 1 {
		t.Fatalf("after favorite: %+v, want favorited with count 1", fav.Article)
	}
	call(t, "DELETE", base+"/api/articles/"+created.Article.Slug, token, "", 204, nil)
	call(t, "GET", base+"/api/articles/"+created.Article.Slug, token, "", 404, nil)

	t.Run("CORSPreflight", func(t *testing.T) {
		req, _ := http.NewRequest("OPTIONS", base+"/api/articles/", nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode >= 300 || res.Header.Get("Access-Control-Allow-Origin") == "" {
			t.Fatalf("preflight: status %d, allow-origin %q; want 2xx and an allowed origin", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
		if h := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "authorization") || !strings.Contains(h, "content-type") {
			t.Fatalf("Access-Control-Allow-Headers = %q, want authorization and content-type", h)
		}
	})

	t.Run("Metrics", func(t *testing.T) {
		res, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{"conduit_sql_statements_total ", `conduit_http_request_duration_seconds_count{method="POST",route="/api/articles/{slug}/favorite",status="200"} 1`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})

	t.Run("Frontend", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base+"/articles/some-slug", nil)
		req.Header.Set("Accept", "text/html")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || string(b) != indexHTML || res.Header.Get("Content-Security-Policy") != "default-src 'self'; frame-ancestors 'none'" {
			t.Fatalf("a page of the app: %d %q, CSP %q; want STATIC_DIR's index.html under STATIC_CSP", res.StatusCode, b, res.Header.Get("Content-Security-Policy"))
		}
		call(t, "GET", base+"/api/nope", "", "", 404, nil)
	})

	t.Run("GraphQL", func(t *testing.T) {
		var out struct {
			Data struct{ Tags []string }
		}
		call(t, "POST", base+"/graphql", "", `{"query":"{ tags }"}`, 200, &out)
		if len(out.Data.Tags) != 0 {
			t.Fatalf("tags = %v, want none after the delete", out.Data.Tags)
		}
	})

	t.Run("AccessLog", func(t *testing.T) {
		line := findLogLine(t, out.String(), func(m map[string]any) bool {
			return m["msg"] == "request" && m["route"] == "/api/articles/{slug}/favorite"
		})
		for _, k := range []string{"request_id", "method", "route", "status", "duration"} {
			if _, ok := line[k]; !ok {
				t.Errorf("access log line lacks %q: %v", k, line)
			}
		}
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if _, err := os.Stat(filepath.Join(dir, "pg", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("embedded PostgreSQL still running after shutdown (postmaster.pid: %v)", err)
	}
}

var listeningRE = regexp.MustCompile(`"addr":"(http://[^"]+)"`)

func waitListening(t *testing.T, out *syncBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := listeningRE.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before listening: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("server did not start listening:\n%s", out.String())
	return ""
}

func waitOK(t *testing.T, url string) {
	t.Helper()
	for range 100 {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", url)
}

func get(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func call(t *testing.T, method, url, token, body string, status int, into any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("%s %s = %d, want %d: %s", method, url, res.StatusCode, status, b)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
}

func findLogLine(t *testing.T, logs string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && match(m) {
			return m
		}
	}
	t.Fatalf("no matching log line in:\n%s", logs)
	return nil
}

func TestLoadConfig(t *testing.T) {
	// 32 random bytes, as `openssl rand -base64 32` and `-hex 32` print them.
	const strongBase64 = "q7Vb0kX2mJ9TzR4uYcN1pW8sLhE6fGaD3oKiQvB5xZw="
	const strongHex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	t.Run("DevelopmentDefaults", func(t *testing.T) {
		c, err := loadConfig(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.production || c.addr != ":8080" || c.jwtSecret != "" || c.dataDir != ".data/postgres" || len(c.corsOrigins) != 1 || c.corsOrigins[0] != "*" ||
			c.requestTimeout != 5*time.Second || c.dbStatementTimeout != 5*time.Second || c.maxInFlight != 256 ||
			c.loginPerAccount != (rateLimit{10, time.Minute}) || c.registerPerAddress != (rateLimit{20, time.Hour}) {
			t.Fatalf("config = %+v", c)
		}
	})
	t.Run("PortAndAddr", func(t *testing.T) {
		c, _ := loadConfig(env(map[string]string{"PORT": "9000"}))
		if c.addr != ":9000" {
			t.Fatalf("addr = %q, want :9000", c.addr)
		}
		c, _ = loadConfig(env(map[string]string{"PORT": "9000", "ADDR": "127.0.0.1:7000"}))
		if c.addr != "127.0.0.1:7000" {
			t.Fatalf("addr = %q, want 127.0.0.1:7000", c.addr)
		}
	})
	t.Run("ErrUnknownEnvironment", func(t *testing.T) {
		for _, name := range []string{"prod", "staging", "PRODUCTION", "dev", " production"} {
			_, err := loadConfig(env(map[string]string{"CONDUIT_ENV": name, "JWT_SECRET": strongBase64}))
			if err == nil || !strings.Contains(err.Error(), "CONDUIT_ENV") {
				t.Errorf("CONDUIT_ENV=%q: err = %v, want a refusal", name, err)
			}
		}
	})
	t.Run("ProductionNeedsStrongSecret", func(t *testing.T) {
		for _, secret := range []string{
			"", "short",
			strings.Repeat("s", 32),
			"passwordpasswordpasswordpassword",
			"0123456789abcdef0123456789abcdef",
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
			"conduit-development-secret-not-for-production-use",
		} {
			if _, err := loadConfig(env(map[string]string{"CONDUIT_ENV": "production", "JWT_SECRET": secret})); err == nil {
				t.Errorf("production with JWT_SECRET=%q started", secret)
			}
		}
		for _, secret := range []string{strongBase64, strongHex} {
			c, err := loadConfig(env(map[string]string{"CONDUIT_ENV": "production", "JWT_SECRET": secret}))
			if err != nil {
				t.Fatalf("JWT_SECRET=%s: %v", secret, err)
			}
			if !c.production || len(c.corsOrigins) != 0 || c.logFormat != "json" {
				t.Fatalf("production config = %+v; want no CORS origins and JSON logs", c)
			}
		}
	})
	t.Run("CORSOrigins", func(t *testing.T) {
		c, _ := loadConfig(env(map[string]string{"CORS_ORIGINS": "https://a.example.com, https://b.example.com"}))
		if strings.Join(c.corsOrigins, "|") != "https://a.example.com|https://b.example.com" {
			t.Fatalf("origins = %q", c.corsOrigins)
		}
	})
	t.Run("Limits", func(t *testing.T) {
		c, err := loadConfig(env(map[string]string{
			"REQUEST_TIMEOUT": "2s", "MAX_IN_FLIGHT": "32", "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7",
			"RATE_LIMIT_LOGIN_PER_ADDRESS": "off", "RATE_LIMIT_LOGIN_PER_ACCOUNT": "3/30s", "TOKEN_CHECK_INTERVAL": "1s",
			"GRAPHQL_MAX_DOCUMENT_BYTES": "4096", "GRAPHQL_MAX_ALIASES": "7", "GRAPHQL_QUERY_CACHE_BYTES": "1048576",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.requestTimeout != 2*time.Second || c.dbStatementTimeout != 2*time.Second || c.maxInFlight != 32 ||
			fmt.Sprint(c.trustedProxies) != "[10.0.0.0/8 192.168.1.7/32]" || c.loginPerAddress.throttle() != nil ||
			c.loginPerAccount != (rateLimit{3, 30 * time.Second}) || c.tokenCheckInterval != time.Second ||
			c.graphql.MaxDocumentBytes != 4096 || c.graphql.MaxAliases != 7 || c.graphql.QueryCacheBytes != 1<<20 || c.graphql.TokenLimit != 1000 {
			t.Fatalf("config = %+v", c)
		}
	})
	t.Run("ErrBadValues", func(t *testing.T) {
		for _, kv := range [][2]string{
			{"LOG_LEVEL", "loud"}, {"LOG_FORMAT", "xml"}, {"JWT_TTL", "soon"}, {"BCRYPT_COST", "99"}, {"DB_MAX_CONNS", "0"},
			{"SHUTDOWN_TIMEOUT", "x"}, {"REQUEST_TIMEOUT", "0s"}, {"MAX_IN_FLIGHT", "0"}, {"TRUSTED_PROXIES", "proxy.local"},
			{"RATE_LIMIT_LOGIN_PER_ACCOUNT", "10"}, {"RATE_LIMIT_REGISTER_PER_ADDRESS", "5/1ms"}, {"DB_STATEMENT_TIMEOUT", "-1s"},
			{"GRAPHQL_MAX_ERRORS", "0"}, {"GRAPHQL_MAX_FIELDS", "many"},
			{"STATIC_DIR", filepath.Join(t.TempDir(), "missing")}, {"STATIC_DIR", "server.go"}, {"STATIC_CSP", "default-src 'self'\r\nSet-Cookie: x=1"},
			{"OTEL_EXPORTER_OTLP_ENDPOINT", "otel-collector:4317"}, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces"},
			{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}, {"OTEL_TRACES_SAMPLER", "sometimes"},
			{"OTEL_TRACES_SAMPLER_ARG", "1.5"}, {"OTEL_SDK_DISABLED", "maybe"},
		} {
			if _, err := loadConfig(env(map[string]string{kv[0]: kv[1]})); err == nil || !strings.Contains(err.Error(), kv[0]) {
				t.Errorf("%s=%s: err = %v, want a refusal naming it", kv[0], kv[1], err)
			}
		}
	})
	t.Run("Tracing", func(t *testing.T) {
		for _, c := range []struct {
			vars     map[string]string
			tracing  bool
			protocol string
		}{
			{nil, false, "http/protobuf"},
			{map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on"}, false, "http/protobuf"},
			{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, true, "http/protobuf"},
			{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://c/v1/traces", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, true, "grpc"},
			{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, true, "http/protobuf"},
			{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, false, "http/protobuf"},
		} {
			cfg, err := loadConfig(env(c.vars))
			if err != nil {
				t.Fatalf("%v: %v", c.vars, err)
			}
			if cfg.tracing() != c.tracing || cfg.tracesProtocol() != c.protocol {
				t.Errorf("%v: tracing %v over %s, want %v over %s", c.vars, cfg.tracing(), cfg.tracesProtocol(), c.tracing, c.protocol)
			}
		}
	})
	t.Run("DevelopmentSecretKept", func(t *testing.T) {
		dir := t.TempDir()
		cfg := config{dataDir: filepath.Join(dir, "postgres")}
		logger := slog.New(slog.DiscardHandler)
		first, err := devSecret(cfg, logger)
		if err != nil {
			t.Fatal(err)
		}
		again, err := devSecret(cfg, logger)
		if err != nil {
			t.Fatal(err)
		}
		if first != again || weakSecret(first) != "" {
			t.Fatalf("secrets %q then %q, want one strong secret kept", first, again)
		}
		if fi, err := os.Stat(filepath.Join(dir, "jwt-secret")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("secret file: %v, %v; want mode 0600", fi, err)
		}
		// With DATABASE_URL there is no cluster to keep it with: one per process.
		cfg.databaseURL = "postgres://elsewhere"
		a, _ := devSecret(cfg, logger)
		b, _ := devSecret(cfg, logger)
		if a == b || a == first || weakSecret(a) != "" {
			t.Fatalf("secrets without a cluster %q, %q; want fresh strong ones", a, b)
		}
	})
	t.Run("ProductionRefusesToRun", func(t *testing.T) {
		err := run(context.Background(), []string{"conduit"}, env(map[string]string{"CONDUIT_ENV": "production"}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
			t.Fatalf("run = %v, want a refusal naming JWT_SECRET", err)
		}
	})
}

// TestServeDrains checks that shutdown lets an in-flight request finish.
func TestServeDrains(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "finished")
	})
	var out syncBuffer
	logger := slog.New(slog.NewJSONHandler(&out, nil))
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, config{addr: "127.0.0.1:0", shutdownTimeout: 5 * time.Second}, logger, app.Handlers{Public: h, Shutdown: func(context.Context) {}})
	}()
	base := waitListening(t, &out, done)
	got := make(chan string, 1)
	go func() {
		res, err := http.Get(base + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel()
	if body := <-got; body != "finished" {
		t.Fatalf("in-flight request got %q, want it to finish", body)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestSeed loads the demo data twice into a fresh database and checks that
// the second run changes nothing.
func TestSeed(t *testing.T) {
	url := dbtest.NewURL(t)
	vars := env(map[string]string{"DATABASE_URL": url, "BCRYPT_COST": "4"})
	counts := func() string {
		store, err := db.Open(context.Background(), url, db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte("seed-test-secret"), BcryptCost: 4})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		page, err := svc.Articles(ctx, conduit.ArticleFilter{}, conduit.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		tags, err := svc.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		favorites, comments := 0, 0
		for _, a := range page.Articles {
			favorites += a.FavoritesCount
			cs, err := svc.Comments(ctx, a.Slug)
			if err != nil {
				t.Fatal(err)
			}
			comments += len(cs)
		}
		if _, err := svc.Login(ctx, conduit.LoginInput{Email: "ada@example.com", Password: demoPassword}); err != nil {
			t.Fatalf("demo login: %v", err)
		}
		return fmt.Sprintf("articles=%d tags=%d favorites=%d comments=%d", page.Total, len(tags), favorites, comments)
	}
	for i := range 2 {
		if err := run(context.Background(), []string{"conduit", "seed"}, vars, io.Discard); err != nil {
			t.Fatalf("seed run %d: %v", i+1, err)
		}
	}
	if got, want := counts(), "articles=5 tags=7 favorites=7 comments=4"; got != want {
		t.Fatalf("after seeding twice: %s, want %s", got, want)
	}
}

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestProductionFailsClosed runs the program as production runs it, over
// HTTP: no CORS header for any origin without CORS_ORIGINS, no /metrics
// on the public port, and the metrics and profiles on METRICS_ADDR only.
func TestProductionFailsClosed(t *testing.T) {
	url := dbtest.NewURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	metricsAddr := freeAddr(t)
	go func() {
		done <- run(ctx, []string{"conduit"}, env(map[string]string{
			"CONDUIT_ENV": "production", "ADDR": "127.0.0.1:0", "DATABASE_URL": url, "BCRYPT_COST": "4",
			"JWT_SECRET": "prod-test-secret-q7Vb0kX2mJ9TzR4uYcN1pW8sLhE6", "METRICS_ADDR": metricsAddr,
		}), &out)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	base := waitListening(t, &out, done)

	req, _ := http.NewRequest("OPTIONS", base+"/api/articles", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("preflight in production without CORS_ORIGINS: Access-Control-Allow-Origin = %q, want none", got)
	}
	req, _ = http.NewRequest("GET", base+"/api/tags", nil)
	req.Header.Set("Origin", "https://evil.example")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET with an Origin = %d, Access-Control-Allow-Origin %q; want 200 and none", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		if code := get(t, base+path, "").StatusCode; code != http.StatusNotFound {
			t.Errorf("public %s = %d, want 404", path, code)
		}
		if code := get(t, "http://"+metricsAddr+path, "").StatusCode; code != http.StatusOK {
			t.Errorf("METRICS_ADDR %s = %d, want 200", path, code)
		}
	}
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSeedWhileServing follows the README: `make run` in one terminal,
// then `make seed` and `make migrate` in another, on the same embedded
// cluster. Both use the server that runs and leave it running.
func TestSeedWhileServing(t *testing.T) {
	dir := dbtest.ClusterDir(t)
	vars := env(map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": filepath.Join(dir, "pg"), "BCRYPT_COST": "4", "LOG_FORMAT": "json"})
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"conduit"}, vars, &out) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	base := waitListening(t, &out, done)
	for _, command := range []string{"seed", "migrate"} {
		var logs syncBuffer
		if err := run(context.Background(), []string{"conduit", command}, vars, &logs); err != nil {
			t.Fatalf("%s while the server runs: %v\n%s", command, err, logs.String())
		}
		if !strings.Contains(logs.String(), "using the PostgreSQL server already running") {
			t.Errorf("%s did not say it used the running server:\n%s", command, logs.String())
		}
	}
	var list struct{ ArticlesCount int }
	call(t, "GET", base+"/api/articles", "", "", 200, &list)
	if list.ArticlesCount != 5 {
		t.Fatalf("the running server sees %d articles after seeding, want 5", list.ArticlesCount)
	}
}

func TestBaseURL(t *testing.T) {
	for addr, want := range map[string]string{
		"[::]:8080":      "http://localhost:8080",
		"0.0.0.0:8080":   "http://localhost:8080",
		"127.0.0.1:9000": "http://127.0.0.1:9000",
		"[::1]:9000":     "http://[::1]:9000",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := baseURL(a); got != want {
			t.Errorf("baseURL(%s) = %s, want %s", addr, got, want)
		}
	}
}
