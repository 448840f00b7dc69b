package legacy_test

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/legacy"
)

// replacements are each operation's GraphQL replacement and the fragment
// of its section in docs/migration.md, written out so that a change to
// either in the route table shows here.
var replacements = map[string][2]string{
	"login":                 {"Mutation.login", "login"},
	"register":              {"Mutation.register", "register"},
	"getCurrentUser":        {"Query.viewer", "viewer"},
	"updateCurrentUser":     {"Mutation.updateViewer", "updateviewer"},
	"getProfile":            {"Query.profile", "profile"},
	"followUser":            {"Mutation.followProfile", "followprofile"},
	"unfollowUser":          {"Mutation.unfollowProfile", "unfollowprofile"},
	"getArticlesFeed":       {"Query.feed", "feed"},
	"getArticles":           {"Query.articles", "articles"},
	"createArticle":         {"Mutation.createArticle", "createarticle"},
	"getArticle":            {"Query.article", "article"},
	"updateArticle":         {"Mutation.updateArticle", "updatearticle"},
	"deleteArticle":         {"Mutation.deleteArticle", "deletearticle"},
	"getArticleComments":    {"Article.comments", "articlecomments"},
	"createArticleComment":  {"Mutation.addComment", "addcomment"},
	"deleteArticleComment":  {"Mutation.deleteComment", "deletecomment"},
	"createArticleFavorite": {"Mutation.favoriteArticle", "favoritearticle"},
	"deleteArticleFavorite": {"Mutation.unfavoriteArticle", "unfavoritearticle"},
	"getTags":               {"Query.tags", "tags"},
}

// concrete fills a route's path parameters with values that name nothing.
func concrete(path string) string {
	return strings.NewReplacer("{slug}", "no-such-slug", "{username}", "nobody", "{id}", "1").Replace(path)
}

// wantLink is the Link header of an operation with the default guide.
func wantLink(op string) string {
	r := replacements[op]
	return `</docs/migration.md#` + r[1] + `>; rel="deprecation"; type="text/markdown"; title="replaced by the GraphQL field ` + r[0] + `"`
}

// withLegacy builds the API with the legacy handler's options set by tune.
func withLegacy(t *testing.T, tune func(*legacy.Options)) *api {
	t.Helper()
	return newAPIWith(t, func(c *app.Config, _ *conduit.Config) { tune(&c.Legacy) })
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := legacy.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRetirementSignals checks the Deprecation, Sunset and Link headers of
// every operation: none by default, and exactly the configured ones, with
// per-route overrides, once the deprecation is announced.
func TestRetirementSignals(t *testing.T) {
	if got := len(legacy.Routes()); got != len(replacements) {
		t.Fatalf("%d routes, %d replacements written here", got, len(replacements))
	}
	for _, r := range legacy.Routes() {
		if want := replacements[r.OperationID]; r.GraphQL != want[0] || r.Guide != want[1] {
			t.Errorf("%s: GraphQL %s, guide #%s; want %s, #%s", r.OperationID, r.GraphQL, r.Guide, want[0], want[1])
		}
	}
	t.Run("OffByDefault", func(t *testing.T) {
		t.Parallel()
		a := newAPI(t)
		for _, r := range legacy.Routes() {
			res := a.do(r.Method, concrete(r.Path), "", "")
			for _, h := range []string{"Deprecation", "Sunset", "Link"} {
				if v, ok := res.header[h]; ok {
					t.Errorf("%s %s (%d): %s = %q, want none", r.Method, r.Path, res.status, h, v)
				}
			}
		}
	})
	t.Run("Configured", func(t *testing.T) {
		t.Parallel()
		a := withLegacy(t, func(o *legacy.Options) {
			o.DeprecatedAt = mustTime(t, "2027-01-01")
			o.SunsetAt = mustTime(t, "2027-06-01")
			o.RouteSunsets = map[string]legacy.RouteSunset{
				"getTags":    {At: mustTime(t, "2027-03-01T13:00+01:00")},
				"getArticle": {Keep: true},
			}
		})
		for _, r := range legacy.Routes() {
			res := a.do(r.Method, concrete(r.Path), "", "")
			want := map[string]string{"Deprecation": "@1798761600", "Sunset": "Tue, 01 Jun 2027 00:00:00 GMT", "Link": wantLink(r.OperationID)}
			switch r.OperationID {
			case "getTags":
				want["Sunset"] = "Mon, 01 Mar 2027 12:00:00 GMT"
			case "getArticle":
				want = map[string]string{}
			}
			for _, h := range []string{"Deprecation", "Sunset", "Link"} {
				got, sent := res.header[h]
				w, wanted := want[h]
				if sent != wanted || sent && (len(got) != 1 || got[0] != w) {
					t.Errorf("%s %s (%d): %s = %q, want %q", r.Method, r.Path, res.status, h, got, w)
				}
			}
		}
		// A success carries them too, and the body is what it always was.
		a.do("GET", "/api/tags", "", "").expect(t, http.StatusOK, `{"tags":[]}`)
	})
	t.Run("OwnGuide", func(t *testing.T) {
		t.Parallel()
		a := withLegacy(t, func(o *legacy.Options) {
			o.DeprecatedAt = mustTime(t, "2027-01-01T00:00:00Z")
			o.GuideURL = "https://docs.example.com/conduit/migration"
		})
		res := a.do("POST", "/api/articles/x/favorite", "", "")
		want := `<https://docs.example.com/conduit/migration#favoritearticle>; rel="deprecation"; type="text/markdown"; title="replaced by the GraphQL field Mutation.favoriteArticle"`
		if got := res.header.Get("Link"); got != want {
			t.Errorf("Link = %q, want %q", got, want)
		}
		if got := res.header.Get("Sunset"); got != "" {
			t.Errorf("Sunset = %q without a sunset, want none", got)
		}
	})
}

// clock is a settable time for the handler.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// countingRand is a seeded source that counts its draws.
type countingRand struct {
	r     *rand.Rand
	draws int
}

func (c *countingRand) Float64() float64 { c.draws++; return c.r.Float64() }

// TestBrownout checks a window that refuses 10% of the calls to getTags:
// inside it, exactly the calls the seeded source picks get the 410 (body
// and headers exact), and no other route is touched; outside it nothing is
// refused and the source is not even asked.
func TestBrownout(t *testing.T) {
	brownouts, err := legacy.ParseBrownouts("getTags,getProfile 2027-03-01T14:00Z/1h 10%; * 2027-04-01T00:00Z/1m 100%")
	if err != nil {
		t.Fatal(err)
	}
	const seed1, seed2 = 7, 11
	clk := &clock{now: mustTime(t, "2027-03-01T13:59:59Z")}
	src := &countingRand{r: rand.New(rand.NewPCG(seed1, seed2))}
	a := withLegacy(t, func(o *legacy.Options) {
		o.DeprecatedAt = mustTime(t, "2027-01-01")
		o.SunsetAt = mustTime(t, "2027-06-01")
		o.RouteSunsets = map[string]legacy.RouteSunset{"getArticle": {Keep: true}}
		o.Brownouts = brownouts
		o.Now, o.Rand = clk.Now, src.Float64
	})
	const tagsGone = `{"errors":{"body":["GET /api/tags is being retired: this call was refused on purpose, in a brownout that lasts until 2027-03-01T15:00:00Z, to warn its clients. Use the GraphQL field Query.tags (POST /graphql) instead; /docs/migration.md#tags shows how."]}}`
	wantGone := func(t *testing.T, res response, body, op string) {
		t.Helper()
		res.expect(t, http.StatusGone, body)
		for h, want := range map[string]string{
			"Cache-Control": "no-store", "Deprecation": "@1798761600", "Sunset": "Tue, 01 Jun 2027 00:00:00 GMT", "Link": wantLink(op),
		} {
			if got := res.header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
	}

	t.Run("Before", func(t *testing.T) {
		for range 50 {
			a.do("GET", "/api/tags", "", "").expect(t, http.StatusOK, `{"tags":[]}`)
		}
		if src.draws != 0 {
			t.Errorf("%d draws outside the window, want 0", src.draws)
		}
	})
	t.Run("During", func(t *testing.T) {
		clk.set(mustTime(t, "2027-03-01T14:00:00Z"))
		replay := rand.New(rand.NewPCG(seed1, seed2))
		const calls = 400
		refused := 0
		for i := range calls {
			if i == calls/2 {
				clk.set(mustTime(t, "2027-03-01T14:59:59.999Z"))
			}
			res := a.do("GET", "/api/tags", "", "")
			if replay.Float64() < 0.10 {
				refused++
				wantGone(t, res, tagsGone, "getTags")
			} else {
				res.expect(t, http.StatusOK, `{"tags":[]}`)
			}
		}
		if src.draws != calls {
			t.Errorf("%d draws for %d calls, want one each", src.draws, calls)
		}
		// The seeded source refuses about a tenth, as asked.
		if refused < calls/20 || refused > calls*3/20 {
			t.Errorf("%d of %d refused, want about 10%%", refused, calls)
		}
		// Routes the window does not name are served as ever.
		for range 20 {
			a.do("GET", "/api/articles", "", "").expect(t, http.StatusOK, `{"articles":[],"articlesCount":0}`)
		}
		if src.draws != calls {
			t.Errorf("routes outside the window drew from the source")
		}
	})
	t.Run("After", func(t *testing.T) {
		clk.set(mustTime(t, "2027-03-01T15:00:00Z"))
		draws := src.draws
		for range 50 {
			a.do("GET", "/api/tags", "", "").expect(t, http.StatusOK, `{"tags":[]}`)
		}
		if src.draws != draws {
			t.Errorf("%d draws after the window, want 0", src.draws-draws)
		}
	})
	t.Run("EveryRoute", func(t *testing.T) {
		clk.set(mustTime(t, "2027-04-01T00:00:30Z"))
		for _, r := range legacy.Routes() {
			res := a.do(r.Method, concrete(r.Path), "", "")
			if r.OperationID == "getArticle" {
				// Kept: no brownout refuses it.
				res.expect(t, http.StatusNotFound, `{"errors":{"body":["article not found"]}}`)
				continue
			}
			repl := replacements[r.OperationID]
			wantGone(t, res, `{"errors":{"body":["`+r.Method+` `+r.Path+` is being retired: this call was refused on purpose, in a brownout that lasts until 2027-04-01T00:01:00Z, to warn its clients. Use the GraphQL field `+
				repl[0]+` (POST /graphql) instead; /docs/migration.md#`+repl[1]+` shows how."]}}`, r.OperationID)
		}
	})
}

// TestSwitchedOff checks LEGACY_API=off: every operation answers 410
// naming its replacement, whatever the request; the document is served.
func TestSwitchedOff(t *testing.T) {
	a := withLegacy(t, func(o *legacy.Options) { o.Off = true })
	for _, r := range legacy.Routes() {
		repl := replacements[r.OperationID]
		res := a.do(r.Method, concrete(r.Path), "Token not-a-jwt", `{"user":{}}`)
		res.expect(t, http.StatusGone, `{"errors":{"body":["`+r.Method+` `+r.Path+` has been retired. Use the GraphQL field `+repl[0]+
			` (POST /graphql) instead; /docs/migration.md#`+repl[1]+` shows how."]}}`)
		if got := res.header.Get("Link"); got != wantLink(r.OperationID) {
			t.Errorf("%s: Link = %q, want %q", r.OperationID, got, wantLink(r.OperationID))
		}
		if got := res.header.Get("Deprecation"); got != "" {
			t.Errorf("%s: Deprecation = %q without LEGACY_DEPRECATED_AT, want none", r.OperationID, got)
		}
	}
	if res := a.do("GET", "/api/openapi.json", "", ""); res.status != http.StatusOK {
		t.Errorf("/api/openapi.json = %d, want 200", res.status)
	}
	a.do("GET", "/api/nothing", "", "").expect(t, http.StatusNotFound, `{"errors":{"body":["no such endpoint: GET /api/nothing"]}}`)
}

// TestRetirementSettingsRefused checks that malformed retirement settings
// are refused with a message that says what is wrong.
func TestRetirementSettingsRefused(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2027-3-1", "is not a time"},
		{"2027-03-01T14:00", "is not a time"}, // no zone
		{"tomorrow", "is not a time"},
	} {
		if _, err := legacy.ParseTime(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseTime(%q): %v, want %q", c.in, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"getTags", "want operationId=TIME"},
		{"getTags=", "want operationId=TIME"},
		{"listArticles=2027-01-01", `"listArticles" is no operationId`},
		{"getTags=soon", "is not a time"},
		{"getTags=keep,getTags=2027-01-01", "named twice"},
		{"getTags=keep,", "want operationId=TIME"},
	} {
		if _, err := legacy.ParseRouteSunsets(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseRouteSunsets(%q): %v, want %q", c.in, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"getTags 2027-03-01T14:00Z/1h", "want OPERATIONS START/DURATION PERCENT%"},
		{"getTags 2027-03-01T14:00Z 10%", "want OPERATIONS START/DURATION PERCENT%"},
		{"listArticles 2027-03-01T14:00Z/1h 10%", `"listArticles" is no operationId`},
		{"getTags,getTags 2027-03-01T14:00Z/1h 10%", "named twice"},
		{"getTags 2027-03-01T14:00/1h 10%", "is not a time"},
		{"getTags 2027-03-01T14:00Z/30s 10%", "at least 1m"},
		{"getTags 2027-03-01T14:00Z/1h 10", "not a percentage"},
		{"getTags 2027-03-01T14:00Z/1h 0%", "not a percentage"},
		{"getTags 2027-03-01T14:00Z/1h 101%", "not a percentage"},
		{"getTags 2027-03-01T14:00Z/1h 10%;", "want OPERATIONS"},
	} {
		if _, err := legacy.ParseBrownouts(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseBrownouts(%q): %v, want %q", c.in, err, c.want)
		}
	}
	at := func(s string) time.Time { return mustTime(t, s) }
	for _, c := range []struct {
		name string
		o    legacy.Options
		want string
	}{
		{"SunsetWithoutDeprecation", legacy.Options{SunsetAt: at("2027-01-01")}, "LEGACY_DEPRECATED_AT"},
		{"RouteSunsetWithoutDeprecation", legacy.Options{RouteSunsets: map[string]legacy.RouteSunset{"getTags": {At: at("2027-01-01")}}}, "LEGACY_DEPRECATED_AT"},
		{"BrownoutWithoutDeprecation", legacy.Options{Brownouts: []legacy.Brownout{{Start: at("2027-01-01"), Duration: time.Hour, Share: 0.5}}}, "LEGACY_DEPRECATED_AT"},
		{"SunsetBeforeDeprecation", legacy.Options{DeprecatedAt: at("2027-02-01"), SunsetAt: at("2027-01-01")}, "is before the deprecation"},
		{"RouteSunsetBeforeDeprecation", legacy.Options{DeprecatedAt: at("2027-02-01"), RouteSunsets: map[string]legacy.RouteSunset{"getTags": {At: at("2027-01-01")}}}, "getTags"},
		{"BrownoutOfAKeptRoute", legacy.Options{DeprecatedAt: at("2027-01-01"), RouteSunsets: map[string]legacy.RouteSunset{"getTags": {Keep: true}},
			Brownouts: []legacy.Brownout{{Operations: []string{"getTags"}, Start: at("2027-02-01"), Duration: time.Hour, Share: 0.5}}}, "getTags is kept"},
		{"GuideWithAFragment", legacy.Options{GuideURL: "/docs/migration.md#top"}, "guide URL"},
		{"GuideNotAURL", legacy.Options{GuideURL: "docs/migration.md"}, "guide URL"},
	} {
		if err := c.o.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check() = %v, want %q", c.name, err, c.want)
		}
	}
	if err := (legacy.Options{DeprecatedAt: at("2027-01-01"), RouteSunsets: map[string]legacy.RouteSunset{"getTags": {Keep: true}}}).Check(); err != nil {
		t.Errorf("a kept route: %v", err)
	}
}
