package legacy_test

import (
	"net/http"
	"testing"
)

func TestProfile(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	a.mustRegister("john")
	a.mustDo("PUT", "/api/user", jane, `{"user":{"bio":"hi","image":"https://i.example.com/j.png"}}`, 200)
	john := a.mustRegister("johnny")
	a.mustDo("POST", "/api/profiles/jane/follow", john, "", 200)

	t.Run("OK", func(t *testing.T) {
		a.do("GET", "/api/profiles/jane", "", "").
			expect(t, http.StatusOK, `{"profile":{"username":"jane","bio":"hi","image":"https://i.example.com/j.png","following":false}}`)
		a.do("GET", "/api/profiles/jane", john, "").
			expect(t, http.StatusOK, `{"profile":{"username":"jane","bio":"hi","image":"https://i.example.com/j.png","following":true}}`)
		a.do("GET", "/api/profiles/john", jane, "").
			expect(t, http.StatusOK, `{"profile":{"username":"john","bio":null,"image":null,"following":false}}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a.do("GET", "/api/profiles/nobody", "", "").expect(t, 404, `{"errors":{"body":["profile not found"]}}`)
	})
	t.Run("ErrBadTokenOnOptionalRoute", func(t *testing.T) {
		a.do("GET", "/api/profiles/jane", "bad.token.here", "").expect(t, 401, `{"errors":{"token":["invalid token"]}}`)
	})
}

func TestFollow(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	a.mustRegister("john")
	want := `{"profile":{"username":"john","bio":null,"image":null,"following":true}}`
	t.Run("OK", func(t *testing.T) {
		// Old clients send a stray body; it is ignored.
		a.do("POST", "/api/profiles/john/follow", jane, `{"user":{"email":"jane@example.com"}}`).expect(t, 200, want)
		a.do("GET", "/api/profiles/john", jane, "").expect(t, 200, want)
	})
	t.Run("Idempotent", func(t *testing.T) {
		a.do("POST", "/api/profiles/john/follow", jane, "").expect(t, 200, want)
	})
	t.Run("ErrSelf", func(t *testing.T) {
		a.do("POST", "/api/profiles/jane/follow", jane, "").expect(t, 422, `{"errors":{"username":["cannot follow yourself"]}}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a.do("POST", "/api/profiles/nobody/follow", jane, "").expect(t, 404, `{"errors":{"body":["profile not found"]}}`)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("POST", "/api/profiles/john/follow", "", "").expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
}

func TestUnfollow(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	a.mustRegister("john")
	a.mustDo("POST", "/api/profiles/john/follow", jane, "", 200)
	want := `{"profile":{"username":"john","bio":null,"image":null,"following":false}}`
	t.Run("OK", func(t *testing.T) {
		a.do("DELETE", "/api/profiles/john/follow", jane, "").expect(t, 200, want)
		a.do("GET", "/api/profiles/john", jane, "").expect(t, 200, want)
	})
	t.Run("Idempotent", func(t *testing.T) {
		a.do("DELETE", "/api/profiles/john/follow", jane, "").expect(t, 200, want)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a.do("DELETE", "/api/profiles/nobody/follow", jane, "").expect(t, 404, `{"errors":{"body":["profile not found"]}}`)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("DELETE", "/api/profiles/john/follow", "", "").expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
}
