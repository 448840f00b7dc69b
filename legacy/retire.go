package legacy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/conduit-dev/conduit/conduit"
)

// Retiring the legacy API: the signals that announce it (RFC 9745's
// Deprecation, RFC 8594's Sunset, a Link to the route's section of the
// migration guide), the brownouts that rehearse it, and the switch that
// ends it. All are off unless configured.

// DefaultGuideURL is where the migration guide is served (package app
// serves docs/migration.md there).
const DefaultGuideURL = "/docs/migration.md"

// RouteSunset overrides the retirement of one route.
type RouteSunset struct {
	// At is the route's own sunset, instead of Options.SunsetAt.
	At time.Time
	// Keep leaves the route out of the retirement: it sends no signal and
	// no brownout refuses it.
	Keep bool
}

// Brownout is a window of time in which a share of the calls to some
// routes are refused with 410 Gone, so that their clients' owners notice
// before the switch-off.
type Brownout struct {
	// Operations are the operationIds it refuses; empty for every route
	// that is not kept.
	Operations []string
	Start      time.Time
	Duration   time.Duration
	// Share of the calls refused, above 0 and at most 1.
	Share float64
}

// End is when the window closes.
func (b Brownout) End() time.Time { return b.Start.Add(b.Duration) }

// covers says whether the brownout refuses calls of the operation at t.
func (b Brownout) covers(operation string, t time.Time) bool {
	return !t.Before(b.Start) && t.Before(b.End()) && (len(b.Operations) == 0 || slices.Contains(b.Operations, operation))
}

// operationIDs are the operationIds of the route table, in its order.
func operationIDs() []string {
	ids := make([]string, len(routes))
	for i, rt := range routes {
		ids[i] = rt.doc.id
	}
	return ids
}

func knownOperation(id string) error {
	if slices.Contains(operationIDs(), id) {
		return nil
	}
	return fmt.Errorf("%q is no operationId of the legacy API (they are %s)", id, strings.Join(operationIDs(), ", "))
}

// ParseTime reads a moment of the retirement settings: an RFC 3339 time
// with its zone (2027-03-01T14:00:00Z, seconds optional) or a date alone,
// taken as midnight UTC (2027-03-01).
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want 2027-03-01, 2027-03-01T14:00Z or 2027-03-01T14:00:00+01:00", s)
}

// ParseRouteSunsets reads LEGACY_ROUTE_SUNSETS: comma-separated
// operationId=WHEN, where WHEN is a time (ParseTime) or keep.
func ParseRouteSunsets(s string) (map[string]RouteSunset, error) {
	out := map[string]RouteSunset{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		id, when, ok := strings.Cut(entry, "=")
		if !ok || id == "" || when == "" {
			return nil, fmt.Errorf("%q: want operationId=TIME or operationId=keep, such as getTags=2027-06-01", entry)
		}
		if err := knownOperation(id); err != nil {
			return nil, err
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("%s is named twice", id)
		}
		if when == "keep" {
			out[id] = RouteSunset{Keep: true}
			continue
		}
		t, err := ParseTime(when)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", id, err)
		}
		out[id] = RouteSunset{At: t}
	}
	return out, nil
}

// ParseBrownouts reads LEGACY_BROWNOUTS: windows separated by ";", each
// "OPERATIONS START/DURATION PERCENT%", where OPERATIONS are
// comma-separated operationIds or * for every route, START is a time
// (ParseTime), DURATION a Go duration of at least a minute, and PERCENT
// the share of calls refused, above 0 and at most 100:
//
//	getTags,getArticles 2027-03-01T14:00Z/1h 10%; * 2027-04-01T14:00Z/30m 100%
func ParseBrownouts(s string) ([]Brownout, error) {
	const want = "want OPERATIONS START/DURATION PERCENT%, such as getTags,getArticles 2027-03-01T14:00Z/1h 10%"
	var out []Brownout
	for _, window := range strings.Split(s, ";") {
		window = strings.TrimSpace(window)
		fields := strings.Fields(window)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%q: %s", window, want)
		}
		var b Brownout
		if fields[0] != "*" {
			for _, id := range strings.Split(fields[0], ",") {
				if err := knownOperation(id); err != nil {
					return nil, fmt.Errorf("%q: %v", window, err)
				}
				if slices.Contains(b.Operations, id) {
					return nil, fmt.Errorf("%q: %s is named twice", window, id)
				}
				b.Operations = append(b.Operations, id)
			}
		}
		start, dur, ok := strings.Cut(fields[1], "/")
		if !ok {
			return nil, fmt.Errorf("%q: %s", window, want)
		}
		var err error
		if b.Start, err = ParseTime(start); err != nil {
			return nil, fmt.Errorf("%q: %v", window, err)
		}
		if b.Duration, err = time.ParseDuration(dur); err != nil || b.Duration < time.Minute {
			return nil, fmt.Errorf("%q: %q is not a duration of at least 1m, such as 1h or 30m", window, dur)
		}
		pct, ok := strings.CutSuffix(fields[2], "%")
		p, err := strconv.ParseFloat(pct, 64)
		if !ok || err != nil || !(p > 0 && p <= 100) {
			return nil, fmt.Errorf("%q: %q is not a percentage above 0 and at most 100, such as 10%%", window, fields[2])
		}
		b.Share = p / 100
		out = append(out, b)
	}
	return out, nil
}

// Check refuses a retirement that makes no sense: sunsets or brownouts
// without a deprecation to announce them (clients must be warned before
// they are refused), a sunset before the deprecation, an unknown
// operationId, a brownout of a kept route, or a guide URL that cannot go
// in a Link header.
func (o Options) Check() error {
	if o.DeprecatedAt.IsZero() {
		switch {
		case !o.SunsetAt.IsZero():
			return errors.New("a sunset needs a deprecation date before it (LEGACY_DEPRECATED_AT)")
		case len(o.Brownouts) > 0:
			return errors.New("brownouts need a deprecation date to announce them first (LEGACY_DEPRECATED_AT)")
		}
		for id, rs := range o.RouteSunsets {
			if !rs.Keep {
				return fmt.Errorf("the sunset of %s needs a deprecation date before it (LEGACY_DEPRECATED_AT)", id)
			}
		}
	}
	if !o.SunsetAt.IsZero() && o.SunsetAt.Before(o.DeprecatedAt) {
		return fmt.Errorf("the sunset (LEGACY_SUNSET_AT) %s is before the deprecation (LEGACY_DEPRECATED_AT) %s",
			o.SunsetAt.Format(time.RFC3339), o.DeprecatedAt.Format(time.RFC3339))
	}
	for id, rs := range o.RouteSunsets {
		if err := knownOperation(id); err != nil {
			return err
		}
		if !rs.Keep && rs.At.Before(o.DeprecatedAt) {
			return fmt.Errorf("the sunset of %s, %s, is before the deprecation (LEGACY_DEPRECATED_AT) %s",
				id, rs.At.Format(time.RFC3339), o.DeprecatedAt.Format(time.RFC3339))
		}
	}
	for _, b := range o.Brownouts {
		if !(b.Share > 0 && b.Share <= 1) || b.Duration <= 0 {
			return fmt.Errorf("the brownout at %s has share %v and duration %v: want a share above 0 and at most 1, and a duration", b.Start.Format(time.RFC3339), b.Share, b.Duration)
		}
		for _, id := range b.Operations {
			if err := knownOperation(id); err != nil {
				return err
			}
			if o.RouteSunsets[id].Keep {
				return fmt.Errorf("%s is kept (LEGACY_ROUTE_SUNSETS=%s=keep), yet the brownout at %s refuses it", id, id, b.Start.Format(time.RFC3339))
			}
		}
	}
	if g := o.GuideURL; g != "" {
		if strings.ContainsAny(g, "<>\"#, ") || strings.IndexFunc(g, unicode.IsControl) >= 0 ||
			!(strings.HasPrefix(g, "/") || strings.HasPrefix(g, "https://") || strings.HasPrefix(g, "http://")) {
			return fmt.Errorf("the guide URL %q must be a path (/docs/migration.md) or an http(s) URL, without a fragment, spaces, quotes or angle brackets", g)
		}
	}
	return nil
}

// retirement is what one route answers with while the legacy API retires,
// worked out once when the handler is built.
type retirement struct {
	deprecation string // the Deprecation header, "" for none
	sunset      string // the Sunset header, "" for none
	link        string // the Link header
	brownouts   []Brownout
	// gone is the message of the 410 once the API is switched off; ""
	// while it is on.
	gone string
	// replacement is what the 410 tells the client to use instead.
	replacement string
}

// guideAnchor is the fragment of a route's section in the migration
// guide, whose headings name the GraphQL field by its path from the root:
// "favoriteArticle" for Mutation.favoriteArticle, "article.comments" for
// Article.comments. The fragment is GitHub's for the heading.
func guideAnchor(coordinate string) string {
	typ, field, _ := strings.Cut(coordinate, ".")
	heading := field
	switch typ {
	case "Query", "Mutation", "Subscription":
	default:
		heading = strings.ToLower(typ[:1]) + typ[1:] + "." + field
	}
	return strings.ToLower(strings.ReplaceAll(heading, ".", ""))
}

// retirementOf works out what rt answers with under o; nil when the route
// needs nothing of it.
func retirementOf(rt route, o Options) *retirement {
	rs := o.RouteSunsets[rt.doc.id]
	guide := o.GuideURL
	if guide == "" {
		guide = DefaultGuideURL
	}
	link := guide + "#" + guideAnchor(rt.doc.graphql)
	ret := &retirement{
		link:        fmt.Sprintf(`<%s>; rel="deprecation"; type="text/markdown"; title="replaced by the GraphQL field %s"`, link, rt.doc.graphql),
		replacement: replacementText(rt.doc.graphql, link),
	}
	name := rt.method + " " + apiPrefix + rt.pattern
	if o.Off {
		ret.gone = name + " has been retired. " + ret.replacement
	}
	if !rs.Keep && !o.DeprecatedAt.IsZero() {
		ret.deprecation = "@" + strconv.FormatInt(o.DeprecatedAt.Unix(), 10)
		if sunset := cmpOr(rs.At, o.SunsetAt); !sunset.IsZero() {
			ret.sunset = sunset.UTC().Format(http.TimeFormat)
		}
		for _, b := range o.Brownouts {
			if len(b.Operations) == 0 || slices.Contains(b.Operations, rt.doc.id) {
				ret.brownouts = append(ret.brownouts, b)
			}
		}
	}
	if ret.gone == "" && ret.deprecation == "" {
		return nil
	}
	return ret
}

// replacementText tells a refused client what to call instead.
func replacementText(graphql, link string) string {
	return fmt.Sprintf("Use the GraphQL field %s (POST /graphql) instead; %s shows how.", graphql, link)
}

func cmpOr(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// lockedFloat makes a random source safe to share between requests.
func lockedFloat(f func() float64) func() float64 {
	var mu sync.Mutex
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return f()
	}
}

// retiring wraps the handler of rt with what the retirement and the usage
// counts need; h itself when they need nothing.
func retiring(rt route, o Options, h http.HandlerFunc) http.HandlerFunc {
	ret := retirementOf(rt, o)
	if ret == nil && o.Usage == nil {
		return h
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	random := rand.Float64
	if o.Rand != nil {
		random = lockedFloat(o.Rand)
	}
	id := rt.doc.id
	name := rt.method + " " + apiPrefix + rt.pattern
	return func(w http.ResponseWriter, r *http.Request) {
		t := now()
		if o.Usage != nil {
			_, signedIn := conduit.ViewerFromContext(r.Context())
			o.Usage.Record(t, id, ClientOf(r), signedIn)
		}
		if ret == nil {
			h(w, r)
			return
		}
		hdr := w.Header()
		if ret.deprecation != "" {
			hdr.Set("Deprecation", ret.deprecation)
			if ret.sunset != "" {
				hdr.Set("Sunset", ret.sunset)
			}
		}
		hdr.Set("Link", ret.link)
		if ret.gone != "" {
			gone(w, ret.gone)
			return
		}
		for _, b := range ret.brownouts {
			if b.covers(id, t) && random() < b.Share {
				gone(w, fmt.Sprintf("%s is being retired: this call was refused on purpose, in a brownout that lasts until %s, to warn its clients. %s",
					name, b.End().Format(time.RFC3339), ret.replacement))
				return
			}
		}
		h(w, r)
	}
}

// gone answers 410 in the error envelope. It is kept out of caches: a
// brownout's refusal must not outlive the brownout.
func gone(w http.ResponseWriter, message string) {
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusGone, general(message))
}
