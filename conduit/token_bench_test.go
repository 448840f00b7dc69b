package conduit_test

import (
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
)

// BenchmarkTokens measures signing a token and verifying one, which every
// signed-in request does once: a valid token, seen before and so kept
// (Tokens.verified), and a forged one (signed with another secret), which
// is parsed and refused every time, as a token seen for the first time is
// parsed.
func BenchmarkTokens(b *testing.B) {
	secret := []byte("benchmark-secret-of-at-least-32-bytes")
	tokens := conduit.NewTokens(secret, time.Hour)
	valid, err := tokens.Sign(conduit.Viewer{UserID: 42})
	if err != nil {
		b.Fatal(err)
	}
	forged, err := conduit.NewTokens([]byte("another-secret-of-at-least-32-bytes!"), time.Hour).Sign(conduit.Viewer{UserID: 42})
	if err != nil {
		b.Fatal(err)
	}

	b.Run("Sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tokens.Sign(conduit.Viewer{UserID: 42}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Verify/valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if v, err := tokens.Verify(valid); err != nil || v.UserID != 42 {
				b.Fatalf("Verify = %v, %v", v, err)
			}
		}
	})
	b.Run("Verify/forged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tokens.Verify(forged); conduit.ErrorCode(err) != conduit.Unauthenticated {
				b.Fatalf("Verify(forged) error = %v, want Unauthenticated", err)
			}
		}
	})
}
