package legacy_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/web"
)

// The limits the server sets, answered as the OpenAPI document says (the
// harness checks each answer against it).

func TestBodyTooLarge(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	body := `{"article":{"title":"Big","description":"d","body":"` + strings.Repeat("x", web.MaxBodyBytes) + `"}}`
	a.do("POST", "/api/articles", jane, body).
		expect(t, http.StatusRequestEntityTooLarge, `{"errors":{"body":["request body too large (limit 1048576 bytes)"]}}`)
}

func TestRateLimited(t *testing.T) {
	a := newAPIWith(t, func(_ *app.Config, c *conduit.Config) {
		c.LoginPerAddress = web.NewThrottle(1, time.Hour)
		c.RegisterPerAddress = web.NewThrottle(1, time.Hour)
	})
	a.mustRegister("jane")
	login := `{"user":{"email":"jane@example.com","password":"password1"}}`
	a.mustDo("POST", "/api/users/login", "", login, http.StatusOK)
	for _, r := range []struct{ name, path, body string }{
		{"Register", "/api/users", `{"user":{"username":"joe","email":"joe@example.com","password":"password1"}}`},
		{"Login", "/api/users/login", login},
	} {
		t.Run(r.name, func(t *testing.T) {
			res := a.do("POST", r.path, "", r.body)
			// The wait depends on where in the window the first attempt fell.
			wait, err := strconv.Atoi(res.header.Get("Retry-After"))
			if err != nil || wait < 1 || wait > 3600 {
				t.Fatalf("Retry-After = %q, want 1 to 3600 seconds", res.header.Get("Retry-After"))
			}
			res.expect(t, http.StatusTooManyRequests, `{"errors":{"body":["too many attempts; try again in `+strconv.Itoa(wait)+` seconds"]}}`)
		})
	}
}

// TestRequestTimeout: a request that cannot finish within the request
// timeout is answered 503 with Retry-After, reads and writes alike.
func TestRequestTimeout(t *testing.T) {
	slow := newAPIWith(t, func(c *app.Config, _ *conduit.Config) { c.RequestTimeout = time.Nanosecond })
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/tags", ""},
		{"GET", "/api/articles", ""},
		{"POST", "/api/users", `{"user":{"username":"joe","email":"joe@example.com","password":"password1"}}`},
	} {
		res := slow.do(r.method, r.path, "", r.body)
		res.expect(t, http.StatusServiceUnavailable, `{"errors":{"body":["the service is temporarily unavailable; try again shortly"]}}`)
		if got := res.header.Get("Retry-After"); got != "2" {
			t.Errorf("%s %s: Retry-After = %q, want 2", r.method, r.path, got)
		}
	}
}
