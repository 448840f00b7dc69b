package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// checkResults is what was checked before any measurement.
type checkResults struct {
	// FloorEqual lists the requests whose floor and Conduit bodies were
	// compared byte for byte (all equal, or the benchmark stops).
	FloorEqual []string `json:"floorEqual"`
	// GraphQLMismatches lists where a GraphQL answer differs in value from
	// the legacy one it should mirror; empty when they agree.
	GraphQLMismatches []string `json:"graphqlMismatches"`
	// PageSize is the statements one request costs at several page sizes.
	PageSize []pageProbe `json:"pageSize"`
	// OldMismatches lists where the old backend (-old) holds other values
	// than ours for the same dataset; empty when they agree.
	OldMismatches []string `json:"oldMismatches,omitempty"`
}

// pageProbe is how many SQL statements one request of a kind costs at each
// page size.
type pageProbe struct {
	Surface    string  `json:"surface"`
	Request    string  `json:"request"`
	Sizes      []int   `json:"sizes"`
	Statements []int64 `json:"statements"`
	Constant   bool    `json:"constant"`
}

// runChecks fails unless the floor answers exactly as Conduit does, then
// compares the GraphQL answers with the legacy ones and probes the cost of
// a page at several sizes.
func runChecks(ctx context.Context, e *env, log *progress) (checkResults, error) {
	var c checkResults
	var err error
	if c.FloorEqual, err = checkFloor(ctx, e); err != nil {
		return c, err
	}
	if c.GraphQLMismatches, err = checkGraphQL(ctx, e); err != nil {
		return c, err
	}
	for _, m := range c.GraphQLMismatches {
		log.step("warning: GraphQL differs from legacy: %s", m)
	}
	if c.PageSize, err = probePageSizes(ctx, e); err != nil {
		return c, err
	}
	if e.old != nil {
		if c.OldMismatches, err = checkOld(ctx, e); err != nil {
			return c, err
		}
		for _, m := range c.OldMismatches {
			log.step("warning: the old backend differs from legacy: %s", m)
		}
	}
	return c, nil
}

// checkOld asks the old backend and legacy for the same things of the
// dataset and returns where the values differ: a check that both hold the
// same data, so that their numbers compare. Slugs, timestamps and ids are
// each backend's own and not compared, nor the order of tags of equal use.
func checkOld(ctx context.Context, e *env) ([]string, error) {
	o := e.oldView
	type pairing struct {
		name        string
		legacy, old string // paths under /api
		token, oTok string
		keys        []string // of the envelope's object, or of each item of its list
		envelope    string
	}
	articleKeys := []string{"title", "description", "body", "tagList", "favoritesCount", "favorited", "author"}
	pairs := []pairing{
		{"list", "/articles?limit=20", "/articles?limit=20", "", "", []string{"articlesCount"}, ""},
		{"feed", "/articles/feed?limit=20", "/articles/feed?limit=20", e.feedToken, o.feedToken, []string{"articlesCount"}, ""},
		{"article", "/articles/" + e.slugs[0], "/articles/" + o.slugs[0], e.tokens[1], o.tokens[1], articleKeys, "article"},
		{"favorited article", "/articles/" + e.favSlugs[0], "/articles/" + o.favSlugs[0], e.tokens[2], o.tokens[2], articleKeys, "article"},
		{"comments", "/articles/" + e.hotSlugs[0] + "/comments", "/articles/" + o.hotSlugs[0] + "/comments", "", "", []string{"body", "author"}, "comments"},
	}
	var diffs []string
	for _, p := range pairs {
		lb, err := e.get(ctx, sysLegacy, "/api"+p.legacy, p.token)
		if err != nil {
			return nil, err
		}
		status, ob, err := e.do(ctx, call{method: http.MethodGet, url: e.old.api + p.old, token: p.oTok})
		if err != nil {
			return nil, err
		}
		var l, g any
		if status != http.StatusOK || json.Unmarshal(ob, &g) != nil {
			diffs = append(diffs, fmt.Sprintf("%s: GET %s answered %d %.200s", p.name, p.old, status, ob))
			continue
		}
		if err := json.Unmarshal(lb, &l); err != nil {
			return nil, err
		}
		if p.envelope != "" {
			l, g = dig(l, []string{p.envelope}), dig(g, []string{p.envelope})
		}
		if d := sameKeys(p.name, l, g, p.keys); d != "" {
			diffs = append(diffs, d)
		}
	}
	// Tags: the same set; their order is by use, and ties may break otherwise.
	lb, err := e.get(ctx, sysLegacy, "/api/tags", "")
	if err != nil {
		return nil, err
	}
	var lt, ot struct{ Tags []string }
	status, ob, err := e.do(ctx, call{method: http.MethodGet, url: e.old.api + "/tags"})
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || json.Unmarshal(ob, &ot) != nil || json.Unmarshal(lb, &lt) != nil {
		return append(diffs, fmt.Sprintf("tags: GET /tags answered %d %.200s", status, ob)), nil
	}
	slices.Sort(lt.Tags)
	slices.Sort(ot.Tags)
	if !slices.Equal(lt.Tags, ot.Tags) {
		diffs = append(diffs, fmt.Sprintf("tags: old %v, legacy %v", ot.Tags, lt.Tags))
	}
	return diffs, nil
}

// project renders the keys of each object of items as JSON.
func project(items []any, keys []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		m, _ := it.(map[string]any)
		sel := map[string]any{}
		for _, k := range keys {
			sel[k] = m[k]
		}
		b, _ := json.Marshal(sel)
		out[i] = string(b)
	}
	return out
}

// sameKeys compares the keys of two objects, or of the items of two lists
// of objects in any order, and describes the first difference.
func sameKeys(path string, legacy, old any, keys []string) string {
	if l, ok := legacy.([]any); ok {
		o, ok := old.([]any)
		if !ok || len(o) != len(l) {
			return fmt.Sprintf("%s: old has %s, legacy %d items", path, lenOf(old), len(l))
		}
		// The items were written concurrently on each backend, so their
		// order (newest first) is each one's own: compare them sorted.
		lp, op := project(l, keys), project(o, keys)
		slices.Sort(lp)
		slices.Sort(op)
		for i := range lp {
			if lp[i] != op[i] {
				return fmt.Sprintf("%s: old has %s, legacy %s", path, op[i], lp[i])
			}
		}
		return ""
	}
	lm, _ := legacy.(map[string]any)
	om, ok := old.(map[string]any)
	if !ok {
		return fmt.Sprintf("%s: old has %T, legacy an object", path, old)
	}
	for _, k := range keys {
		if !reflect.DeepEqual(lm[k], om[k]) {
			return fmt.Sprintf("%s.%s: old %v, legacy %v", path, k, om[k], lm[k])
		}
	}
	return ""
}

// checkFloor compares the floor's bodies with Conduit's legacy ones.
func checkFloor(ctx context.Context, e *env) ([]string, error) {
	type req struct {
		path, token, who string
	}
	reqs := []req{
		{"/api/articles?limit=20", "", "anonymous"},
		{"/api/articles?limit=100&offset=37", "", "anonymous"},
		{"/api/articles?limit=5&offset=20000", "", "anonymous"},
		{"/api/tags", "", "anonymous"},
		{"/api/articles?tag=" + e.data.set.tags[0] + "&limit=20", "", "anonymous"},
		{"/api/articles?tag=" + e.data.set.tags[numTags-1] + "&limit=20&offset=3", e.tokens[1], "user 1"},
		{"/api/articles?tag=no-such-tag", "", "anonymous"},
		{"/api/articles/feed?limit=20", e.feedToken, "user 0"},
		{"/api/articles/feed?limit=100&offset=37", e.feedToken, "user 0"},
	}
	for i := range 10 {
		reqs = append(reqs, req{"/api/articles?limit=20", e.tokens[i], fmt.Sprintf("user %d", i)})
	}
	for i := range 40 {
		reqs = append(reqs, req{"/api/articles/" + e.slugs[i*len(e.slugs)/40], "", "anonymous"})
	}
	for i := range 10 {
		reqs = append(reqs, req{"/api/articles/" + e.favSlugs[i], e.tokens[i], fmt.Sprintf("user %d", i)})
	}
	var checked []string
	sawFlag := false
	for _, r := range reqs {
		floor, err := e.get(ctx, sysFloor, r.path, r.token)
		if err != nil {
			return nil, err
		}
		ours, err := e.get(ctx, sysLegacy, r.path, r.token)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(floor, ours) {
			return nil, fmt.Errorf("the floor's answer to GET %s (%s) differs from Conduit's: %s", r.path, r.who, firstDifference(ours, floor))
		}
		sawFlag = sawFlag || r.token != "" && bytes.Contains(ours, []byte(`"following":true`))
		checked = append(checked, fmt.Sprintf("GET %s (%s): %d bytes", r.path, r.who, len(ours)))
	}
	if !sawFlag {
		return nil, errors.New("no signed-in answer had following:true: the check proves too little")
	}
	return checked, nil
}

// get asks system for path and fails unless it answers 200.
func (e *env) get(ctx context.Context, system, path, token string) ([]byte, error) {
	status, body, err := e.do(ctx, call{method: http.MethodGet, url: e.base(system) + path, token: token})
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s: GET %s: %d %.300s", system, path, status, body)
	}
	return body, nil
}

// firstDifference shows where two bodies part.
func firstDifference(ours, floor []byte) string {
	i := 0
	for i < len(ours) && i < len(floor) && ours[i] == floor[i] {
		i++
	}
	from := max(0, i-60)
	return fmt.Sprintf("at byte %d (of %d and %d)\n  conduit: …%s\n  floor:   …%s",
		i, len(ours), len(floor), ours[from:min(len(ours), i+60)], floor[from:min(len(floor), i+60)])
}

// checkGraphQL compares each GraphQL read with its legacy twin, field by
// field, and returns the differences.
func checkGraphQL(ctx context.Context, e *env) ([]string, error) {
	type pairing struct {
		name         string
		legacy       string // path
		token        string
		query        string
		vars         map[string]any
		legacyPath   []string // to the value to compare in the legacy body
		graphqlPath  []string // to the same value in the GraphQL body
		legacyTotal  []string // to the total, if any
		graphqlTotal []string
	}
	list := []string{"data", "articles", "nodes"}
	pairs := []pairing{
		{"list", "/api/articles?limit=20", "", gqlList, nil, []string{"articles"}, list, []string{"articlesCount"}, []string{"data", "articles", "totalCount"}},
		{"list-signed-in", "/api/articles?limit=20", e.tokens[0], gqlList, nil, []string{"articles"}, list, []string{"articlesCount"}, []string{"data", "articles", "totalCount"}},
		{"feed", "/api/articles/feed?limit=20", e.feedToken, gqlFeed, nil, []string{"articles"}, []string{"data", "feed", "nodes"}, []string{"articlesCount"}, []string{"data", "feed", "totalCount"}},
		{"article", "/api/articles/" + e.slugs[0], "", gqlOne, map[string]any{"slug": e.slugs[0]}, []string{"article"}, []string{"data", "article"}, nil, nil},
		{"tags", "/api/tags", "", gqlTags, nil, []string{"tags"}, []string{"data", "tags"}, nil, nil},
		{"comments", "/api/articles/" + e.hotSlugs[0] + "/comments", "", gqlComments, map[string]any{"slug": e.hotSlugs[0]}, []string{"comments"}, []string{"data", "article", "comments", "nodes"}, nil, nil},
	}
	var diffs []string
	for _, p := range pairs {
		lb, err := e.get(ctx, sysLegacy, p.legacy, p.token)
		if err != nil {
			return nil, err
		}
		gb, err := e.graphqlData(ctx, p.query, p.vars, p.token)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
		var l, g any
		if err := json.Unmarshal(lb, &l); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(gb, &g); err != nil {
			return nil, err
		}
		if d := sameValues(p.name, dig(l, p.legacyPath), dig(g, p.graphqlPath)); d != "" {
			diffs = append(diffs, d)
		}
		if p.legacyTotal != nil && !reflect.DeepEqual(dig(l, p.legacyTotal), dig(g, p.graphqlTotal)) {
			diffs = append(diffs, fmt.Sprintf("%s: total %v, legacy %v", p.name, dig(g, p.graphqlTotal), dig(l, p.legacyTotal)))
		}
	}
	return diffs, nil
}

// graphqlData posts a query to Conduit and fails on errors.
func (e *env) graphqlData(ctx context.Context, query string, vars map[string]any, token string) ([]byte, error) {
	status, body, err := e.do(ctx, call{method: http.MethodPost, url: e.base(sysGraphQL) + "/graphql", token: token, body: gqlBody(query, vars)})
	if err != nil {
		return nil, err
	}
	if !gqlOK(status, body) {
		return nil, fmt.Errorf("graphql: %d %.300s", status, body)
	}
	return body, nil
}

func dig(v any, path []string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// sameValues compares what GraphQL selected with the legacy value: every
// key of a GraphQL object but "id" (a global id there, a number in the
// legacy API) must hold the legacy value.
func sameValues(path string, legacy, graphql any) string {
	switch g := graphql.(type) {
	case map[string]any:
		l, ok := legacy.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: legacy has %v, GraphQL an object", path, legacy)
		}
		for k, gv := range g {
			if k == "id" {
				continue
			}
			if d := sameValues(path+"."+k, l[k], gv); d != "" {
				return d
			}
		}
		return ""
	case []any:
		l, ok := legacy.([]any)
		if !ok || len(l) != len(g) {
			return fmt.Sprintf("%s: GraphQL has %d items, legacy %v", path, len(g), lenOf(legacy))
		}
		for i := range g {
			if d := sameValues(fmt.Sprintf("%s[%d]", path, i), l[i], g[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(legacy, graphql) {
		return fmt.Sprintf("%s: GraphQL %v, legacy %v", path, graphql, legacy)
	}
	return ""
}

func lenOf(v any) string {
	if l, ok := v.([]any); ok {
		return fmt.Sprintf("%d items", len(l))
	}
	return fmt.Sprintf("%T", v)
}

// probePageSizes counts the statements Conduit sends for one request of
// each kind at several page sizes, with nothing else running.
func probePageSizes(ctx context.Context, e *env) ([]pageProbe, error) {
	withComments := `query ArticlesWithComments { articles(first: %d) { totalCount nodes { slug comments(first: 5) { totalCount nodes { body author { username following } } } } } }`
	probes := []struct {
		surface, what string
		call          func(n int) call
	}{
		{sysLegacy, "GET /api/articles?limit=N (anonymous)", func(n int) call { return e.legacyCall(fmt.Sprintf("/api/articles?limit=%d", n), "") }},
		{sysLegacy, "GET /api/articles?limit=N (signed in)", func(n int) call { return e.legacyCall(fmt.Sprintf("/api/articles?limit=%d", n), e.tokens[0]) }},
		{sysLegacy, "GET /api/articles/feed?limit=N", func(n int) call { return e.legacyCall(fmt.Sprintf("/api/articles/feed?limit=%d", n), e.feedToken) }},
		{sysGraphQL, "articles(first: N) (anonymous)", func(n int) call {
			return e.gqlCall(strings.Replace(gqlList, "first: 20", fmt.Sprint("first: ", n), 1), "")
		}},
		{sysGraphQL, "articles(first: N) (signed in)", func(n int) call {
			return e.gqlCall(strings.Replace(gqlList, "first: 20", fmt.Sprint("first: ", n), 1), e.tokens[0])
		}},
		{sysGraphQL, "feed(first: N)", func(n int) call {
			return e.gqlCall(strings.Replace(gqlFeed, "first: 20", fmt.Sprint("first: ", n), 1), e.feedToken)
		}},
		{sysGraphQL, "articles(first: N) { comments(first: 5) } (signed in)", func(n int) call { return e.gqlCall(fmt.Sprintf(withComments, n), e.tokens[0]) }},
	}
	var out []pageProbe
	for _, p := range probes {
		pp := pageProbe{Surface: p.surface, Request: p.what, Sizes: []int{1, 20, 100}, Constant: true}
		for _, n := range pp.Sizes {
			k, err := e.statementsOf(ctx, p.call(n))
			if err != nil {
				return nil, fmt.Errorf("%s at %d: %w", p.what, n, err)
			}
			pp.Statements = append(pp.Statements, k)
			pp.Constant = pp.Constant && k == pp.Statements[0]
		}
		out = append(out, pp)
	}
	return out, nil
}

func (e *env) legacyCall(path, token string) call {
	return call{method: http.MethodGet, url: e.base(sysLegacy) + path, token: token}
}

func (e *env) gqlCall(query, token string) call {
	return call{method: http.MethodPost, url: e.base(sysGraphQL) + "/graphql", token: token, body: gqlBody(query, nil)}
}

// statementsOf sends c to Conduit alone and returns how many statements it cost.
func (e *env) statementsOf(ctx context.Context, c call) (int64, error) {
	before, err := e.sys.ours.statements(ctx)
	if err != nil {
		return 0, err
	}
	status, body, err := e.do(ctx, c)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK || (c.body != nil && !gqlOK(status, body)) {
		return 0, fmt.Errorf("%d %.300s", status, body)
	}
	after, err := e.sys.ours.statements(ctx)
	return after - before, err
}
