package resolvers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/resolvers"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// testSecret signs the tokens of every test service.
var testSecret = []byte("test-secret-at-least-32-bytes-long!!")

// env is a GraphQL server over a fresh database, reached through real HTTP
// and the same middleware the server puts in front of it.
type env struct {
	db   *db.DB
	svc  *conduit.Service
	url  string
	logs *syncBuffer
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

// newEnv starts a server with DefaultOptions changed by each of opts.
func newEnv(tb testing.TB, opts ...func(*resolvers.Options)) *env {
	tb.Helper()
	store := dbtest.New(tb)
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: testSecret, BcryptCost: 4})
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{db: store, svc: svc, logs: &syncBuffer{}}
	e.url = serve(tb, svc, store, e.logs, opts...)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("server log:\n%s", e.logs)
		}
	})
	return e
}

// serve starts the server's handler (package app: both surfaces behind its
// middleware chain) and returns the URL of its /graphql endpoint.
func serve(tb testing.TB, svc *conduit.Service, store app.Database, logs io.Writer, opts ...func(*resolvers.Options)) string {
	tb.Helper()
	o := resolvers.DefaultOptions()
	for _, f := range opts {
		f(&o)
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(app.New(app.Config{Logger: logger, GraphQL: o}, svc, store).Public)
	tb.Cleanup(srv.Close)
	return srv.URL + "/graphql"
}

// gqlError is one entry of a response's "errors".
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// result is a GraphQL answer as it came over the wire.
type result struct {
	status int
	header http.Header
	body   []byte
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// codes returns the extensions.code of every error, in order.
func (r result) codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// hasData tells whether the body has a "data" key at all.
func (r result) hasData() bool {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(r.body, &m)
	_, ok := m["data"]
	return ok
}

// request is one GraphQL request.
type request struct {
	query     string
	variables map[string]any
	token     string // sent as `Authorization: Token <token>` when set
	header    map[string]string
}

// post sends req as a POST with a JSON body.
func (e *env) post(tb testing.TB, req request) result {
	tb.Helper()
	return postTo(tb, e.url, req)
}

func postTo(tb testing.TB, url string, req request) result {
	tb.Helper()
	body := map[string]any{"query": req.query}
	if req.variables != nil {
		body["variables"] = req.variables
	}
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	return send(tb, r, req)
}

// send adds req's token and headers to r, sends it and reads the answer.
func send(tb testing.TB, r *http.Request, req request) result {
	tb.Helper()
	if req.token != "" {
		r.Header.Set("Authorization", "Token "+req.token)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	res := result{status: resp.StatusCode, header: resp.Header, body: body}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(body, &res); err != nil {
			tb.Fatalf("response is not JSON: %v\n%s", err, body)
		}
	}
	return res
}

// mustData sends req and fails unless it ran without errors; it decodes
// "data" into a T.
func mustData[T any](tb testing.TB, e *env, req request) T {
	tb.Helper()
	res := e.post(tb, req)
	if res.status != http.StatusOK || len(res.Errors) > 0 {
		tb.Fatalf("status %d, errors %+v\nquery: %s", res.status, res.Errors, req.query)
	}
	var v T
	if err := json.Unmarshal(res.Data, &v); err != nil {
		tb.Fatalf("decode data: %v\n%s", err, res.Data)
	}
	return v
}

// wantErrorCodes fails unless res carries exactly the error codes want.
func wantErrorCodes(tb testing.TB, res result, want ...string) {
	tb.Helper()
	if got := res.codes(); !reflect.DeepEqual(got, want) {
		tb.Fatalf("error codes = %v, want %v\nbody: %s", got, want, res.body)
	}
}

// wantJSON fails unless got is the JSON want, where the string "*" in want
// stands for any value but null.
func wantJSON(tb testing.TB, got []byte, want string) {
	tb.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		tb.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		tb.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	if diff := jsonDiff("$", g, w); diff != "" {
		tb.Fatalf("%s\ngot:  %s\nwant: %s", diff, got, want)
	}
}

func jsonDiff(path string, got, want any) string {
	if want == "*" {
		if got == nil {
			return path + " is null, want a value"
		}
		return ""
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s = %v, want an object", path, got)
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, gok := g[k]
			wv, wok := w[k]
			switch {
			case !gok:
				return fmt.Sprintf("%s.%s is missing", path, k)
			case !wok:
				return fmt.Sprintf("%s.%s is unexpected", path, k)
			}
			if d := jsonDiff(path+"."+k, gv, wv); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s = %v, want %d items", path, got, len(w))
		}
		for i := range w {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("%s = %v, want %v", path, got, want)
	}
	return ""
}

func mustUnmarshal(tb testing.TB, b []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("decode %s: %v", b, err)
	}
}
