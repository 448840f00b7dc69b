package graph

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// TestPlainScalarsWriteWhatMarshalersWrite holds the plain writers of
// strings and booleans to gqlgen's marshalers on every byte and on
// strings a response may hold, valid UTF-8 or not, and the others to ours.
func TestPlainScalarsWriteWhatMarshalersWrite(t *testing.T) {
	marshal := func(m graphql.Marshaler) string {
		var b bytes.Buffer
		m.MarshalGQL(&b)
		return b.String()
	}
	// Both through a bytes.Buffer (the executor's) and through another writer.
	plain := func(write func(w io.Writer)) (string, string) {
		var b bytes.Buffer
		write(&b)
		var s strings.Builder
		write(&s)
		return b.String(), s.String()
	}
	strs := []string{"", "plain", `"quoted" \ back\slash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
		"ünïcode ✓ 😀", "\u2028\u2029 <script>&amp;", "\xff\xfe invalid \xc3", strings.Repeat("a\"", 300)}
	for c := range 256 {
		strs = append(strs, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range strs {
		want := marshal(graphql.MarshalString(s))
		got, other := plain(func(w io.Writer) { writeString(w, s) })
		if got != want || other != want {
			t.Errorf("writeString(%q) = %q and %q, want %q", s, got, other, want)
		}
	}
	for _, v := range []bool{false, true} {
		want := marshal(graphql.MarshalBoolean(v))
		if got, other := plain(func(w io.Writer) { writeBool(w, v) }); got != want || other != want {
			t.Errorf("writeBool(%v) = %q and %q, want %q", v, got, other, want)
		}
	}
	for _, v := range []int{0, 7, -1, math.MaxInt32, math.MinInt32} {
		if got, want := marshal(MarshalInt(v)), marshal(graphql.MarshalInt(v)); got != want {
			t.Errorf("MarshalInt(%d) = %q, want %q", v, got, want)
		}
	}
	at := time.Date(2026, 12, 2, 20, 15, 1, 123456789, time.FixedZone("x", 3600))
	if got, want := marshal(MarshalDateTime(at)), `"2026-12-02T19:15:01.123Z"`; got != want {
		t.Errorf("MarshalDateTime = %s, want %s", got, want)
	}
	var b bytes.Buffer
	writeStrings(&b, []string{"a", "b\"", ""})
	writeStrings(&b, nil)
	if got, want := b.String(), `["a","b\"",""][]`; got != want {
		t.Errorf("writeStrings = %s, want %s", got, want)
	}
}

// TestReserveRest checks what a list's first element makes the executor's
// buffer reserve for the others.
func TestReserveRest(t *testing.T) {
	first := func(size int) (*bytes.Buffer, int) {
		var b bytes.Buffer
		b.WriteString(`{"data":[`)
		start := b.Len()
		b.WriteString(strings.Repeat("x", size))
		return &b, start
	}
	t.Run("Reserves", func(t *testing.T) {
		b, start := first(400)
		reserveRest(b, start, 19)
		if want := 19 * 401; b.Available() < want {
			t.Errorf("%d bytes available, want at least %d for 19 more of 400 and their commas", b.Available(), want)
		}
		grown := b.Cap()
		for range 19 {
			b.WriteString("," + strings.Repeat("x", 400))
		}
		if b.Cap() != grown {
			t.Errorf("the buffer grew again, from %d to %d bytes, while the others were written", grown, b.Cap())
		}
	})
	t.Run("ShortListsLeftAlone", func(t *testing.T) {
		b, start := first(200)
		before := b.Cap()
		reserveRest(b, start, 4)
		if b.Cap() != before {
			t.Errorf("capacity %d after reserving for 4 of 200 bytes, want %d: under minReserve", b.Cap(), before)
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		b, start := first(64 << 10)
		reserveRest(b, start, 100)
		if b.Available() < maxReserve || b.Cap() > 3*maxReserve {
			t.Errorf("%d bytes available of %d, want maxReserve (%d) or a little more", b.Available(), b.Cap(), maxReserve)
		}
	})
	t.Run("OtherWriters", func(t *testing.T) {
		var s strings.Builder
		if n := written(&s); n != -1 {
			t.Errorf("written = %d for a strings.Builder, want -1", n)
		}
		reserveRest(&s, -1, 19) // nothing to do, and no panic
		if s.Cap() != 0 {
			t.Errorf("a strings.Builder grew to %d", s.Cap())
		}
	})
}

// TestWriteStringsInPlace checks that a list of strings is appended to the
// executor's buffer in one piece: no allocation once the buffer has room,
// and the same bytes through another writer.
func TestWriteStringsInPlace(t *testing.T) {
	list := make([]string, 50)
	for i := range list {
		list[i] = fmt.Sprintf("tag%d", i)
	}
	var b bytes.Buffer
	writeStrings(&b, list)
	want := b.String()
	if allocs := testing.AllocsPerRun(100, func() {
		b.Reset()
		writeStrings(&b, list)
	}); allocs != 0 {
		t.Errorf("writeStrings into a buffer with room: %v allocations, want 0", allocs)
	}
	var other strings.Builder
	writeStrings(&other, list)
	if other.String() != want || b.String() != want {
		t.Errorf("writeStrings wrote %q through a Builder and %q again, want %q", other.String(), b.String(), want)
	}
}
