package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := newSite(t, app.Config{}, conduit.Config{})
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/healthz", ""},
		{"GET", "/api/tags", ""},
		{"GET", "/api/no/such/route", ""},
		{"POST", "/graphql", `{"query":"{ tags }"}`},
		{"POST", "/api/users/login", `{"user":{}}`},
	} {
		r := s.do(t, c.method, c.path, "", c.body)
		for k, v := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		} {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, k, got, v)
			}
		}
	}
	t.Run("GraphiQLPolicy", func(t *testing.T) {
		r := s.do(t, "GET", "/graphql", "", "", "Accept", "text/html")
		csp := r.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self' https://", "'sha256-", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GraphiQL's Content-Security-Policy %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "'unsafe-eval'") || strings.Contains(strings.SplitN(csp, "style-src", 2)[0], "'unsafe-inline'") {
			t.Errorf("GraphiQL's scripts may run unsafe code: %q", csp)
		}
	})
	t.Run("TokensNotStored", func(t *testing.T) {
		token := s.register(t, "nora")
		for _, r := range []reply{
			s.do(t, "POST", "/api/users/login", "", `{"user":{"email":"nora@example.com","password":"password1"}}`),
			s.do(t, "GET", "/api/user", token, ""),
			s.do(t, "PUT", "/api/user", token, `{"user":{}}`),
			s.do(t, "POST", "/graphql", "", `{"query":"{ tags }"}`),
		} {
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store (status %d)", got, r.status)
			}
		}
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	preflight := func(s *site, origin string) reply {
		return s.do(t, "OPTIONS", "/api/articles", "", "", "Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
	}
	t.Run("NoOriginsAllowsNone", func(t *testing.T) {
		// What production runs without CORS_ORIGINS.
		s := newSite(t, app.Config{}, conduit.Config{})
		for _, r := range []reply{preflight(s, "https://evil.example"), s.do(t, "GET", "/api/tags", "", "", "Origin", "https://evil.example")} {
			if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Fatalf("Access-Control-Allow-Origin = %q, want none", got)
			}
		}
	})
	t.Run("ListedOrigins", func(t *testing.T) {
		s := newSite(t, app.Config{CORSOrigins: []string{"https://app.example.com"}}, conduit.Config{})
		if got := preflight(s, "https://app.example.com").header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
			t.Errorf("allowed origin: Access-Control-Allow-Origin = %q", got)
		}
		if got := preflight(s, "https://evil.example").header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("other origin: Access-Control-Allow-Origin = %q, want none", got)
		}
	})
}

// lockArticle holds a row lock on the article until release is called, so
// that a write to it waits in the database as it would on a stuck one.
func lockArticle(t *testing.T, s *site, slug string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM articles WHERE slug = $1 FOR UPDATE`, slug); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Rollback(ctx)
			_ = conn.Close(ctx)
		})
	}
	t.Cleanup(release)
	return release
}

// waitLockWaiters waits until n statements wait for a lock in the site's
// database.
func waitLockWaiters(t *testing.T, s *site, n int64) {
	t.Helper()
	for range 500 {
		if s.count(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d statements waiting for a lock", n)
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	const timeout = 400 * time.Millisecond
	s := newSite(t, app.Config{RequestTimeout: timeout}, conduit.Config{})
	token := s.register(t, "dana")
	slug := s.article(t, token, "Stuck")
	lockArticle(t, s, slug)

	t.Run("Legacy", func(t *testing.T) {
		start := time.Now()
		r := s.do(t, "POST", "/api/articles/"+slug+"/favorite", token, "")
		if took := time.Since(start); took > timeout+time.Second {
			t.Errorf("answered after %v, want within the %v deadline", took, timeout)
		}
		r.want(t, http.StatusServiceUnavailable, `{"errors":{"body":["the service is temporarily unavailable; try again shortly"]}}`)
		if got := r.header.Get("Retry-After"); got != "2" {
			t.Errorf("Retry-After = %q, want 2", got)
		}
	})
	t.Run("GraphQL", func(t *testing.T) {
		r := s.do(t, "POST", "/graphql", token, `{"query":"mutation { favoriteArticle(input: {slug: \"`+slug+`\"}) { article { favoritesCount } } }"}`)
		r.want(t, http.StatusOK, `{"errors":[{"message":"the service is temporarily unavailable; try again shortly","locations":[{"line":1,"column":12}],
			"path":["favoriteArticle"],"extensions":{"code":"SERVICE_UNAVAILABLE","retryAfter":2}}],"data":null}`)
	})
	if n := s.count(t, `SELECT count(*) FROM favorites`); n != 0 {
		t.Errorf("%d favorites written by requests that failed", n)
	}
	// No line per request: the store logs an outage once (see the fault
	// tests of package main), and a 503 is not an error of the server.
	if ls := s.logs.lines(map[string]any{"level": "ERROR"}); len(ls) != 0 {
		t.Errorf("errors logged: %v", ls)
	}
}

func TestShed(t *testing.T) {
	t.Parallel()
	s := newSite(t, app.Config{MaxInFlight: 1, RequestTimeout: 20 * time.Second}, conduit.Config{})
	token := s.register(t, "shay")
	slug := s.article(t, token, "Busy")
	release := lockArticle(t, s, slug)

	held := make(chan reply, 1)
	go func() { held <- s.do(t, "POST", "/api/articles/"+slug+"/favorite", token, "") }()
	waitLockWaiters(t, s, 1)

	start := time.Now()
	r := s.do(t, "GET", "/api/tags", "", "")
	r.want(t, http.StatusServiceUnavailable, `{"errors":{"body":["the server is busy; try again shortly"]}}`)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1", r.header.Get("Retry-After"))
	}
	s.do(t, "POST", "/graphql", "", `{"query":"{ tags }"}`).want(t, http.StatusServiceUnavailable,
		`{"errors":[{"message":"the server is busy; try again shortly","extensions":{"code":"SERVICE_UNAVAILABLE","retryAfter":1}}]}`)
	if took := time.Since(start); took > time.Second {
		t.Errorf("shed after %v, want at once", took)
	}
	// Health checks are never shed.
	if r := s.do(t, "GET", "/healthz", "", ""); r.status != http.StatusOK {
		t.Errorf("/healthz = %d while busy, want 200", r.status)
	}
	release()
	if r := <-held; r.status != http.StatusOK {
		t.Errorf("the request in flight got %d, want 200", r.status)
	}
	s.do(t, "GET", "/api/tags", "", "").want(t, http.StatusOK, `{"tags":[]}`)
}

func TestClientGone(t *testing.T) {
	t.Parallel()
	s := newSite(t, app.Config{}, conduit.Config{})
	token := s.register(t, "gil")
	slug := s.article(t, token, "Left")
	release := lockArticle(t, s, slug)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.doCtx(t, ctx, "POST", "/api/articles/"+slug+"/favorite", token, "")
	}()
	waitLockWaiters(t, s, 1)
	cancel() // the browser navigated away
	<-done
	var line map[string]any
	for range 200 {
		if ls := s.logs.lines(map[string]any{"msg": "request", "route": "/api/articles/{slug}/favorite"}); len(ls) > 0 {
			line = ls[0]
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	release()
	if line == nil || line["status"] != float64(499) || line["level"] != "DEBUG" {
		t.Fatalf("access log line = %v, want status 499 at DEBUG", line)
	}
	if ls := s.logs.lines(map[string]any{"level": "ERROR"}); len(ls) != 0 {
		t.Errorf("a request the client abandoned logged errors: %v", ls)
	}
	if n := s.count(t, `SELECT count(*) FROM favorites`); n != 0 {
		t.Errorf("%d favorites written by an abandoned request", n)
	}
	res, err := http.Get(s.operator + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	metrics, _ := io.ReadAll(res.Body)
	if want := `conduit_http_request_duration_seconds_count{method="POST",route="/api/articles/{slug}/favorite",status="499"} 1`; !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %s", want)
	}
	if regexp.MustCompile(`status="5\d\d"`).Match(metrics) {
		t.Errorf("/metrics counts a server error:\n%s", metrics)
	}
}

var retryMessage = regexp.MustCompile(`^too many attempts; try again in (\d+) seconds$`)

// wantRateLimited checks a 429 in the legacy envelope, with a Retry-After
// that agrees with the message.
func wantRateLimited(t *testing.T, r reply) {
	t.Helper()
	var body struct{ Errors map[string][]string }
	r.want(t, http.StatusTooManyRequests, "")
	if err := json.Unmarshal(r.body, &body); err != nil || len(body.Errors) != 1 || len(body.Errors["body"]) != 1 {
		t.Fatalf("429 body = %s, want one message under body", r.body)
	}
	m := retryMessage.FindStringSubmatch(body.Errors["body"][0])
	if m == nil || m[1] != r.header.Get("Retry-After") {
		t.Fatalf("429 says %q with Retry-After %q, want them to agree", body.Errors["body"][0], r.header.Get("Retry-After"))
	}
	if n, _ := strconv.Atoi(m[1]); n < 1 || n > 60 {
		t.Fatalf("Retry-After = %d s, want within the minute window", n)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	login := func(email string) string {
		return `{"user":{"email":"` + email + `","password":"wrong-password"}}`
	}
	t.Run("LoginPerAccount", func(t *testing.T) {
		s := newSite(t, app.Config{}, conduit.Config{LoginPerAccount: newThrottle(3)})
		s.register(t, "vic")
		for range 3 {
			s.do(t, "POST", "/api/users/login", "", login("vic@example.com")).want(t, http.StatusUnauthorized, `{"errors":{"email or password":["is invalid"]}}`)
		}
		// The right password does not help: the account is locked for now.
		wantRateLimited(t, s.do(t, "POST", "/api/users/login", "", `{"user":{"email":"VIC@example.com","password":"password1"}}`))
		// Another account is not.
		s.do(t, "POST", "/api/users/login", "", login("other@example.com")).want(t, http.StatusUnauthorized, "")
	})
	t.Run("GraphQLCountsEachLogin", func(t *testing.T) {
		s := newSite(t, app.Config{}, conduit.Config{LoginPerAccount: newThrottle(3)})
		s.register(t, "gwen")
		one := `l%d: login(input: {email: \"gwen@example.com\", password: \"wrong-password\"}) { userErrors { code } }`
		var fields []string
		for i := range 4 {
			fields = append(fields, fmt.Sprintf(one, i))
		}
		s.do(t, "POST", "/graphql", "", `{"query":"mutation { `+strings.Join(fields, " ")+` }"}`).want(t, http.StatusOK, "")
		r := s.do(t, "POST", "/graphql", "", `{"query":"mutation { `+fmt.Sprintf(one, 9)+` }"}`)
		var res struct {
			Errors []struct {
				Extensions map[string]any
			}
		}
		if err := json.Unmarshal(r.body, &res); err != nil || len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "RATE_LIMITED" {
			t.Fatalf("a fifth login after four in one request = %s, want RATE_LIMITED", r.body)
		}
		if n := s.count(t, `SELECT count(*) FROM users`); n != 1 {
			t.Fatalf("%d users", n)
		}
	})
	t.Run("RegisterPerForwardedAddress", func(t *testing.T) {
		s := newSite(t, app.Config{TrustedProxies: mustPrefixes(t, "127.0.0.1")}, conduit.Config{RegisterPerAddress: newThrottle(2)})
		register := func(name, from string) reply {
			return s.do(t, "POST", "/api/users", "", `{"user":{"username":"`+name+`","email":"`+name+`@example.com","password":"password1"}}`,
				"X-Forwarded-For", from)
		}
		register("a1", "203.0.113.1").want(t, http.StatusCreated, "")
		register("a2", "198.51.100.9, 203.0.113.1").want(t, http.StatusCreated, "") // the proxy saw 203.0.113.1
		wantRateLimited(t, register("a3", "203.0.113.1"))
		register("b1", "203.0.113.2").want(t, http.StatusCreated, "")
		if n := s.count(t, `SELECT count(*) FROM users`); n != 3 {
			t.Errorf("%d users, want 3: the refused sign-up wrote nothing", n)
		}
	})
	t.Run("ForwardedIgnoredFromUntrustedPeers", func(t *testing.T) {
		s := newSite(t, app.Config{}, conduit.Config{RegisterPerAddress: newThrottle(2)})
		for i := range 3 {
			r := s.do(t, "POST", "/api/users", "", fmt.Sprintf(`{"user":{"username":"u%d","email":"u%d@example.com","password":"password1"}}`, i, i),
				"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
			if i < 2 {
				r.want(t, http.StatusCreated, "")
			} else {
				wantRateLimited(t, r)
			}
		}
	})
}

func TestDeletedUsersToken(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		interval time.Duration
	}{
		// The service still trusts the version it cached: the database's
		// foreign keys catch the write.
		{"Cached", time.Hour},
		// The service looks the user up: authentication refuses the token.
		{"Checked", time.Nanosecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSite(t, app.Config{}, conduit.Config{TokenCheckInterval: c.interval})
			author := s.register(t, "author")
			slug := s.article(t, author, "Still here")
			token := s.register(t, "ghost")
			s.do(t, "POST", "/api/articles/"+slug+"/favorite", token, "").want(t, http.StatusOK, "")
			dbtest.Exec(t, s.dbURL, `DELETE FROM users WHERE username = 'ghost'`)
			gone := `{"errors":{"token":["the token's user does not exist"]}}`
			for _, w := range []struct{ method, path, body string }{
				{"POST", "/api/articles", `{"article":{"title":"t","description":"d","body":"b"}}`},
				{"POST", "/api/articles/" + slug + "/favorite", ""},
				{"POST", "/api/articles/" + slug + "/comments", `{"comment":{"body":"boo"}}`},
				{"POST", "/api/profiles/author/follow", ""},
				{"PUT", "/api/user", `{"user":{"bio":"x"}}`},
				{"GET", "/api/user", ""},
			} {
				r := s.do(t, w.method, w.path, token, w.body)
				r.want(t, http.StatusUnauthorized, gone)
			}
			if n := s.count(t, `SELECT count(*) FROM articles`) + s.count(t, `SELECT count(*) FROM comments`) + s.count(t, `SELECT count(*) FROM follows`); n != 1 {
				t.Errorf("rows = %d, want only the one article", n)
			}
			if ls := s.logs.lines(map[string]any{"level": "ERROR"}); len(ls) != 0 {
				t.Errorf("errors logged: %v", ls)
			}
		})
	}
}

// TestWritesRacingDelete comments on and favorites articles while their
// author deletes them: every answer is a success or a 404, never a 500.
func TestWritesRacingDelete(t *testing.T) {
	t.Parallel()
	s := newSite(t, app.Config{}, conduit.Config{})
	author := s.register(t, "writer")
	reader := s.register(t, "reader")
	statuses := map[string]map[int]int{}
	var mu sync.Mutex
	for i := range 40 {
		slug := s.article(t, author, fmt.Sprintf("Doomed %d", i))
		var wg sync.WaitGroup
		for _, w := range []struct{ name, method, path, token, body string }{
			{"delete", "DELETE", "/api/articles/" + slug, author, ""},
			{"comment", "POST", "/api/articles/" + slug + "/comments", reader, `{"comment":{"body":"first!"}}`},
			{"favorite", "POST", "/api/articles/" + slug + "/favorite", reader, ""},
			{"unfavorite", "DELETE", "/api/articles/" + slug + "/favorite", reader, ""},
		} {
			wg.Go(func() {
				r := s.do(t, w.method, w.path, w.token, w.body)
				mu.Lock()
				defer mu.Unlock()
				if statuses[w.name] == nil {
					statuses[w.name] = map[int]int{}
				}
				statuses[w.name][r.status]++
			})
		}
		wg.Wait()
	}
	for name, got := range statuses {
		for status := range got {
			ok := status == http.StatusNotFound || status == http.StatusOK || (name == "delete" && status == http.StatusNoContent)
			if !ok {
				t.Errorf("%s answered %d (%v)", name, status, got)
			}
		}
	}
	if n := s.count(t, `SELECT count(*) FROM articles`) + s.count(t, `SELECT count(*) FROM comments`) + s.count(t, `SELECT count(*) FROM favorites`); n != 0 {
		t.Errorf("%d rows left after every article was deleted", n)
	}
	if ls := s.logs.lines(map[string]any{"level": "ERROR"}); len(ls) != 0 {
		t.Errorf("errors logged: %v", ls)
	}
}
