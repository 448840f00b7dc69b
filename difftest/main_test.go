package difftest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/resolvers"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// newBackend starts the server's whole handler over a fresh database of
// its own, over real HTTP, and returns the base URL of its REST API. Its
// rate limits are off, as the diff needs.
func newBackend(tb testing.TB) string {
	tb.Helper()
	store := dbtest.New(tb)
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte("difftest-secret-of-at-least-32-bytes!!"), BcryptCost: 4})
	if err != nil {
		tb.Fatal(err)
	}
	h := app.New(app.Config{
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		GraphQL: resolvers.DefaultOptions(),
	}, svc, store)
	srv := httptest.NewServer(h.Public)
	tb.Cleanup(srv.Close)
	return srv.URL + "/api"
}

// alteration changes an answer of the backend behind a proxy: it is given
// the request and the decoded body (nil when the body is not a JSON
// object) and returns the status to send.
type alteration func(r *http.Request, status int, body map[string]any) int

// newProxy puts a reverse proxy in front of the backend at base (a REST
// API's URL) that passes every answer through alter, and returns the
// proxy's URL for the same API.
func newProxy(tb testing.TB, base string, alter func() alteration) string {
	tb.Helper()
	target, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	target.Path = ""
	p := httputil.NewSingleHostReverseProxy(target)
	p.ModifyResponse = func(res *http.Response) error {
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		res.Body.Close()
		var body map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&body) != nil {
			body = nil
		}
		status := res.StatusCode
		if a := alter(); a != nil {
			status = a(res.Request, status, body)
			if body != nil {
				if raw, err = json.Marshal(body); err != nil {
					return err
				}
			}
		}
		res.StatusCode = status
		res.Status = strconv.Itoa(status) + " " + http.StatusText(status)
		res.Body = io.NopCloser(bytes.NewReader(raw))
		res.ContentLength = int64(len(raw))
		res.Header.Set("Content-Length", strconv.Itoa(len(raw)))
		return nil
	}
	srv := httptest.NewServer(p)
	tb.Cleanup(srv.Close)
	return srv.URL + "/api"
}
