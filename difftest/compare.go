package difftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is what sort of difference was found.
type Kind string

// The kinds of difference.
const (
	KindStatus     Kind = "status"      // the status codes differ
	KindMissingKey Kind = "missing key" // the old answer has a key the new one lacks
	KindExtraKey   Kind = "extra key"   // the new answer has a key the old one lacks
	KindType       Kind = "type"        // a value is of another JSON type (null included)
	KindValue      Kind = "value"       // a value differs, after normalising
	KindOrder      Kind = "order"       // the same items in another order, or timestamps ordered otherwise
)

var kinds = []Kind{KindStatus, KindMissingKey, KindExtraKey, KindType, KindValue, KindOrder}

// Difference is one way the two answers to a call disagree.
type Difference struct {
	Op   string `json:"operation"`
	Kind Kind   `json:"kind"`
	// Path is where, in JSON path syntax with every array index written
	// "[]" ("$.articles[].favoritesCount"); empty for a status. Known
	// differences are matched on it.
	Path string `json:"path"`
	// At is the same path with the indexes of the old answer.
	At string `json:"at"`
	// Old and New are the two values as the report shows them: JSON,
	// normalised as compared, the sequence's prefix written {p}, and
	// "(absent)" for a key that is not there.
	Old    string `json:"old"`
	New    string `json:"new"`
	Detail string `json:"detail,omitempty"`
}

// signature identifies a difference across calls and runs.
func (d Difference) signature() string { return d.Op + "|" + string(d.Kind) + "|" + d.Path }

const absent = "(absent)"

// compare returns how the new backend's answer to a call of op differs
// from the old one's. Each session is the backend's own: slugs and comment
// ids are read through it.
func compare(op string, oldA, newA answer, oldS, newS *session) []Difference {
	c := &comparer{op: op, old: oldS, new: newS}
	if oldA.Status != newA.Status {
		c.add(Difference{Kind: KindStatus, Old: strconv.Itoa(oldA.Status), New: strconv.Itoa(newA.Status)})
	}
	ov, oerr := parseBody(oldA.Body)
	nv, nerr := parseBody(newA.Body)
	switch {
	case oerr != nil || nerr != nil:
		// One or both bodies are not JSON: the bodies are compared as text.
		if oerr == nil || nerr == nil || oldA.Body != newA.Body {
			c.add(Difference{Kind: KindType, Path: "$", At: "$", Old: bodyText(oldA.Body, oerr, oldS), New: bodyText(newA.Body, nerr, newS), Detail: "a body is not JSON"})
		}
	default:
		c.walk("$", "$", ov, nv, "", nil, nil)
		c.checkTimeOrder()
	}
	return c.diffs
}

// empty stands for an empty body, which differs from any JSON value.
type empty struct{}

func parseBody(b string) (any, error) {
	if strings.TrimSpace(b) == "" {
		return empty{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

func bodyText(b string, err error, s *session) string {
	if err == nil {
		if strings.TrimSpace(b) == "" {
			return "(empty)"
		}
		return clip(strings.ReplaceAll(b, s.prefix, "{p}"))
	}
	return "(not JSON) " + clip(strings.ReplaceAll(b, s.prefix, "{p}"))
}

type comparer struct {
	op       string
	old, new *session
	diffs    []Difference
	times    []timePair
}

// timePair is one timestamp found at the same place in both answers.
type timePair struct {
	at, path string
	old, new time.Time
}

func (c *comparer) add(d Difference) {
	d.Op = c.op
	c.diffs = append(c.diffs, d)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case empty:
		return "empty body"
	}
	return fmt.Sprintf("%T", v)
}

// walk compares a and b, found at path (generic: gen) under key in the
// objects pa and pb.
func (c *comparer) walk(at, gen string, a, b any, key string, pa, pb map[string]any) {
	if ta, tb := jsonType(a), jsonType(b); ta != tb {
		c.add(Difference{Kind: KindType, Path: gen, At: at, Old: c.render(a, c.old), New: c.render(b, c.new),
			Detail: ta + " on the old backend, " + tb + " on the new"})
		return
	}
	switch a := a.(type) {
	case map[string]any:
		b := b.(map[string]any)
		for _, k := range unionKeys(a, b) {
			av, inA := a[k]
			bv, inB := b[k]
			kat, kgen := at+"."+k, gen+"."+k
			switch {
			case !inB:
				c.add(Difference{Kind: KindMissingKey, Path: kgen, At: kat, Old: c.render(av, c.old), New: absent})
			case !inA:
				c.add(Difference{Kind: KindExtraKey, Path: kgen, At: kat, Old: absent, New: c.render(bv, c.new)})
			default:
				c.walk(kat, kgen, av, bv, k, a, b)
			}
		}
	case []any:
		c.walkArray(at, gen, a, b.([]any), key)
	case string:
		c.leaf(at, gen, a, b.(string), key, pa, pb)
	case json.Number:
		bn := b.(json.Number)
		if key == "id" {
			// A comment's id: each backend numbers its own.
			oa, ob := symbolOf(c.old.commentOf, string(a)), symbolOf(c.new.commentOf, string(bn))
			if oa != ob {
				c.add(Difference{Kind: KindValue, Path: gen, At: at, Old: oa, New: ob, Detail: "another comment"})
			}
			return
		}
		if a != bn {
			c.add(Difference{Kind: KindValue, Path: gen, At: at, Old: string(a), New: string(bn)})
		}
	default: // null, booleans, empty bodies
		if a != b {
			c.add(Difference{Kind: KindValue, Path: gen, At: at, Old: c.render(a, c.old), New: c.render(b, c.new)})
		}
	}
}

func symbolOf(m map[string]string, id string) string {
	if s, ok := m[id]; ok {
		return "comment " + s
	}
	return "a comment of no known call"
}

func unionKeys(a, b map[string]any) []string {
	var ks []string
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// leaf compares two strings, with the rules of the keys whose values
// legitimately differ between backends.
func (c *comparer) leaf(at, gen, a, b, key string, pa, pb map[string]any) {
	switch key {
	case "token":
		if jwtLike(a) && jwtLike(b) {
			return
		}
	case "createdAt", "updatedAt":
		fa, fb := timeShape(a), timeShape(b)
		if fa != fb {
			c.add(Difference{Kind: KindValue, Path: gen, At: at, Old: strconv.Quote(fa), New: strconv.Quote(fb), Detail: "timestamp format"})
			return
		}
		ta, errA := parseTime(a)
		tb, errB := parseTime(b)
		if errA == nil && errB == nil {
			c.times = append(c.times, timePair{at: at, path: gen, old: ta, new: tb})
		}
		return
	case "slug":
		na, nb := slugForm(a, pa, c.old), slugForm(b, pb, c.new)
		if na != nb {
			c.add(Difference{Kind: KindValue, Path: gen, At: at, Old: strconv.Quote(na), New: strconv.Quote(nb), Detail: "slugs compare as derived from the title, with any suffix"})
		}
		return
	case "id":
		oa, ob := symbolOf(c.old.commentOf, a), symbolOf(c.new.commentOf, b)
		if oa != ob {
			c.add(Difference{Kind: KindValue, Path: gen, At: at, Old: oa, New: ob, Detail: "another comment"})
		}
		return
	}
	if a == b {
		return // both sessions share the prefix, so equal text is an equal value
	}
	ra, rb := c.renderKey(a, key, c.old), c.renderKey(b, key, c.new)
	if ra != rb {
		c.add(Difference{Kind: KindValue, Path: gen, At: at, Old: ra, New: rb})
	}
}

var jwtPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+$`)

// jwtLike says whether s has the shape of a JWT: three base64url parts.
func jwtLike(s string) bool { return jwtPattern.MatchString(s) }

var isoPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$`)

// timeShape is the format of a timestamp with its digits masked:
// "dddd-dd-ddTdd:dd:dd.dddZ" for the contract's. Two backends agree on
// the format when the shapes are the same.
func timeShape(s string) string {
	if !isoPattern.MatchString(s) {
		return "not ISO 8601: " + s
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return 'd'
		}
		return r
	}, s)
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}

// slugForm is what a slug is compared as. A slug that is the title
// slugified, or that plus one more "-segment" (a suffix that makes it
// unique), compares as "{title}"; any other keeps its text, the prefix
// written {p}, so that a slug that does not follow the title shows.
func slugForm(slug string, obj map[string]any, s *session) string {
	if title, ok := obj["title"].(string); ok {
		base := slugify(title)
		if slug == base {
			return "{title}"
		}
		if rest, ok := strings.CutPrefix(slug, base+"-"); ok && rest != "" && !strings.Contains(rest, "-") {
			return "{title}"
		}
	}
	return strings.ReplaceAll(slug, s.prefix, "{p}")
}

// slugify is the plainest slug of a title: its ASCII letters and digits,
// lowercased, in words joined by "-". The titles the steps send are made
// of such words, so every backend should agree on it.
func slugify(title string) string {
	words := strings.FieldsFunc(strings.ToLower(title), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
	return strings.Join(words, "-")
}

// walkArray compares two arrays. Articles are lined up by which article
// they are, comments by which comment, tags by their text, so that an item
// missing or moved shows as that, not as every later item differing.
func (c *comparer) walkArray(at, gen string, a, b []any, key string) {
	var ida, idb func(i int) string
	switch key {
	case "articles":
		ida = func(i int) string { return c.articleID(a[i], c.old) }
		idb = func(i int) string { return c.articleID(b[i], c.new) }
	case "comments":
		ida = func(i int) string { return c.commentID(a[i], c.old) }
		idb = func(i int) string { return c.commentID(b[i], c.new) }
	case "tagList", "tags":
		ida = func(i int) string { return c.tagID(a[i], c.old) }
		idb = func(i int) string { return c.tagID(b[i], c.new) }
	default:
		if len(a) != len(b) {
			c.add(Difference{Kind: KindValue, Path: gen, At: at, Old: c.render(a, c.old), New: c.render(b, c.new),
				Detail: fmt.Sprintf("%d items on the old backend, %d on the new", len(a), len(b))})
		}
		for i := range min(len(a), len(b)) {
			c.walk(fmt.Sprintf("%s[%d]", at, i), gen+"[]", a[i], b[i], key, nil, nil)
		}
		return
	}
	oldIDs := make([]string, len(a))
	for i := range a {
		oldIDs[i] = ida(i)
	}
	newIDs := make([]string, len(b))
	for i := range b {
		newIDs[i] = idb(i)
	}
	if !slices.Equal(oldIDs, newIDs) {
		so, sn := slices.Clone(oldIDs), slices.Clone(newIDs)
		slices.Sort(so)
		slices.Sort(sn)
		d := Difference{Path: gen, At: at, Old: "[" + strings.Join(oldIDs, ", ") + "]", New: "[" + strings.Join(newIDs, ", ") + "]"}
		if slices.Equal(so, sn) {
			d.Kind, d.Detail = KindOrder, "the same items in another order"
		} else {
			d.Kind, d.Detail = KindValue, fmt.Sprintf("%d items on the old backend, %d on the new; not the same ones", len(a), len(b))
		}
		c.add(d)
	}
	// Items present in both are compared, each occurrence with the next
	// unmatched one of the same identity.
	used := make([]bool, len(b))
	for i := range a {
		for j := range b {
			if !used[j] && newIDs[j] == oldIDs[i] {
				used[j] = true
				c.walk(fmt.Sprintf("%s[%d]", at, i), gen+"[]", a[i], b[j], key, nil, nil)
				break
			}
		}
	}
}

// tagID names a tag by its text, quoted, the prefix written {p}.
func (c *comparer) tagID(v any, s *session) string {
	if t, ok := v.(string); ok {
		return strconv.Quote(strings.ReplaceAll(t, s.prefix, "{p}"))
	}
	return c.render(v, s)
}

// articleID names an article of a list by the symbol of the call that
// created it, else by its title.
func (c *comparer) articleID(v any, s *session) string {
	m, _ := v.(map[string]any)
	if slug, ok := m["slug"].(string); ok {
		if sym, ok := s.articleOf[slug]; ok {
			return "article " + sym
		}
	}
	if title, ok := m["title"].(string); ok {
		return strconv.Quote(strings.ReplaceAll(title, s.prefix, "{p}"))
	}
	return c.render(v, s)
}

// commentID names a comment by the symbol of the call that created it,
// else by its body.
func (c *comparer) commentID(v any, s *session) string {
	m, _ := v.(map[string]any)
	if id, ok := m["id"].(json.Number); ok {
		if sym, ok := s.commentOf[string(id)]; ok {
			return "comment " + sym
		}
	}
	if body, ok := m["body"].(string); ok {
		return strconv.Quote(strings.ReplaceAll(body, s.prefix, "{p}"))
	}
	return c.render(v, s)
}

// timeSlack is how far apart the two timestamps of one object may be and
// still be taken for "at the same time": one write that reads the clock
// twice (created, then updated) may straddle a millisecond.
const timeSlack = time.Millisecond

// checkTimeOrder compares how the timestamps of an answer are ordered
// among themselves: their values differ between backends, their order
// must not. The first pair ordered otherwise is reported.
func (c *comparer) checkTimeOrder() {
	rel := func(x, y time.Time) int {
		d := y.Sub(x)
		switch {
		case d > 0:
			return 1
		case d < 0:
			return -1
		}
		return 0
	}
	word := map[int]string{1: "later than", -1: "earlier than", 0: "the same instant as"}
	for j := range c.times {
		for i := range j {
			p, q := c.times[i], c.times[j]
			ro, rn := rel(p.old, q.old), rel(p.new, q.new)
			if ro == rn {
				continue
			}
			if ro != -rn {
				// Equal on one side, ordered on the other. Two timestamps
				// of different objects, written by different calls, are
				// equal only by chance (two calls within a millisecond):
				// only an inversion counts. Within one object, equal means
				// "not updated since", which must agree, but one write may
				// read the clock twice: a gap within the slack is noise.
				if parent(p.at) != parent(q.at) {
					continue
				}
				gap := absDuration(q.old.Sub(p.old))
				if ro == 0 {
					gap = absDuration(q.new.Sub(p.new))
				}
				if gap <= timeSlack {
					continue
				}
			}
			c.add(Difference{Kind: KindOrder, Path: q.path, At: q.at,
				Old: word[ro] + " " + p.at, New: word[rn] + " " + p.at, Detail: "timestamps ordered otherwise"})
			return
		}
	}
}

// parent is the path of the object holding the value at path.
func parent(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return path
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// maxRendered bounds a value as the report shows it.
const maxRendered = 300

// render is a value as the report shows it: JSON, with the prefix written
// {p}, and the values that are compared for their form (tokens,
// timestamps) written as their form, so that the text is the same from one
// run to the next and a known difference can quote it.
func (c *comparer) render(v any, s *session) string { return c.renderKey(v, "", s) }

// renderKey is render of a value found under key.
func (c *comparer) renderKey(v any, key string, s *session) string {
	if _, ok := v.(empty); ok {
		return "(empty)"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(canon(v, key))
	return clip(strings.ReplaceAll(strings.TrimSpace(buf.String()), s.prefix, "{p}"))
}

// canon returns v with tokens and timestamps replaced by their form.
func canon(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = canon(x, k)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = canon(x, key)
		}
		return out
	case string:
		switch {
		case key == "token" && jwtLike(v):
			return "(a JWT)"
		case key == "createdAt" || key == "updatedAt":
			return timeShape(v)
		}
	}
	return v
}

func clip(s string) string {
	if len(s) <= maxRendered {
		return s
	}
	return s[:maxRendered] + "…"
}
