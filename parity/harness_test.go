package parity_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/resolvers"
)

const testSecret = "parity-test-secret-of-at-least-32-bytes"

// server is both surfaces on one fresh database, behind the server's own
// middleware chain (package app), reached over real HTTP.
type server struct {
	url string
	svc *conduit.Service
}

func newServer(tb testing.TB) *server {
	tb.Helper()
	store := dbtest.New(tb)
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte(testSecret), BcryptCost: 4})
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(tb.Output(), nil))
	srv := httptest.NewServer(app.New(app.Config{Logger: logger, GraphQL: resolvers.DefaultOptions()}, svc, store).Public)
	tb.Cleanup(srv.Close)
	return &server{url: srv.URL, svc: svc}
}

// actor is who makes a request: a user with a token, or nobody (no token).
type actor struct {
	username string
	email    string
	password string
	token    string
	// scheme names the token in the Authorization header. Empty means each
	// surface's usual one, "Token" for REST and "Bearer" for GraphQL, so
	// that every read of the other surface's writes also crosses schemes.
	scheme string
}

// nobody makes anonymous requests.
var nobody = actor{}

func (a actor) authorize(r *http.Request, scheme string) {
	if a.token == "" {
		return
	}
	if a.scheme != "" {
		scheme = a.scheme
	}
	r.Header.Set("Authorization", scheme+" "+a.token)
}

// restResponse is a legacy answer as it came over the wire.
type restResponse struct {
	status int
	body   []byte
}

// rest sends a legacy request the way old clients do, with a JSON content
// type even when there is no body.
func (s *server) rest(tb testing.TB, as actor, method, path, body string) restResponse {
	tb.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	as.authorize(req, "Token")
	status, b := roundTrip(tb, req)
	return restResponse{status: status, body: b}
}

// mustREST sends a legacy request, fails unless it is answered with
// status, and decodes the body into a T.
func mustREST[T any](tb testing.TB, s *server, as actor, method, path, body string, status int) T {
	tb.Helper()
	res := s.rest(tb, as, method, path, body)
	if res.status != status {
		tb.Fatalf("%s %s: status = %d, want %d; body: %s", method, path, res.status, status, res.body)
	}
	var v T
	if len(res.body) > 0 {
		mustDecode(tb, res.body, &v)
	}
	return v
}

// gqlResponse is a GraphQL answer as it came over the wire.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// graphql sends doc with the variables (anything that marshals to a JSON
// object, or nil) as a POST to /graphql. Every operation that ran is
// answered 200, errors or not.
func (s *server) graphql(tb testing.TB, as actor, doc string, vars any) gqlResponse {
	tb.Helper()
	body := map[string]any{"query": doc}
	if vars != nil {
		body["variables"] = vars
	}
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	as.authorize(req, "Bearer")
	status, raw := roundTrip(tb, req)
	if status != http.StatusOK {
		tb.Fatalf("POST /graphql: status = %d, want 200; body: %s", status, raw)
	}
	var res gqlResponse
	mustDecode(tb, raw, &res)
	return res
}

// mustGraphQL sends doc, fails on any error, and decodes the one root
// field of the data into a T. For a mutation it also fails unless the
// payload's userErrors are empty.
func mustGraphQL[T any](tb testing.TB, s *server, as actor, doc string, vars any) T {
	tb.Helper()
	res := s.graphql(tb, as, doc, vars)
	if len(res.Errors) > 0 {
		tb.Fatalf("GraphQL errors %+v\nfor %s", res.Errors, firstLine(doc))
	}
	field := rootField(tb, res.Data)
	var p struct{ UserErrors []userError }
	if bytes.HasPrefix(field, []byte("{")) {
		mustDecode(tb, field, &p)
	}
	if len(p.UserErrors) > 0 {
		tb.Fatalf("userErrors = %+v, want none\nfor %s", p.UserErrors, firstLine(doc))
	}
	var v T
	mustDecode(tb, field, &v)
	return v
}

// rootField returns the value of the only field of data.
func rootField(tb testing.TB, data json.RawMessage) json.RawMessage {
	tb.Helper()
	var m map[string]json.RawMessage
	mustDecode(tb, data, &m)
	if len(m) != 1 {
		tb.Fatalf("data = %s, want exactly one root field", data)
	}
	for _, v := range m {
		return v
	}
	return nil
}

func roundTrip(tb testing.TB, req *http.Request) (int, []byte) {
	tb.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res.StatusCode, b
}

func mustDecode(tb testing.TB, b []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("decode %s: %v", b, err)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// agree fails unless got and want, read from the two surfaces, encode to
// the same JSON: the same strings (timestamps included), the same numbers,
// the same lists in the same order, null where the other has null.
func agree(tb testing.TB, what string, got, want any) {
	tb.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		tb.Errorf("%s =\n%s\nwant\n%s", what, g, w)
	}
}

// globalCommentID and commentDBID convert between the legacy comment id
// and the GraphQL one. Clients treat global ids as opaque; the test knows
// how they are made so that it can say the two surfaces name one comment.
func globalCommentID(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("Comment:" + strconv.FormatInt(id, 10)))
}

func commentDBID(tb testing.TB, gid string) int64 {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(gid)
	num, ok := strings.CutPrefix(string(b), "Comment:")
	id, perr := strconv.ParseInt(num, 10, 64)
	if err != nil || !ok || perr != nil {
		tb.Fatalf("comment id %q is not the global id of a comment", gid)
	}
	return id
}

// obj is a JSON object in GraphQL variables.
type obj = map[string]any
