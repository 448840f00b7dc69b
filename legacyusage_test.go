package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/legacy"
	"github.com/conduit-dev/conduit/resolvers"
)

// TestLegacySettings checks that the retirement settings are read into
// the legacy handler's options, and that malformed or inconsistent ones
// stop the start with a message naming the variable.
func TestLegacySettings(t *testing.T) {
	t.Run("Read", func(t *testing.T) {
		c, err := loadConfig(env(map[string]string{
			"LEGACY_DEPRECATED_AT": "2027-01-01", "LEGACY_SUNSET_AT": "2027-06-01T12:00+02:00",
			"LEGACY_ROUTE_SUNSETS": "getTags=2027-03-01,getArticle=keep",
			"LEGACY_BROWNOUTS":     "getTags,getArticles 2027-03-01T14:00Z/1h 10%; * 2027-04-01T14:00Z/30m 100%",
			"LEGACY_GUIDE_URL":     "https://docs.example.com/migration", "LEGACY_API": "off",
			"LEGACY_USAGE_MAX_CLIENTS": "20", "LEGACY_USAGE_FLUSH_INTERVAL": "2s",
		}))
		if err != nil {
			t.Fatal(err)
		}
		o := c.legacy
		day := func(s string) time.Time { t.Helper(); v, _ := legacy.ParseTime(s); return v }
		if !o.DeprecatedAt.Equal(day("2027-01-01T00:00:00Z")) || !o.SunsetAt.Equal(day("2027-06-01T10:00:00Z")) || !o.Off ||
			o.GuideURL != "https://docs.example.com/migration" || len(o.RouteSunsets) != 2 ||
			!o.RouteSunsets["getTags"].At.Equal(day("2027-03-01")) || !o.RouteSunsets["getArticle"].Keep ||
			len(o.Brownouts) != 2 || o.Brownouts[0].Share != 0.1 || o.Brownouts[0].Duration != time.Hour ||
			len(o.Brownouts[0].Operations) != 2 || o.Brownouts[1].Operations != nil || o.Brownouts[1].Share != 1 ||
			c.legacyUsage.MaxClients != 20 || c.legacyUsage.FlushInterval != 2*time.Second || c.legacyUsageOff {
			t.Fatalf("legacy options = %+v, usage %+v", o, c.legacyUsage)
		}
		if c, _ := loadConfig(env(nil)); !c.legacy.DeprecatedAt.IsZero() || c.legacy.Off || c.legacyUsageOff {
			t.Fatalf("defaults: %+v, usage off %v; want no retirement and usage counted", c.legacy, c.legacyUsageOff)
		}
	})
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"LegacyAPINotABool", map[string]string{"LEGACY_API": "false"}, `LEGACY_API="false": want on or off`},
		{"DeprecatedNotATime", map[string]string{"LEGACY_DEPRECATED_AT": "next year"}, `LEGACY_DEPRECATED_AT="next year": "next year" is not a time`},
		{"DeprecatedWithoutZone", map[string]string{"LEGACY_DEPRECATED_AT": "2027-01-01T10:00"}, `LEGACY_DEPRECATED_AT="2027-01-01T10:00"`},
		{"SunsetNotATime", map[string]string{"LEGACY_DEPRECATED_AT": "2027-01-01", "LEGACY_SUNSET_AT": "2027-13-01"}, `LEGACY_SUNSET_AT="2027-13-01"`},
		{"SunsetAlone", map[string]string{"LEGACY_SUNSET_AT": "2027-06-01"}, "LEGACY_DEPRECATED_AT"},
		{"SunsetFirst", map[string]string{"LEGACY_DEPRECATED_AT": "2027-06-01", "LEGACY_SUNSET_AT": "2027-01-01"}, "the sunset (LEGACY_SUNSET_AT) 2027-01-01T00:00:00Z is before the deprecation"},
		{"RouteUnknown", map[string]string{"LEGACY_DEPRECATED_AT": "2027-01-01", "LEGACY_ROUTE_SUNSETS": "listArticles=2027-06-01"},
			`LEGACY_ROUTE_SUNSETS="listArticles=2027-06-01": "listArticles" is no operationId of the legacy API (they are login, register,`},
		{"RouteMalformed", map[string]string{"LEGACY_DEPRECATED_AT": "2027-01-01", "LEGACY_ROUTE_SUNSETS": "getTags:2027-06-01"}, `LEGACY_ROUTE_SUNSETS="getTags:2027-06-01": "getTags:2027-06-01": want operationId=TIME`},
		{"BrownoutMalformed", map[string]string{"LEGACY_DEPRECATED_AT": "2027-01-01", "LEGACY_BROWNOUTS": "getTags 2027-03-01T14:00Z 10%"}, `LEGACY_BROWNOUTS="getTags 2027-03-01T14:00Z 10%": "getTags 2027-03-01T14:00Z 10%": want OPERATIONS`},
		{"BrownoutTooMuch", map[string]string{"LEGACY_DEPRECATED_AT": "2027-01-01", "LEGACY_BROWNOUTS": "getTags 2027-03-01T14:00Z/1h 150%"}, `LEGACY_BROWNOUTS=`},
		{"BrownoutUnannounced", map[string]string{"LEGACY_BROWNOUTS": "getTags 2027-03-01T14:00Z/1h 10%"}, "brownouts need a deprecation date to announce them first (LEGACY_DEPRECATED_AT)"},
		{"BrownoutOfAKeptRoute", map[string]string{"LEGACY_DEPRECATED_AT": "2027-01-01", "LEGACY_ROUTE_SUNSETS": "getTags=keep", "LEGACY_BROWNOUTS": "getTags 2027-03-01T14:00Z/1h 10%"}, "getTags is kept (LEGACY_ROUTE_SUNSETS=getTags=keep)"},
		{"GuideRelative", map[string]string{"LEGACY_GUIDE_URL": "docs/migration.md"}, "the guide URL"},
		{"UsageNotABool", map[string]string{"LEGACY_USAGE": "yes"}, `LEGACY_USAGE="yes": want on or off`},
		{"MaxClientsZero", map[string]string{"LEGACY_USAGE_MAX_CLIENTS": "0"}, `LEGACY_USAGE_MAX_CLIENTS="0"`},
		{"FlushTooOften", map[string]string{"LEGACY_USAGE_FLUSH_INTERVAL": "1ms"}, `LEGACY_USAGE_FLUSH_INTERVAL="1ms"`},
	} {
		t.Run("Err"+c.name, func(t *testing.T) {
			_, err := loadConfig(env(c.env))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// replicaClock is the fixed time of one replica's calls.
func replicaClock(s string) func() time.Time {
	t, err := legacy.ParseTime(s)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t }
}

// TestLegacyUsageAcrossReplicas runs two replicas (each its own pool,
// service, handler and usage counter) on one database, calls both at once
// over HTTP while each writes its counts every 20 ms, stops them as the
// server stops, and checks that the stored totals are the sum of both,
// exactly, and that `conduit legacy-usage` reports them.
func TestLegacyUsageAcrossReplicas(t *testing.T) {
	url := dbtest.NewURL(t)
	ctx := context.Background()
	type replica struct {
		srv  *httptest.Server
		stop func()
	}
	var token string
	var replicas []replica
	for _, at := range []string{"2027-03-01T14:10:00Z", "2027-03-01T14:50:00Z"} {
		store, err := db.Open(ctx, url, db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(store.Close)
		svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte(replicaSecret), BcryptCost: 4})
		if err != nil {
			t.Fatal(err)
		}
		if token == "" {
			s, err := svc.Register(ctx, conduit.RegisterInput{Username: "jake", Email: "jake@jake.jake", Password: "jakejake"})
			if err != nil {
				t.Fatal(err)
			}
			token = s.Token
		}
		u := legacy.NewUsage(store, legacy.UsageOptions{FlushInterval: 20 * time.Millisecond})
		stop := u.Start(5 * time.Second)
		h := app.New(app.Config{
			Logger: slog.New(slog.DiscardHandler), GraphQL: resolvers.DefaultOptions(),
			Legacy: legacy.Options{Usage: u, Now: replicaClock(at)},
		}, svc, store)
		srv := httptest.NewServer(h.Public)
		t.Cleanup(srv.Close)
		replicas = append(replicas, replica{srv, stop})
	}

	// What each replica is sent: path, client, signed in, how often.
	plan := []struct {
		path, header, value string
		signedIn            bool
		n                   int
	}{
		{"/api/tags", "X-Client-Name", "ios-app", false, 120},
		{"/api/tags", "User-Agent", "curl/8.5.0", false, 60},
		{"/api/tags", "X-Client-Name", "web", false, 20},
		{"/api/articles", "X-Client-Name", "ios-app", true, 50},
		{"/api/articles", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", false, 30},
		{"/api/profiles/jake", "User-Agent", "python-requests/2.31.0", true, 10},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, r := range replicas {
		for _, p := range plan {
			// Several workers per kind of call, so that calls and flushes
			// overlap on both replicas.
			for w := range 2 {
				wg.Go(func() {
					for range p.n/2 + w*(p.n%2) {
						req, _ := http.NewRequest("GET", r.srv.URL+p.path, nil)
						req.Header.Set(p.header, p.value)
						if p.signedIn {
							req.Header.Set("Authorization", "Token "+token)
						}
						res, err := r.srv.Client().Do(req)
						if err != nil {
							errs <- err
							return
						}
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != http.StatusOK {
							errs <- &statusError{p.path, res.StatusCode}
							return
						}
					}
				})
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, r := range replicas {
		r.stop() // the last write, as at shutdown
	}

	if got := dbtest.QueryInt(t, url, `SELECT sum(calls) FROM legacy_usage`); got != 580 {
		t.Errorf("calls stored = %d, want 580 (290 per replica)", got)
	}
	for _, c := range []struct {
		operation, client string
		signedIn          bool
		want              int64
	}{
		{"getTags", "ios-app", false, 240}, {"getTags", "curl", false, 120}, {"getTags", "web", false, 40},
		{"getArticles", "ios-app", true, 100}, {"getArticles", "Chrome", false, 60}, {"getProfile", "python-requests", true, 20},
	} {
		got := dbtest.QueryInt(t, url, `SELECT coalesce(sum(calls), 0) FROM legacy_usage WHERE operation = $1 AND client = $2 AND signed_in = $3`,
			c.operation, c.client, c.signedIn)
		if got != c.want {
			t.Errorf("%s by %s (signed in %v) = %d, want %d", c.operation, c.client, c.signedIn, got, c.want)
		}
	}
	// One hour, so one row per operation, client and signed in: the
	// replicas added to the same rows.
	if got := dbtest.QueryInt(t, url, `SELECT count(*) FROM legacy_usage`); got != 6 {
		t.Errorf("rows = %d, want 6", got)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"conduit", "legacy-usage", "-since", "2027-03-01"},
		env(map[string]string{"DATABASE_URL": url, "EMBEDDED_DATABASE": "false"}), &out); err != nil {
		t.Fatal(err)
	}
	const want = `Calls to the legacy REST API since 2027-03-01 00:00, from every replica (times in UTC)

OPERATION    CALLS  SIGNED IN  CLIENTS  TOP CLIENTS                    FIRST CALL           LAST CALL
getTags        400          0        3  ios-app 240, curl 120, web 40  2027-03-01 14:10:00  2027-03-01 14:50:00
getArticles    160        100        2  ios-app 100, Chrome 60         2027-03-01 14:10:00  2027-03-01 14:50:00
getProfile      20         20        1  python-requests 20             2027-03-01 14:10:00  2027-03-01 14:50:00

Not called: login, register, getCurrentUser, updateCurrentUser, followUser, unfollowUser, getArticlesFeed, createArticle, getArticle, updateArticle, deleteArticle, getArticleComments, createArticleComment, deleteArticleComment, createArticleFavorite, deleteArticleFavorite
`
	if out.String() != want {
		t.Errorf("legacy-usage printed\n%s\nwant\n%s", out.String(), want)
	}

	// A window after the calls finds none.
	out.Reset()
	if err := run(ctx, []string{"conduit", "legacy-usage", "-since", "2027-03-01T15:00Z"},
		env(map[string]string{"DATABASE_URL": url, "EMBEDDED_DATABASE": "false"}), &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "since 2027-03-01 15:00") || !strings.Contains(got, "\nNo calls.\n") {
		t.Errorf("legacy-usage -since 2027-03-01T15:00Z printed\n%s", got)
	}
	if err := run(ctx, []string{"conduit", "legacy-usage", "-since", "last week"}, env(nil), &out); err == nil || !strings.Contains(err.Error(), `-since "last week"`) {
		t.Errorf("-since \"last week\": err = %v, want a refusal naming it", err)
	}
}

type statusError struct {
	path   string
	status int
}

func (e *statusError) Error() string { return e.path + ": status " + http.StatusText(e.status) }

// TestServeWritesUsageAtShutdown checks the server's wiring: with writes
// an hour apart, the calls made reach the database when the server stops,
// before it closes its pool.
func TestServeWritesUsageAtShutdown(t *testing.T) {
	url := dbtest.NewURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"conduit"}, env(map[string]string{
			"ADDR": "127.0.0.1:0", "DATABASE_URL": url, "EMBEDDED_DATABASE": "false", "JWT_SECRET": replicaSecret,
			"LOG_FORMAT": "json", "LEGACY_USAGE_FLUSH_INTERVAL": "1h",
		}), &out)
	}()
	base := waitListening(t, &out, done)
	for range 7 {
		req, _ := http.NewRequest("GET", base+"/api/tags", nil)
		req.Header.Set("X-Client-Name", "shutdown-test")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if got := dbtest.QueryInt(t, url, `SELECT count(*) FROM legacy_usage`); got != 0 {
		t.Fatalf("%d rows before the shutdown, want none yet (writes are an hour apart)", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if got := dbtest.QueryInt(t, url, `SELECT sum(calls) FROM legacy_usage WHERE operation = 'getTags' AND client = 'shutdown-test'`); got != 7 {
		t.Errorf("calls written at shutdown = %d, want 7", got)
	}
}
