package difftest

import (
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/legacy"
)

const jwtA = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWE"
const jwtB = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJlLWI"

// TestCompare checks each rule of the comparison on small answers: what
// legitimately differs compares equal, and each kind of difference is
// reported as that kind, at its path, with both values.
func TestCompare(t *testing.T) {
	article := func(slug, title, created, updated, tags string) string {
		return `{"article":{"slug":"` + slug + `","title":"` + title + `","createdAt":"` + created + `","updatedAt":"` + updated + `","tagList":` + tags + `,"favoritesCount":1}}`
	}
	const t1, t2 = "2026-02-18T03:22:56.637Z", "2026-02-18T03:22:57.001Z"
	for _, tc := range []struct {
		name     string
		old, new answer
		want     []string // "kind path old new"
	}{
		{"OK tokens are JWTs", answer{200, `{"user":{"token":"` + jwtA + `","bio":null}}`}, answer{200, `{"user":{"token":"` + jwtB + `","bio":null}}`}, nil},
		{"ErrTokenNotJWT", answer{200, `{"user":{"token":"` + jwtA + `"}}`}, answer{200, `{"user":{"token":"abc"}}`},
			[]string{`value $.user.token "(a JWT)" "abc"`}},
		{"OK timestamps differ in value", answer{200, article("p-t", "p t", t1, t1, `[]`)}, answer{200, article("p-t", "p t", t2, t2, `[]`)}, nil},
		{"ErrTimestampFormat", answer{200, article("p-t", "p t", t1, t1, `[]`)}, answer{200, article("p-t", "p t", "2026-02-18T03:22:56Z", t1, `[]`)},
			[]string{`value $.article.createdAt "dddd-dd-ddTdd:dd:dd.dddZ" "dddd-dd-ddTdd:dd:ddZ"`}},
		{"ErrTimestampOrder", answer{200, article("p-t", "p t", t1, t2, `[]`)}, answer{200, article("p-t", "p t", t2, t1, `[]`)},
			[]string{`order $.article.updatedAt later than $.article.createdAt earlier than $.article.createdAt`}},
		{"OK one millisecond apart on one side only", answer{200, article("p-t", "p t", t1, t1, `[]`)},
			answer{200, article("p-t", "p t", t1, "2026-02-18T03:22:56.638Z", `[]`)}, nil},
		{"ErrUpdatedAtStill", answer{200, article("p-t", "p t", t1, t2, `[]`)}, answer{200, article("p-t", "p t", t1, t1, `[]`)},
			[]string{`order $.article.updatedAt later than $.article.createdAt the same instant as $.article.createdAt`}},
		{"OK two objects equal by chance", answer{200, `{"comments":[{"body":"a","createdAt":"` + t1 + `"},{"body":"b","createdAt":"` + t1 + `"}]}`},
			answer{200, `{"comments":[{"body":"a","createdAt":"` + t2 + `"},{"body":"b","createdAt":"2026-02-18T03:22:56.900Z"}]}`}, nil},
		{"ErrTwoObjectsInverted", answer{200, `{"comments":[{"body":"a","createdAt":"` + t2 + `"},{"body":"b","createdAt":"` + t1 + `"}]}`},
			answer{200, `{"comments":[{"body":"a","createdAt":"` + t1 + `"},{"body":"b","createdAt":"` + t2 + `"}]}`},
			[]string{`order $.comments[].createdAt earlier than $.comments[0].createdAt later than $.comments[0].createdAt`}},
		{"OK slug suffixes", answer{200, article("p-t", "p t", t1, t1, `[]`)}, answer{200, article("p-t-x7k2q9", "p t", t1, t1, `[]`)}, nil},
		{"ErrSlugNotFollowingTitle", answer{200, article("p-old", "p new", t1, t1, `[]`)}, answer{200, article("p-new", "p new", t1, t1, `[]`)},
			[]string{`value $.article.slug "{p}-old" "{title}"`}},
		{"ErrTagOrder", answer{200, article("p-t", "p t", t1, t1, `["a","b"]`)}, answer{200, article("p-t", "p t", t1, t1, `["b","a"]`)},
			[]string{`order $.article.tagList ["a", "b"] ["b", "a"]`}},
		{"ErrTagMissing", answer{200, article("p-t", "p t", t1, t1, `["a","b"]`)}, answer{200, article("p-t", "p t", t1, t1, `["a"]`)},
			[]string{`value $.article.tagList ["a", "b"] ["a"]`}},
		{"ErrStatus", answer{201, `{}`}, answer{200, `{}`}, []string{`status  201 200`}},
		{"ErrMissingKey", answer{200, `{"profile":{"bio":null,"following":false}}`}, answer{200, `{"profile":{"following":false}}`},
			[]string{`missing key $.profile.bio null (absent)`}},
		{"ErrExtraKey", answer{200, `{"profile":{"following":false}}`}, answer{200, `{"profile":{"following":false,"id":"x"}}`},
			[]string{`extra key $.profile.id (absent) "x"`}},
		{"ErrNullIsAType", answer{200, `{"profile":{"bio":null}}`}, answer{200, `{"profile":{"bio":""}}`},
			[]string{`type $.profile.bio null ""`}},
		{"ErrNumberAsString", answer{200, `{"articlesCount":2}`}, answer{200, `{"articlesCount":"2"}`},
			[]string{`type $.articlesCount 2 "2"`}},
		{"ErrValue", answer{422, `{"errors":{"email":["has already been taken"]}}`}, answer{422, `{"errors":{"email":["is taken"]}}`},
			[]string{`value $.errors.email[] "has already been taken" "is taken"`}},
		{"ErrEmptyBody", answer{204, ``}, answer{204, `{}`}, []string{`type $ (empty) {}`}},
		{"ErrNotJSON", answer{404, `{"errors":{}}`}, answer{404, `<h1>Not Found</h1>`}, []string{`type $ {"errors":{}} (not JSON) <h1>Not Found</h1>`}},
		{"OK the same HTML", answer{500, `<h1>Oops</h1>`}, answer{500, `<h1>Oops</h1>`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := compareStrings(compare("op", tc.old, tc.new, newSession("p"), newSession("p")))
			if !slices.Equal(got, tc.want) {
				t.Errorf("differences =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func compareStrings(ds []Difference) []string {
	var out []string
	for _, d := range ds {
		out = append(out, strings.Join([]string{string(d.Kind), d.Path, d.Old, d.New}, " "))
	}
	return out
}

// TestCompareLists lines list items up by which article or comment they
// are, through each backend's own slugs and ids: the same items compare
// equal, moved ones show as an order difference, and the items still
// compare field by field.
func TestCompareLists(t *testing.T) {
	oldS, newS := newSession("p"), newSession("p")
	bindAll := func(s *session, slugX, slugY, idK string) {
		s.bind(Step{Op: opCreateArticle, Bind: "x"}, answer{201, `{"article":{"slug":"` + slugX + `"}}`})
		s.bind(Step{Op: opCreateArticle, Bind: "y"}, answer{201, `{"article":{"slug":"` + slugY + `"}}`})
		s.bind(Step{Op: opAddComment, Bind: "k"}, answer{200, `{"comment":{"id":` + idK + `}}`})
	}
	bindAll(oldS, "p-a", "p-b", "4")
	bindAll(newS, "p-a-q1w2e3", "p-b", "91")
	item := func(slug, title string, n int) string {
		return `{"slug":"` + slug + `","title":"` + title + `","favoritesCount":` + string(rune('0'+n)) + `}`
	}
	list := func(items ...string) string {
		return `{"articles":[` + strings.Join(items, ",") + `],"articlesCount":2}`
	}

	same := compare(opArticles, answer{200, list(item("p-a", "p a", 1), item("p-b", "p b", 0))},
		answer{200, list(item("p-a-q1w2e3", "p a", 1), item("p-b", "p b", 0))}, oldS, newS)
	if len(same) != 0 {
		t.Errorf("the same list: %q", compareStrings(same))
	}
	moved := compare(opArticles, answer{200, list(item("p-a", "p a", 1), item("p-b", "p b", 0))},
		answer{200, list(item("p-b", "p b", 0), item("p-a-q1w2e3", "p a", 2))}, oldS, newS)
	want := []string{"order $.articles [article x, article y] [article y, article x]", "value $.articles[].favoritesCount 1 2"}
	if got := compareStrings(moved); !slices.Equal(got, want) {
		t.Errorf("moved list: %q, want %q", got, want)
	}
	if moved[1].At != "$.articles[0].favoritesCount" {
		t.Errorf("At = %q, want the old answer's index", moved[1].At)
	}
	comments := compare(opComments, answer{200, `{"comments":[{"id":4,"body":"hi"}]}`}, answer{200, `{"comments":[{"id":91,"body":"hi"}]}`}, oldS, newS)
	if len(comments) != 0 {
		t.Errorf("the same comment under each backend's id: %q", compareStrings(comments))
	}
	other := compare(opAddComment, answer{200, `{"comment":{"id":4}}`}, answer{200, `{"comment":{"id":92}}`}, oldS, newS)
	if got, want := compareStrings(other), []string{"value $.comment.id comment k a comment of no known call"}; !slices.Equal(got, want) {
		t.Errorf("another comment: %q, want %q", got, want)
	}
}

// TestDDMin reduces to the one subset that makes a synthetic test hold,
// tries the empty set first, and stays within a spent budget.
func TestDDMin(t *testing.T) {
	items := make([]int, 40)
	for i := range items {
		items[i] = i
	}
	needs := []int{3, 17, 31}
	calls := 0
	holds := func(keep []int) bool {
		calls++
		for _, n := range needs {
			if !slices.Contains(keep, n) {
				return false
			}
		}
		return true
	}
	if got := ddmin(items, holds); !slices.Equal(got, needs) {
		t.Errorf("ddmin = %v, want %v", got, needs)
	}
	if calls > 200 {
		t.Errorf("%d tests, want at most 200 for 3 of 40", calls)
	}
	if got := ddmin(items, func([]int) bool { return true }); got != nil {
		t.Errorf("ddmin with a test that always holds = %v, want the empty set", got)
	}
	budget := 5
	got := ddmin(items, func(keep []int) bool {
		if budget == 0 {
			return false
		}
		budget--
		return holds(keep)
	})
	if len(got) == 0 || !holds(got) {
		t.Errorf("ddmin out of budget = %v, want a subset that still holds", got)
	}
}

// TestScriptCoversEveryOperation: the script calls each of the 19
// operations, each step fills in its route's parameters, and the routes
// are the legacy package's.
func TestScriptCoversEveryOperation(t *testing.T) {
	called := map[string]int{}
	s := newSession("p")
	for i, st := range Script() {
		called[st.Op]++
		r, err := s.request(st)
		if err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
		if _, err := url.ParseRequestURI("http://h/api" + r.Path); err != nil {
			t.Errorf("step %d: path %q: %v", i+1, r.Path, err)
		}
	}
	for _, rt := range legacy.Routes() {
		if called[rt.OperationID] < 2 {
			t.Errorf("%s (%s %s) is called %d times, want a success and a failure at least", rt.OperationID, rt.Method, rt.Path, called[rt.OperationID])
		}
	}
	if len(called) != len(legacy.Routes()) {
		t.Errorf("the script calls %d operations, the API has %d", len(called), len(legacy.Routes()))
	}
}

// TestGenerateIsReproducible: a seed gives the same sequences every time,
// another seed others, and every generated step is a call of the API.
func TestGenerateIsReproducible(t *testing.T) {
	ops := map[string]bool{}
	for i := 1; i <= 50; i++ {
		a, b := Generate(42, i), Generate(42, i)
		if !slices.EqualFunc(a, b, stepEqual) {
			t.Fatalf("sequence %d of seed 42 differs between two calls", i)
		}
		if len(a) < 8 || len(a) > 30 || a[0].Op != opRegister {
			t.Errorf("sequence %d: %d steps starting with %s; want 8 to 30 starting with a sign-up", i, len(a), a[0].Op)
		}
		s := newSession("p")
		for _, st := range a {
			ops[st.Op] = true
			if _, err := s.request(st); err != nil {
				t.Fatalf("sequence %d: %v", i, err)
			}
		}
	}
	if slices.EqualFunc(Generate(42, 1), Generate(43, 1), stepEqual) {
		t.Error("seeds 42 and 43 give the same first sequence")
	}
	for _, op := range Operations() {
		if !ops[op] && op != opCurrentUser && op != opTags {
			t.Errorf("50 sequences never call %s", op)
		}
	}
}

func stepEqual(a, b Step) bool {
	return a.Op == b.Op && a.Query == b.Query && a.As == b.As && a.Body == b.Body && a.Bind == b.Bind &&
		strings.Join(mapPairs(a.Args), ",") == strings.Join(mapPairs(b.Args), ",")
}

func mapPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// TestKnown checks how entries match differences, and that a file with a
// malformed entry is refused with the reason.
func TestKnown(t *testing.T) {
	d := Difference{Op: opCreateArticle, Kind: KindStatus, Old: "200", New: "201"}
	for _, tc := range []struct {
		k    Known
		want bool
	}{
		{Known{Operation: opCreateArticle, Kind: KindStatus, Old: "200", New: "201"}, true},
		{Known{Operation: "*", Kind: KindStatus, Old: "*", New: "201"}, true},
		{Known{Operation: opCreateArticle, Kind: KindStatus, Old: "200", New: "422"}, false},
		{Known{Operation: opRegister, Kind: KindStatus, Old: "*", New: "*"}, false},
		{Known{Operation: opCreateArticle, Kind: KindValue, Old: "*", New: "*"}, false},
	} {
		if got := tc.k.matches(d); got != tc.want {
			t.Errorf("%+v matches = %v, want %v", tc.k, got, tc.want)
		}
	}
	v := Difference{Op: opArticle, Kind: KindValue, Path: "$.article.author.bio", Old: "null", New: `""`}
	if !(Known{Operation: opArticle, Kind: KindValue, Path: "$.article.*", Old: "*", New: "*"}).matches(v) {
		t.Error("$.article.* does not cover $.article.author.bio")
	}
	if (Known{Operation: opArticle, Kind: KindValue, Path: "$.articles.*", Old: "*", New: "*"}).matches(v) {
		t.Error("$.articles.* covers $.article.author.bio")
	}

	dir := t.TempDir()
	for _, tc := range []struct{ yaml, want string }{
		{"differences:\n  - {operation: nope, kind: status, old: '1', new: '2', rule: r}\n", `operation "nope"`},
		{"differences:\n  - {operation: login, kind: colour, path: $, old: '1', new: '2', rule: r}\n", `kind "colour"`},
		{"differences:\n  - {operation: login, kind: value, path: article, old: '1', new: '2', rule: r}\n", "not a JSON path"},
		{"differences:\n  - {operation: login, kind: status, old: '1', new: '2'}\n", "give the rule"},
		{"differences:\n  - {operation: login, kind: status, new: '2', rule: r}\n", "say the old and the new"},
		{"differences:\n  - {operation: login, kind: status, old: '1', new: '2', rule: r, colour: red}\n", "colour"},
	} {
		path := dir + "/k.yaml"
		if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKnown(path, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.yaml, err, tc.want)
		}
	}
	if k, err := LoadKnown(dir+"/missing.yaml", true); err != nil || k != nil {
		t.Errorf("a missing default file: %v, %v; want no entries and no error", k, err)
	}
}

// TestCommittedKnownFile: the repository's known-differences file loads.
func TestCommittedKnownFile(t *testing.T) {
	if _, err := LoadKnown("../"+DefaultKnownFile, false); err != nil {
		t.Fatal(err)
	}
}
