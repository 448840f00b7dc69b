package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/resolvers"
	"github.com/conduit-dev/conduit/web"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const testSecret = "app-test-secret-of-at-least-32-bytes!"

// site is the server's handler (both surfaces, the whole chain) over a
// fresh database, reached over real HTTP.
type site struct {
	url      string // of the server, without a path
	operator string // of the operator's handler (/metrics)
	dbURL    string
	store    *db.DB
	svc      *conduit.Service
	logs     *syncBuffer
}

// newSite starts app.New with cfg (Logger and GraphQL filled in when
// unset) over a service made with svcCfg (the secret and a fast bcrypt
// filled in), on a store traced with cfg.TracerProvider.
func newSite(tb testing.TB, cfg app.Config, svcCfg conduit.Config) *site {
	tb.Helper()
	// The store traces its statements with the handler's provider, as the
	// server's are.
	store, dbURL := dbtest.NewWithOptions(tb, db.Options{TracerProvider: cfg.TracerProvider})
	svcCfg.JWTSecret = []byte(testSecret)
	svcCfg.BcryptCost = 4
	svc, err := conduit.NewService(store, svcCfg)
	if err != nil {
		tb.Fatal(err)
	}
	s := &site{dbURL: dbURL, store: store, svc: svc, logs: &syncBuffer{}}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if reflect.DeepEqual(cfg.GraphQL, resolvers.Options{}) {
		cfg.GraphQL = resolvers.DefaultOptions()
	}
	h := app.New(cfg, svc, store)
	srv := httptest.NewServer(h.Public)
	tb.Cleanup(srv.Close)
	op := httptest.NewServer(h.Operator)
	tb.Cleanup(op.Close)
	s.operator = op.URL
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("server log:\n%s", s.logs)
		}
	})
	s.url = srv.URL
	return s
}

// reply is a response as it came over the wire.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with a JSON body (when there is one) and the token
// (when there is one) as "Token <jwt>".
func (s *site) do(tb testing.TB, method, path, token, body string, headers ...string) reply {
	tb.Helper()
	return s.doCtx(tb, context.Background(), method, path, token, body, headers...)
}

func (s *site) doCtx(tb testing.TB, ctx context.Context, method, path, token, body string, headers ...string) reply {
	tb.Helper()
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return reply{}
		}
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

// want fails unless the reply has the status and exactly the JSON body
// (compared after decoding, so key order and spacing do not matter).
func (r reply) want(tb testing.TB, status int, body string) {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if body == "" {
		return
	}
	var got, want any
	if err := json.Unmarshal(r.body, &got); err != nil {
		tb.Fatalf("body is not JSON: %v: %s", err, r.body)
	}
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		tb.Fatalf("bad expectation %s: %v", body, err)
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		tb.Fatalf("body =\n%s\nwant\n%s", g, w)
	}
}

// register signs a user up through the legacy API and returns the token.
func (s *site) register(tb testing.TB, username string) string {
	tb.Helper()
	r := s.do(tb, "POST", "/api/users", "", `{"user":{"username":"`+username+`","email":"`+username+`@example.com","password":"password1"}}`)
	if r.status != http.StatusCreated {
		tb.Fatalf("register %s: %d %s", username, r.status, r.body)
	}
	var v struct{ User struct{ Token string } }
	if err := json.Unmarshal(r.body, &v); err != nil {
		tb.Fatal(err)
	}
	return v.User.Token
}

// article publishes an article and returns its slug.
func (s *site) article(tb testing.TB, token, title string) string {
	tb.Helper()
	r := s.do(tb, "POST", "/api/articles", token, `{"article":{"title":"`+title+`","description":"d","body":"b"}}`)
	if r.status != http.StatusCreated {
		tb.Fatalf("create %s: %d %s", title, r.status, r.body)
	}
	var v struct{ Article struct{ Slug string } }
	if err := json.Unmarshal(r.body, &v); err != nil {
		tb.Fatal(err)
	}
	return v.Article.Slug
}

// count returns the number the query selects, straight from the database.
func (s *site) count(tb testing.TB, sql string, args ...any) int64 {
	tb.Helper()
	return dbtest.QueryInt(tb, s.dbURL, sql, args...)
}

// syncBuffer collects log output written from many goroutines.
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

// lines returns the JSON log lines that have every key=value of match.
func (b *syncBuffer) lines(match map[string]any) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		ok := true
		for k, v := range match {
			if m[k] != v {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// newThrottle allows n attempts a minute.
func newThrottle(n int) conduit.Throttle { return web.NewThrottle(n, time.Minute) }

func mustPrefixes(tb testing.TB, s string) []netip.Prefix {
	tb.Helper()
	p, err := web.ParseTrustedProxies(s)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
