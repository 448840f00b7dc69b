package db

import (
	"slices"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
)

// TestInPageOrder puts comments in the order of a page read either way:
// newest first, ties by id, or the reverse when read from the end.
func TestInPageOrder(t *testing.T) {
	at := func(minute int) time.Time { return time.Date(2026, 1, 2, 3, minute, 0, 0, time.UTC) }
	mixed := func() []conduit.Comment {
		return []conduit.Comment{{ID: 2, CreatedAt: at(1)}, {ID: 4, CreatedAt: at(2)}, {ID: 1, CreatedAt: at(1)}, {ID: 3, CreatedAt: at(0)}}
	}
	ids := func(cs []conduit.Comment) []int64 {
		out := make([]int64, len(cs))
		for i, c := range cs {
			out[i] = c.ID
		}
		return out
	}
	for _, tc := range []struct {
		fromEnd bool
		want    []int64
	}{{false, []int64{4, 2, 1, 3}}, {true, []int64{3, 1, 2, 4}}} {
		cs := mixed()
		inPageOrder(cs, tc.fromEnd)
		if got := ids(cs); !slices.Equal(got, tc.want) {
			t.Errorf("fromEnd %v: ids %v, want %v", tc.fromEnd, got, tc.want)
		}
	}
}
