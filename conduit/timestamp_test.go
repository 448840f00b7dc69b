package conduit_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
)

// TestAppendTimestamp holds AppendTimestamp to what time.Time.AppendFormat
// writes with TimestampLayout, for the edges of each field, the years it
// leaves to AppendFormat, zones other than UTC, and many times at random.
func TestAppendTimestamp(t *testing.T) {
	check := func(tm time.Time) {
		t.Helper()
		want := tm.UTC().AppendFormat([]byte("x"), conduit.TimestampLayout)
		if got := conduit.AppendTimestamp([]byte("x"), tm); string(got) != string(want) {
			t.Fatalf("AppendTimestamp(%v) = %s, want %s", tm, got, want)
		}
	}
	for _, tm := range []time.Time{
		{},
		time.Unix(0, 0),
		time.Date(2026, 12, 7, 1, 2, 3, 456_789_000, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 999_999, time.UTC),             // under a millisecond: .000
		time.Date(2026, 1, 1, 0, 0, 0, 999_999_999, time.UTC),         // not rounded up: .999
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),    // the last time of four digits
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),                  // AppendFormat's
		time.Date(-1, 6, 15, 12, 0, 0, 0, time.UTC),                   // AppendFormat's
		time.Date(2026, 3, 29, 2, 30, 0, 0, time.FixedZone("", 3600)), // to UTC
		time.Date(2026, 12, 31, 23, 30, 0, 0, time.FixedZone("", -7200)),
	} {
		check(tm)
	}
	r := rand.New(rand.NewPCG(1, 2))
	lo, hi := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	for range 100_000 {
		check(time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9)))
	}
}

func BenchmarkAppendTimestamp(b *testing.B) {
	tm := time.Date(2026, 12, 7, 1, 2, 3, 456_789_000, time.UTC)
	buf := make([]byte, 0, 32)
	for b.Loop() {
		buf = conduit.AppendTimestamp(buf[:0], tm)
	}
}
