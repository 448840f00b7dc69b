package legacy_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/resolvers"
)

const testSecret = "legacy-test-secret-of-at-least-32-bytes"

// api is the legacy surface on a fresh database, behind the server's own
// middleware chain (package app), reached over real HTTP.
type api struct {
	t     testing.TB
	srv   *httptest.Server
	store *db.DB
	dbURL string
	svc   *conduit.Service
}

func newAPI(t testing.TB) *api {
	t.Helper()
	return newAPIWith(t, func(*app.Config, *conduit.Config) {})
}

// newAPIWith is newAPI with the handler's and the service's configuration
// changed by tune.
func newAPIWith(t testing.TB, tune func(*app.Config, *conduit.Config)) *api {
	t.Helper()
	return newAPIOn(t, func(a *app.Config, c *conduit.Config, _ *db.DB) { tune(a, c) })
}

// newAPIOn is newAPIWith for a tune that needs the store, such as one that
// counts usage in it.
func newAPIOn(t testing.TB, tune func(*app.Config, *conduit.Config, *db.DB)) *api {
	t.Helper()
	store, dbURL := dbtest.NewWithURL(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	appCfg := app.Config{Logger: logger, GraphQL: resolvers.DefaultOptions()}
	svcCfg := conduit.Config{JWTSecret: []byte(testSecret), BcryptCost: 4}
	tune(&appCfg, &svcCfg, store)
	svc, err := conduit.NewService(store, svcCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.New(appCfg, svc, store).Public)
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv, store: store, dbURL: dbURL, svc: svc}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request the way old clients do: JSON content type on every
// request, the token as "Token <jwt>" unless it already names a scheme.
// Every answer of an API operation is checked against the OpenAPI document
// (checkOpenAPI), so every legacy test also tests the document.
func (a *api) do(method, path, token, body string) response {
	a.t.Helper()
	return a.doWith(method, path, token, body, nil)
}

// doWith is do with more request headers, which win over do's own.
func (a *api) doWith(method, path, token, body string, header http.Header) response {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	if token != "" {
		if !strings.Contains(token, " ") {
			token = "Token " + token
		}
		req.Header.Set("Authorization", token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	if !isDocs(req.URL.Path) {
		checkOpenAPI(a.t, req, res.StatusCode, res.Header, b)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// isDocs tells whether path is one of the documentation routes that the
// legacy handler serves beside the API: the document and its pages, which
// are no operations of the API.
func isDocs(path string) bool {
	switch path {
	case "/api/openapi.json", "/api/openapi.yaml", "/api/docs", "/api/redoc":
		return true
	}
	return strings.HasPrefix(path, "/api/docs/assets/")
}

// expect checks the status, the content type and the exact JSON body.
// In want, "<token>" stands for any JWT and "<time>" for any timestamp in
// the wire format; everything else must match exactly.
func (r response) expect(t testing.TB, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q, want application/json; charset=utf-8", ct)
	}
	assertJSON(t, r.body, want)
}

var (
	timeRE  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
)

func assertJSON(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v: %s", err, want)
	}
	g = normalize(g, "")
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		t.Fatalf("body =\n%s\nwant\n%s", gb, wb)
	}
}

// normalize replaces values that differ from run to run with placeholders,
// but only when they have the right format.
func normalize(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalize(x, k)
		}
	case []any:
		for i, x := range v {
			v[i] = normalize(x, key)
		}
	case string:
		switch {
		case (key == "createdAt" || key == "updatedAt") && timeRE.MatchString(v):
			return "<time>"
		case key == "token" && tokenRE.MatchString(v):
			return "<token>"
		}
	}
	return v
}

// decodeInto unmarshals a response body.
func decodeInto[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// mustRegister signs up username (email username@example.com, password
// "password1") and returns the token.
func (a *api) mustRegister(username string) string {
	a.t.Helper()
	r := a.do("POST", "/api/users", "", `{"user":{"username":"`+username+`","email":"`+username+`@example.com","password":"password1"}}`)
	if r.status != http.StatusCreated {
		a.t.Fatalf("register %s: status %d: %s", username, r.status, r.body)
	}
	return decodeInto[struct{ User struct{ Token string } }](a.t, r).User.Token
}

type articleBody struct {
	Slug           string
	Title          string
	Body           *string
	TagList        []string
	CreatedAt      string
	UpdatedAt      string
	Favorited      bool
	FavoritesCount int
	Author         struct {
		Username  string
		Following bool
	}
}

// mustCreate publishes an article and returns its slug.
func (a *api) mustCreate(token, title string, tags ...string) string {
	a.t.Helper()
	tagJSON, _ := json.Marshal(tags)
	if tags == nil {
		tagJSON = []byte("[]")
	}
	r := a.do("POST", "/api/articles", token, `{"article":{"title":"`+title+`","description":"about `+title+`","body":"all of `+title+`","tagList":`+string(tagJSON)+`}}`)
	if r.status != http.StatusCreated {
		a.t.Fatalf("create %q: status %d: %s", title, r.status, r.body)
	}
	return decodeInto[struct{ Article articleBody }](a.t, r).Article.Slug
}

func (a *api) mustDo(method, path, token, body string, status int) response {
	a.t.Helper()
	r := a.do(method, path, token, body)
	if r.status != status {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	return r
}
