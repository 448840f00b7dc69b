package legacy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/legacy"
)

// TestClientOf checks how callers are named: X-Client-Name cleaned and
// bounded, else the family of the User-Agent.
func TestClientOf(t *testing.T) {
	for _, c := range []struct{ name, ua, want string }{
		{"ios-app/4.2", "okhttp/4.12.0", "ios-app/4.2"},
		{"  my  app ☃ (beta) ", "", "my-app-beta"},
		{"(other)", "", "other"}, // no one can pass as the overflow
		{strings.Repeat("a", 100), "", strings.Repeat("a", 64)},
		{strings.Repeat("é", 40) + "x", "curl/8.5.0", "x"},
		{"☃", "curl/8.5.0", "curl"}, // nothing left: the User-Agent names it
		{"", "curl/8.5.0", "curl"},
		{"", "Wget/1.21.4", "Wget"},
		{"", "python-requests/2.31.0", "python-requests"},
		{"", "Python/3.12 aiohttp/3.9.5", "aiohttp"},
		{"", "okhttp/4.12.0", "okhttp"},
		{"", "Go-http-client/1.1", "Go-http-client"},
		{"", "axios/1.7.2", "axios"},
		{"", "PostmanRuntime/7.39.0", "PostmanRuntime"},
		{"", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome"},
		{"", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge"},
		{"", "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", "Firefox"},
		{"", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari"},
		{"", "Mozilla/5.0 (compatible; MSIE 9.0)", "other"},
		{"", "SomeBot/1.0", "other"},
		{"", "", "none"},
	} {
		r := httptest.NewRequest("GET", "/api/tags", nil)
		if c.name != "" {
			r.Header.Set(legacy.ClientNameHeader, c.name)
		}
		if c.ua != "" {
			r.Header.Set("User-Agent", c.ua)
		}
		if got := legacy.ClientOf(r); got != c.want {
			t.Errorf("ClientOf(name %q, User-Agent %q) = %q, want %q", c.name, c.ua, got, c.want)
		}
	}
}

// usageRow is a row of legacy_usage.
type usageRow struct {
	Bucket    time.Time
	Operation string
	Client    string
	SignedIn  bool
	Calls     int64
	FirstSeen time.Time
	LastSeen  time.Time
}

func (r usageRow) String() string {
	return fmt.Sprintf("%s %s %s signed_in=%v calls=%d first=%s last=%s", r.Bucket.UTC().Format(time.RFC3339), r.Operation, r.Client,
		r.SignedIn, r.Calls, r.FirstSeen.UTC().Format(time.RFC3339Nano), r.LastSeen.UTC().Format(time.RFC3339Nano))
}

// usageRows reads legacy_usage in key order.
func usageRows(t testing.TB, url string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT bucket, operation, client, signed_in, calls, first_seen, last_seen
		FROM legacy_usage ORDER BY bucket, operation, client COLLATE "C", signed_in`)
	got, err := pgx.CollectRows(rows, pgx.RowToStructByName[usageRow])
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(got))
	for i, r := range got {
		out[i] = r.String()
	}
	return out
}

func sameLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// newUsageAPI is the API counting its usage in its own database, on clk.
func newUsageAPI(t *testing.T, clk *clock, opts legacy.UsageOptions) (*api, *legacy.Usage) {
	t.Helper()
	var u *legacy.Usage
	a := newAPIOn(t, func(c *app.Config, _ *conduit.Config, store *db.DB) {
		u = legacy.NewUsage(store, opts)
		c.PublicMetrics = true
		c.Legacy.Usage, c.Legacy.Now = u, clk.Now
	})
	return a, u
}

// callMetrics are the series of conduit_legacy_calls_total on /metrics.
func callMetrics(t *testing.T, a *api) []string {
	t.Helper()
	res, err := a.srv.Client().Get(a.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "conduit_legacy_calls_total{") {
			got = append(got, l)
		}
	}
	return got
}

func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// TestUsageRecorded calls the API over HTTP and checks the rows that one
// flush writes to PostgreSQL, then that a second flush adds to them.
func TestUsageRecorded(t *testing.T) {
	clk := &clock{now: mustTime(t, "2027-03-01T14:10:00Z")}
	a, u := newUsageAPI(t, clk, legacy.UsageOptions{})
	s, err := a.svc.Register(context.Background(), conduit.RegisterInput{Username: "jake", Email: "jake@jake.jake", Password: "jakejake"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	a.doWith("GET", "/api/tags", "", "", headers("X-Client-Name", "ios-app/4.2", "User-Agent", "okhttp/4.12.0"))
	a.doWith("GET", "/api/tags", "", "", headers("User-Agent", "curl/8.5.0"))
	clk.set(mustTime(t, "2027-03-01T14:20:00.5Z"))
	a.doWith("GET", "/api/tags", "", "", headers("User-Agent", "curl/8.5.0"))
	a.doWith("GET", "/api/user", s.Token, "", headers("User-Agent", "python-requests/2.31.0"))
	a.doWith("GET", "/api/user", "", "", headers("User-Agent", "python-requests/2.31.0")) // 401, counted all the same
	a.doWith("GET", "/api/articles/nothing-here", "", "", headers("X-Client-Name", "  my  app ☃ (beta) "))
	a.doWith("GET", "/api/nothing", "", "", nil)      // no operation: not counted
	a.doWith("GET", "/api/openapi.json", "", "", nil) // the document: not counted
	clk.set(mustTime(t, "2027-03-01T15:05:00Z"))
	a.doWith("GET", "/api/articles", s.Token, "", headers("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"))

	if rows := usageRows(t, a.dbURL); len(rows) != 0 {
		t.Fatalf("rows before the flush: %q; the hot path must not write", rows)
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2027-03-01T14:00:00Z getArticle my-app-beta signed_in=false calls=1 first=2027-03-01T14:20:00.5Z last=2027-03-01T14:20:00.5Z",
		"2027-03-01T14:00:00Z getCurrentUser python-requests signed_in=false calls=1 first=2027-03-01T14:20:00.5Z last=2027-03-01T14:20:00.5Z",
		"2027-03-01T14:00:00Z getCurrentUser python-requests signed_in=true calls=1 first=2027-03-01T14:20:00.5Z last=2027-03-01T14:20:00.5Z",
		"2027-03-01T14:00:00Z getTags curl signed_in=false calls=2 first=2027-03-01T14:10:00Z last=2027-03-01T14:20:00.5Z",
		"2027-03-01T14:00:00Z getTags ios-app/4.2 signed_in=false calls=1 first=2027-03-01T14:10:00Z last=2027-03-01T14:10:00Z",
		"2027-03-01T15:00:00Z getArticles Chrome signed_in=true calls=1 first=2027-03-01T15:05:00Z last=2027-03-01T15:05:00Z",
	}
	sameLines(t, "legacy_usage after the first flush", usageRows(t, a.dbURL), want)

	// The next flush adds to the rows; one with nothing new writes nothing.
	statements := a.store.Statements()
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := a.store.Statements() - statements; n != 0 {
		t.Errorf("an empty flush ran %d statements, want 0", n)
	}
	clk.set(mustTime(t, "2027-03-01T14:59:00Z"))
	for range 3 {
		a.doWith("GET", "/api/tags", "", "", headers("User-Agent", "curl/8.5.0"))
	}
	statements = a.store.Statements()
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := a.store.Statements() - statements; n != 1 {
		t.Errorf("a flush ran %d statements, want 1", n)
	}
	want[3] = "2027-03-01T14:00:00Z getTags curl signed_in=false calls=5 first=2027-03-01T14:10:00Z last=2027-03-01T14:59:00Z"
	sameLines(t, "legacy_usage after the second flush", usageRows(t, a.dbURL), want)

	// /metrics counts the same calls.
	sameLines(t, "/metrics", callMetrics(t, a), []string{
		`conduit_legacy_calls_total{client="Chrome",operation="getArticles",signed_in="true"} 1`,
		`conduit_legacy_calls_total{client="curl",operation="getTags",signed_in="false"} 5`,
		`conduit_legacy_calls_total{client="ios-app/4.2",operation="getTags",signed_in="false"} 1`,
		`conduit_legacy_calls_total{client="my-app-beta",operation="getArticle",signed_in="false"} 1`,
		`conduit_legacy_calls_total{client="python-requests",operation="getCurrentUser",signed_in="false"} 1`,
		`conduit_legacy_calls_total{client="python-requests",operation="getCurrentUser",signed_in="true"} 1`,
	})
}

// TestUsageBoundsClients checks that a replica tells apart at most
// MaxClients clients per hour, counting the rest as (other), in the table
// and in /metrics, and starts afresh the next hour (the metrics do not).
func TestUsageBoundsClients(t *testing.T) {
	clk := &clock{now: mustTime(t, "2027-03-01T14:00:00Z")}
	a, u := newUsageAPI(t, clk, legacy.UsageOptions{MaxClients: 3})
	call := func(client string, n int) {
		for range n {
			a.doWith("GET", "/api/tags", "", "", headers("X-Client-Name", client))
		}
	}
	call("a", 1)
	call("b", 2)
	// A flush in between does not reset the bound: it holds for the hour.
	if err := u.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	call("c", 1)
	call("d", 3)
	call("e", 1)
	call("a", 1)
	clk.set(mustTime(t, "2027-03-01T15:00:00Z"))
	call("e", 1)
	call("f", 1)
	if err := u.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	at := func(hour, client string, calls int, first, last string) string {
		return fmt.Sprintf("2027-03-01T%s:00:00Z getTags %s signed_in=false calls=%d first=2027-03-01T%sZ last=2027-03-01T%sZ", hour, client, calls, first, last)
	}
	sameLines(t, "legacy_usage", usageRows(t, a.dbURL), []string{
		at("14", "(other)", 4, "14:00:00", "14:00:00"),
		at("14", "a", 2, "14:00:00", "14:00:00"),
		at("14", "b", 2, "14:00:00", "14:00:00"),
		at("14", "c", 1, "14:00:00", "14:00:00"),
		at("15", "e", 1, "15:00:00", "15:00:00"),
		at("15", "f", 1, "15:00:00", "15:00:00"),
	})
	// The metrics name the first three clients of the process's life.
	sameLines(t, "/metrics", callMetrics(t, a), []string{
		`conduit_legacy_calls_total{client="(other)",operation="getTags",signed_in="false"} 6`,
		`conduit_legacy_calls_total{client="a",operation="getTags",signed_in="false"} 2`,
		`conduit_legacy_calls_total{client="b",operation="getTags",signed_in="false"} 2`,
		`conduit_legacy_calls_total{client="c",operation="getTags",signed_in="false"} 1`,
	})
}

// TestUsageKeptWhenWriteFails checks that counts a failed write could not
// store are written by the next flush, none lost and none twice.
func TestUsageKeptWhenWriteFails(t *testing.T) {
	clk := &clock{now: mustTime(t, "2027-03-01T14:00:00Z")}
	a, u := newUsageAPI(t, clk, legacy.UsageOptions{})
	ctx := context.Background()
	a.doWith("GET", "/api/tags", "", "", headers("X-Client-Name", "web"))
	dbtest.Exec(t, a.dbURL, `ALTER TABLE legacy_usage RENAME TO legacy_usage_away`)
	if err := u.Flush(ctx); err == nil {
		t.Fatal("flush without the table succeeded")
	}
	a.doWith("GET", "/api/tags", "", "", headers("X-Client-Name", "web"))
	a.doWith("GET", "/api/tags", "", "", headers("X-Client-Name", "cli"))
	dbtest.Exec(t, a.dbURL, `ALTER TABLE legacy_usage_away RENAME TO legacy_usage`)
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sameLines(t, "legacy_usage", usageRows(t, a.dbURL), []string{
		"2027-03-01T14:00:00Z getTags cli signed_in=false calls=1 first=2027-03-01T14:00:00Z last=2027-03-01T14:00:00Z",
		"2027-03-01T14:00:00Z getTags web signed_in=false calls=2 first=2027-03-01T14:00:00Z last=2027-03-01T14:00:00Z",
	})
}

// BenchmarkUsageRecord measures what counting costs a request: naming the
// client from its headers and counting the call in memory.
func BenchmarkUsageRecord(b *testing.B) {
	u := legacy.NewUsage(nil, legacy.UsageOptions{})
	now := time.Date(2027, 3, 1, 14, 0, 0, 0, time.UTC)
	uas := []string{
		"curl/8.5.0", "python-requests/2.31.0", "okhttp/4.12.0",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	}
	reqs := make([]*http.Request, 0, len(uas)+1)
	for _, ua := range uas {
		r := httptest.NewRequest("GET", "/api/tags", nil)
		r.Header.Set("User-Agent", ua)
		reqs = append(reqs, r)
	}
	named := httptest.NewRequest("GET", "/api/tags", nil)
	named.Header.Set(legacy.ClientNameHeader, "ios-app/4.2")
	reqs = append(reqs, named)
	ops := []string{"getTags", "getArticles", "getArticle", "createArticleFavorite"}
	b.Run("Serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			r := reqs[i%len(reqs)]
			u.Record(now, ops[i%len(ops)], legacy.ClientOf(r), i%2 == 0)
			i++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				r := reqs[i%len(reqs)]
				u.Record(now, ops[i%len(ops)], legacy.ClientOf(r), i%2 == 0)
				i++
			}
		})
	})
}
