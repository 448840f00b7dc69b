package conduit

import (
	"testing"
	"time"
)

// TestVerifiedTokens checks the tokens Verify keeps: a token seen before
// costs no parse (nothing allocated), and is still refused once expired,
// then as long as it is sent; a forged one is refused every time.
func TestVerifiedTokens(t *testing.T) {
	secret := []byte("a-secret-of-at-least-32-bytes-long")
	clock := time.Unix(1_800_000_000, 0)
	tokens := NewTokens(secret, time.Hour)
	tokens.now = func() time.Time { return clock }
	token, err := tokens.Sign(Viewer{UserID: 7, TokenVersion: 3})
	if err != nil {
		t.Fatal(err)
	}
	other := NewTokens([]byte("another-secret-of-at-least-32-bytes"), time.Hour)
	other.now = tokens.now
	forged, err := other.Sign(Viewer{UserID: 7, TokenVersion: 3})
	if err != nil {
		t.Fatal(err)
	}

	want := Viewer{UserID: 7, TokenVersion: 3, ExpiresAt: clock.Add(time.Hour)}
	for range 2 {
		if v, err := tokens.Verify(token); err != nil || v != want {
			t.Fatalf("Verify = %+v, %v; want %+v", v, err, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = tokens.Verify(token) }); n != 0 {
		t.Errorf("Verify of a token seen before allocates %v times, want 0", n)
	}
	for range 2 {
		if _, err := tokens.Verify(forged); ErrorCode(err) != Unauthenticated {
			t.Fatalf("Verify(forged) error = %v, want Unauthenticated", err)
		}
	}
	if tokens.verified.Len() != 1 {
		t.Errorf("%d tokens kept, want 1 (the valid one)", tokens.verified.Len())
	}

	// A second before it expires it is valid; at its expiry it is not, as
	// the parser has it.
	clock = want.ExpiresAt.Add(-time.Second)
	if _, err := tokens.Verify(token); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	clock = want.ExpiresAt
	for range 2 {
		_, err := tokens.Verify(token)
		if e, ok := err.(*Error); !ok || e.Code != Unauthenticated || e.Fields["token"][0] != "token expired" {
			t.Fatalf("at expiry: error %v, want token expired", err)
		}
	}
	if tokens.verified.Len() != 0 {
		t.Errorf("%d tokens kept after expiry, want 0", tokens.verified.Len())
	}
}
