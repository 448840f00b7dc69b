package legacy_test

import (
	"net/http"
	"testing"
)

func TestUnknownRoute(t *testing.T) {
	a := newAPI(t)
	a.do("GET", "/api/nothing", "", "").expect(t, 404, `{"errors":{"body":["no such endpoint: GET /api/nothing"]}}`)
	a.do("PATCH", "/api/user", "", "").expect(t, 405, `{"errors":{"body":["method PATCH not allowed on /api/user"]}}`)
}

func TestEmptyBodyWithJSONContentType(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	a.mustCreate(jane, "Post")
	// Old clients send Content-Type: application/json and no body on GET and DELETE.
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/articles"}, {"GET", "/api/articles/post"}, {"GET", "/api/tags"}, {"DELETE", "/api/articles/post/favorite"},
	} {
		if got := a.do(r.method, r.path, jane, ""); got.status != http.StatusOK {
			t.Errorf("%s %s = %d, want 200: %s", r.method, r.path, got.status, got.body)
		}
	}
}
