package legacy_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
)

const janeJSON = `{"user":{"email":"jane@example.com","token":"<token>","username":"jane","bio":null,"image":null}}`

func TestRegister(t *testing.T) {
	a := newAPI(t)
	t.Run("OK", func(t *testing.T) {
		a.do("POST", "/api/users", "", `{"user":{"username":"jane","email":"jane@example.com","password":"password1","extra":"ignored"}}`).
			expect(t, http.StatusCreated, janeJSON)
	})
	t.Run("ErrTaken", func(t *testing.T) {
		a.do("POST", "/api/users", "", `{"user":{"username":"jane","email":"JANE@example.com","password":"password1"}}`).
			expect(t, 422, `{"errors":{"email":["has already been taken"],"username":["has already been taken"]}}`)
		a.do("POST", "/api/users", "", `{"user":{"username":"jane2","email":"Jane@Example.com","password":"password1"}}`).
			expect(t, 422, `{"errors":{"email":["has already been taken"]}}`)
		a.do("POST", "/api/users", "", `{"user":{"username":"jane","email":"other@example.com","password":"password1"}}`).
			expect(t, 422, `{"errors":{"username":["has already been taken"]}}`)
	})
	t.Run("ErrBlank", func(t *testing.T) {
		a.do("POST", "/api/users", "", `{"user":{"username":" ","email":"","password":""}}`).
			expect(t, 422, `{"errors":{"email":["can't be blank"],"password":["can't be blank"],"username":["can't be blank"]}}`)
		a.do("POST", "/api/users", "", ``).
			expect(t, 422, `{"errors":{"email":["can't be blank"],"password":["can't be blank"],"username":["can't be blank"]}}`)
		a.do("POST", "/api/users", "", `{"user":{"email":"x@example.com","password":"password1"}}`).
			expect(t, 422, `{"errors":{"username":["can't be blank"]}}`)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		a.do("POST", "/api/users", "", `{"user":{"username":"bob","email":"not-an-email","password":"short"}}`).
			expect(t, 422, `{"errors":{"email":["is invalid"],"password":["is too short (minimum is 8 characters)"]}}`)
		a.do("POST", "/api/users", "", `{"user":{"username":"bob smith","email":"bob@example.com","password":"password1"}}`).
			expect(t, 422, `{"errors":{"username":["is invalid"]}}`)
	})
	t.Run("ErrWrongType", func(t *testing.T) {
		a.do("POST", "/api/users", "", `{"user":{"username":"bob","email":42,"password":"password1"}}`).
			expect(t, 422, `{"errors":{"email":["must be a string"]}}`)
		a.do("POST", "/api/users", "", `{"user":"bob"}`).
			expect(t, 422, `{"errors":{"user":["must be an object"]}}`)
		a.do("POST", "/api/users", "", `["user"]`).
			expect(t, 422, `{"errors":{"body":["invalid JSON: the body must be an object"]}}`)
	})
	t.Run("ErrMalformedJSON", func(t *testing.T) {
		r := a.do("POST", "/api/users", "", `{"user":{"username":"bob",`)
		if r.status != 422 || !strings.Contains(string(r.body), `{"errors":{"body":["invalid JSON`) {
			t.Fatalf("got %d %s, want 422 invalid JSON", r.status, r.body)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		big := `{"user":{"username":"bob","email":"bob@example.com","password":"` + strings.Repeat("x", 2<<20) + `"}}`
		a.do("POST", "/api/users", "", big).
			expect(t, http.StatusRequestEntityTooLarge, `{"errors":{"body":["request body too large (limit 1048576 bytes)"]}}`)
	})
}

func TestLogin(t *testing.T) {
	a := newAPI(t)
	a.mustRegister("jane")
	t.Run("OK", func(t *testing.T) {
		a.do("POST", "/api/users/login", "", `{"user":{"email":"JANE@example.com","password":"password1"}}`).
			expect(t, http.StatusOK, janeJSON)
	})
	const bad = `{"errors":{"email or password":["is invalid"]}}`
	t.Run("ErrWrongPassword", func(t *testing.T) {
		r := a.do("POST", "/api/users/login", "", `{"user":{"email":"jane@example.com","password":"password2"}}`)
		r.expect(t, http.StatusUnauthorized, bad)
	})
	t.Run("ErrUnknownEmail", func(t *testing.T) {
		a.do("POST", "/api/users/login", "", `{"user":{"email":"nobody@example.com","password":"password1"}}`).
			expect(t, http.StatusUnauthorized, bad)
	})
	t.Run("ErrBlank", func(t *testing.T) {
		a.do("POST", "/api/users/login", "", `{"user":{}}`).
			expect(t, 422, `{"errors":{"email":["can't be blank"],"password":["can't be blank"]}}`)
	})
	t.Run("IgnoresBadToken", func(t *testing.T) {
		a.do("POST", "/api/users/login", "garbage", `{"user":{"email":"jane@example.com","password":"password1"}}`).
			expect(t, http.StatusOK, janeJSON)
	})
}

func TestCurrentUser(t *testing.T) {
	a := newAPI(t)
	token := a.mustRegister("jane")
	t.Run("OK", func(t *testing.T) {
		a.do("GET", "/api/user", token, "").expect(t, http.StatusOK, janeJSON)
	})
	t.Run("Bearer", func(t *testing.T) {
		a.do("GET", "/api/user", "Bearer "+token, "").expect(t, http.StatusOK, janeJSON)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		r := a.do("GET", "/api/user", "", "")
		r.expect(t, http.StatusUnauthorized, `{"errors":{"body":["authentication required"]}}`)
		if got := r.header.Get("WWW-Authenticate"); got == "" {
			t.Error("401 without WWW-Authenticate")
		}
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		a.do("GET", "/api/user", "not.a.jwt", "").expect(t, http.StatusUnauthorized, `{"errors":{"token":["invalid token"]}}`)
		a.do("GET", "/api/user", token+"x", "").expect(t, http.StatusUnauthorized, `{"errors":{"token":["invalid token"]}}`)
		a.do("GET", "/api/user", "Basic "+token, "").
			expect(t, http.StatusUnauthorized, "{\"errors\":{\"token\":[\"the Authorization header must be `Token <jwt>` or `Bearer <jwt>`\"]}}")
	})
	t.Run("ErrForgedToken", func(t *testing.T) {
		forged, err := conduit.NewTokens([]byte("another-secret-of-at-least-32-bytes!!"), time.Hour).Sign(conduit.Viewer{UserID: 1})
		if err != nil {
			t.Fatal(err)
		}
		a.do("GET", "/api/user", forged, "").expect(t, http.StatusUnauthorized, `{"errors":{"token":["invalid token"]}}`)
	})
	t.Run("ErrExpiredToken", func(t *testing.T) {
		expired, err := conduit.NewTokens([]byte(testSecret), -time.Minute).Sign(conduit.Viewer{UserID: 1})
		if err != nil {
			t.Fatal(err)
		}
		a.do("GET", "/api/user", expired, "").expect(t, http.StatusUnauthorized, `{"errors":{"token":["token expired"]}}`)
	})
}

func TestUpdateUser(t *testing.T) {
	a := newAPI(t)
	token := a.mustRegister("jane")
	a.mustRegister("john")
	t.Run("OK", func(t *testing.T) {
		a.do("PUT", "/api/user", token, `{"user":{"bio":"I like to skateboard","image":"https://i.example.com/jane.png"}}`).
			expect(t, http.StatusOK, `{"user":{"email":"jane@example.com","token":"<token>","username":"jane","bio":"I like to skateboard","image":"https://i.example.com/jane.png"}}`)
		// Only supplied fields change.
		a.do("PUT", "/api/user", token, `{"user":{"email":"jane@example.com"}}`).
			expect(t, http.StatusOK, `{"user":{"email":"jane@example.com","token":"<token>","username":"jane","bio":"I like to skateboard","image":"https://i.example.com/jane.png"}}`)
	})
	t.Run("ClearBioAndImage", func(t *testing.T) {
		a.do("PUT", "/api/user", token, `{"user":{"bio":null,"image":""}}`).expect(t, http.StatusOK, janeJSON)
	})
	t.Run("OwnNamesAreNoClash", func(t *testing.T) {
		a.do("PUT", "/api/user", token, `{"user":{"username":"jane","email":"JANE@example.com"}}`).
			expect(t, http.StatusOK, `{"user":{"email":"JANE@example.com","token":"<token>","username":"jane","bio":null,"image":null}}`)
	})
	t.Run("NewPasswordAndToken", func(t *testing.T) {
		r := a.mustDo("PUT", "/api/user", token, `{"user":{"password":"new-password","email":"jane@example.com"}}`, http.StatusOK)
		fresh := decodeInto[struct{ User struct{ Token string } }](t, r).User.Token
		a.do("GET", "/api/user", fresh, "").expect(t, http.StatusOK, janeJSON)
		a.mustDo("POST", "/api/users/login", "", `{"user":{"email":"jane@example.com","password":"password1"}}`, http.StatusUnauthorized)
		a.mustDo("POST", "/api/users/login", "", `{"user":{"email":"jane@example.com","password":"new-password"}}`, http.StatusOK)
		// Tokens issued before the change are revoked; the fresh one works.
		a.do("GET", "/api/user", token, "").expect(t, http.StatusUnauthorized, `{"errors":{"token":["token revoked: sign in again"]}}`)
		a.do("PUT", "/api/user", token, `{"user":{"bio":"x"}}`).expect(t, http.StatusUnauthorized, `{"errors":{"token":["token revoked: sign in again"]}}`)
		token = fresh
	})
	t.Run("BlankFieldsKept", func(t *testing.T) {
		// A popular frontend's settings page sends every field, with an empty
		// password when it is left alone: "" keeps username, email and
		// password (which cannot be cleared) and clears bio and image.
		a.do("PUT", "/api/user", token, `{"user":{"username":"","email":"","password":"","bio":"","image":""}}`).expect(t, http.StatusOK, janeJSON)
		a.do("PUT", "/api/user", token, `{"user":{"username":null,"email":null,"password":null}}`).expect(t, http.StatusOK, janeJSON)
		a.do("GET", "/api/user", token, "").expect(t, http.StatusOK, janeJSON) // the token was not revoked
		a.mustDo("POST", "/api/users/login", "", `{"user":{"email":"jane@example.com","password":"new-password"}}`, http.StatusOK)
	})
	t.Run("ErrTaken", func(t *testing.T) {
		a.do("PUT", "/api/user", token, `{"user":{"username":"john","email":"john@example.com"}}`).
			expect(t, 422, `{"errors":{"email":["has already been taken"],"username":["has already been taken"]}}`)
		a.do("GET", "/api/user", token, "").expect(t, http.StatusOK, janeJSON) // nothing half-written
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		a.do("PUT", "/api/user", token, `{"user":{"email":"jane@","password":"short"}}`).
			expect(t, 422, `{"errors":{"email":["is invalid"],"password":["is too short (minimum is 8 characters)"]}}`)
		a.do("PUT", "/api/user", token, `{"user":{"bio":7}}`).expect(t, 422, `{"errors":{"bio":["must be a string"]}}`)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("PUT", "/api/user", "", `{"user":{"bio":"x"}}`).expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
}
