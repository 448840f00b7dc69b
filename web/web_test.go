package web_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/web"
)

// realTokens verifies with the real conduit.Tokens, as the Service does.
type realTokens struct{ *conduit.Tokens }

func (t realTokens) Authenticate(_ context.Context, token string) (conduit.Viewer, error) {
	return t.Verify(token)
}

func TestAuthenticate(t *testing.T) {
	type seen struct {
		viewer conduit.Viewer
		ok     bool
	}
	tokens := conduit.NewTokens([]byte("web-test-secret-of-at-least-32-bytes"), time.Hour)
	good, err := tokens.Sign(conduit.Viewer{UserID: 7})
	if err != nil {
		t.Fatal(err)
	}
	// The viewer carries the token's expiry, to the second.
	signed, err := tokens.Verify(good)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(signed.ExpiresAt); d < time.Hour-time.Minute || d > time.Hour {
		t.Fatalf("ExpiresAt = %v, want an hour from now", signed.ExpiresAt)
	}
	seven := conduit.Viewer{UserID: 7, ExpiresAt: signed.ExpiresAt}
	var got seen
	h := web.Authenticate(realTokens{tokens})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.viewer, got.ok = conduit.ViewerFromContext(r.Context())
	}))
	for _, tc := range []struct {
		name, header string
		want         seen
	}{
		{"Anonymous", "", seen{}},
		{"Token", "Token " + good, seen{seven, true}},
		{"Bearer", "Bearer " + good, seen{seven, true}},
		{"SchemeCaseInsensitive", "bearer  " + good + " ", seen{seven, true}},
		{"ErrBadToken", "Token bad", seen{}},
		{"ErrOtherScheme", "Basic " + good, seen{}},
		{"ErrNoToken", "Token", seen{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = seen{}
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Fatalf("viewer = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	var seen string
	h := web.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = web.RequestIDFromContext(r.Context())
	}))
	t.Run("Generated", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if len(seen) != 24 || w.Header().Get(web.RequestIDHeader) != seen {
			t.Fatalf("id %q, header %q; want a 24-char id echoed", seen, w.Header().Get(web.RequestIDHeader))
		}
	})
	t.Run("FromCaller", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set(web.RequestIDHeader, "abc-123")
		h.ServeHTTP(httptest.NewRecorder(), r)
		if seen != "abc-123" {
			t.Fatalf("id = %q, want abc-123", seen)
		}
	})
	t.Run("HostileCallerIDReplaced", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set(web.RequestIDHeader, strings.Repeat("x", 100))
		h.ServeHTTP(httptest.NewRecorder(), r)
		if len(seen) != 24 {
			t.Fatalf("id = %q, want a fresh one", seen)
		}
	})
}

func TestLimitBody(t *testing.T) {
	var readErr error
	h := web.LimitBody(10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader("0123456789")))
	if readErr != nil {
		t.Fatalf("10 bytes: %v", readErr)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader("0123456789x")))
	var tooBig *http.MaxBytesError
	if !errors.As(readErr, &tooBig) {
		t.Fatalf("11 bytes: err = %v, want *http.MaxBytesError", readErr)
	}
}

func TestRecoverAndAccessLog(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	fail := func(w http.ResponseWriter, r *http.Request, _ error) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "failed "+web.RequestIDFromContext(r.Context()))
	}
	h := web.RequestID(web.AccessLog(logger)(web.Recover(logger, fail)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("boom")
	}))))
	r := httptest.NewRequest("GET", "/explode", nil).WithContext(context.Background())
	r.Header.Set(web.RequestIDHeader, "req-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 500 || w.Body.String() != "failed req-1" {
		t.Fatalf("got %d %q, want 500 \"failed req-1\"", w.Code, w.Body.String())
	}
	for _, want := range []string{"msg=panic", "request_id=req-1", "panic=boom", "stack=", "msg=request", "status=500", "route=/explode", "method=GET"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}
