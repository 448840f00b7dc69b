package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestAddUsage checks that batches add up, that a batch sent again (after
// a write whose answer was lost) is applied once, and that an older batch
// of a writer is ignored while other writers' batches are not.
func TestAddUsage(t *testing.T) {
	d, url := dbtest.NewWithURL(t)
	ctx := context.Background()
	hour := time.Date(2027, 3, 1, 14, 0, 0, 0, time.UTC)
	count := func(client string, calls int64, minute int) conduit.UsageCount {
		at := hour.Add(time.Duration(minute) * time.Minute)
		return conduit.UsageCount{Bucket: hour, Operation: "getTags", Client: client, Calls: calls, FirstSeen: at, LastSeen: at}
	}
	add := func(writer string, seq int64, counts ...conduit.UsageCount) {
		t.Helper()
		if err := d.AddUsage(ctx, conduit.UsageBatch{Writer: writer, Seq: seq, Counts: counts}); err != nil {
			t.Fatal(err)
		}
	}
	add("a", 1, count("curl", 3, 10), count("web", 1, 12))
	add("a", 1, count("curl", 3, 10), count("web", 1, 12)) // sent again
	add("a", 2, count("curl", 2, 30))
	add("a", 1, count("curl", 100, 0)) // older than the last applied
	add("b", 1, count("curl", 5, 5))   // another writer, same row
	got := func(client string) string {
		var calls int64
		var first, last time.Time
		var s string
		calls = dbtest.QueryInt(t, url, `SELECT calls FROM legacy_usage WHERE client = $1`, client)
		us, err := d.UsageSince(ctx, hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			if u.Client == client {
				first, last = u.FirstSeen, u.LastSeen
				s = fmt.Sprintf("%d %d %s %s", calls, u.Calls, first.Format("15:04"), last.Format("15:04"))
			}
		}
		return s
	}
	if g, want := got("curl"), "10 10 14:05 14:30"; g != want {
		t.Errorf("curl: %q, want %q", g, want)
	}
	if g, want := got("web"), "1 1 14:12 14:12"; g != want {
		t.Errorf("web: %q, want %q", g, want)
	}
	if us, err := d.UsageSince(ctx, hour.Add(time.Hour)); err != nil || len(us) != 0 {
		t.Errorf("since the next hour: %v, %v; want nothing", us, err)
	}
}
