package conduit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
)

// FuzzVerifyToken feeds arbitrary text to the token check that guards
// every request: it never panics, refuses with Unauthenticated, and
// accepts only what this secret signed (the seeds' valid tokens and
// nothing made from them by changing the signed part).
func FuzzVerifyToken(f *testing.F) {
	secret := []byte("fuzz-secret-of-at-least-32-bytes-long")
	tokens := conduit.NewTokens(secret, time.Hour)
	valid, err := tokens.Sign(conduit.Viewer{UserID: 42, TokenVersion: 3})
	if err != nil {
		f.Fatal(err)
	}
	forged, _ := conduit.NewTokens([]byte("another-secret-of-at-least-32-bytes"), time.Hour).Sign(conduit.Viewer{UserID: 42})
	expired, _ := conduit.NewTokens(secret, -time.Hour).Sign(conduit.Viewer{UserID: 42})
	header, payload, _ := strings.Cut(valid, ".")
	for _, seed := range []string{
		valid, forged, expired, "", ".", "..", "a.b.c", valid + ".", header + ".." + payload,
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiI0MiIsImlzcyI6ImNvbmR1aXQiLCJleHAiOjk5OTk5OTk5OTl9.",
		strings.Repeat("A", 10000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		v, err := tokens.Verify(token)
		if err != nil {
			if code := conduit.ErrorCode(err); code != conduit.Unauthenticated {
				t.Fatalf("Verify(%q) failed with %q, want Unauthenticated", token, code)
			}
			return
		}
		// Accepted: it must carry a claim set this secret signed. Re-signing
		// is not comparable byte for byte (base64 has slack), so check
		// what it says instead.
		if v.UserID != 42 || v.TokenVersion != 3 {
			t.Fatalf("Verify(%q) = %+v: a token this secret never signed", token, v)
		}
	})
}
