// Package web holds the HTTP plumbing that both API surfaces share:
// authentication from the Authorization header, request ids, the access
// log, panic recovery and body limits. It knows no route and no wire format.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/conduit-dev/conduit/conduit"
)

// Authenticator turns a bearer token into a viewer; *conduit.Service is one.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (conduit.Viewer, error)
}

// Authenticate reads `Authorization: Token <jwt>` (or `Bearer <jwt>`) and
// puts the viewer in the request's context. It never rejects a request by
// itself: a missing header leaves the request anonymous, and a header that
// cannot be accepted is recorded with conduit.NewContextWithAuthError, so the
// service refuses every call made with it and each surface answers in its
// own wire format.
func Authenticate(auth Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if header := r.Header.Get("Authorization"); header != "" {
				r = r.WithContext(WithAuthorization(r.Context(), auth, header))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// WithAuthorization returns ctx carrying the viewer an Authorization value
// (`Token <jwt>` or `Bearer <jwt>`) proves, or the reason it proves nothing
// (conduit.NewContextWithAuthError). Authenticate applies it to the header;
// the GraphQL WebSocket transport to the `Authorization` of connection_init.
func WithAuthorization(ctx context.Context, auth Authenticator, value string) context.Context {
	scheme, token, ok := strings.Cut(strings.TrimSpace(value), " ")
	token = strings.TrimSpace(token)
	if !ok || token == "" || !(strings.EqualFold(scheme, "Token") || strings.EqualFold(scheme, "Bearer")) {
		return conduit.NewContextWithAuthError(ctx, conduit.FieldError(conduit.Unauthenticated, "token",
			"the Authorization header must be `Token <jwt>` or `Bearer <jwt>`"))
	}
	v, err := auth.Authenticate(ctx, token)
	if err != nil {
		return conduit.NewContextWithAuthError(ctx, err)
	}
	return conduit.NewContextWithViewer(ctx, v)
}

type requestIDKey struct{}

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

// RequestID gives every request an id: the caller's X-Request-Id when it is
// short and printable, a fresh random one otherwise. The id is echoed in the
// response header and available from RequestIDFromContext.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(NewContextWithRequestID(r.Context(), id)))
	})
}

// NewContextWithRequestID returns a copy of ctx carrying the request id.
func NewContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFromContext returns the request id, or "" outside a request.
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// MaxBodyBytes is the largest request body either surface reads.
const MaxBodyBytes = 1 << 20

// LimitBody caps request bodies at n bytes; reading past that fails with
// *http.MaxBytesError, which each surface answers with 413.
func LimitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}
