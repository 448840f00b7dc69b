package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// workload is what one system is asked in a scenario: the j-th request of
// worker w, and whether an answer counts as a success.
type workload struct {
	next func(w, j int) call
	ok   func(status int, body []byte) bool
}

// scenario is one kind of request, put to every system that serves it.
type scenario struct {
	name  string
	title string
	write bool
	// systems maps each system that serves the scenario to its workload.
	systems map[string]func(e *env, base string) workload
	// run, when set, is a scenario of its own kind, not closed-loop
	// requests to systems: it measures and adds to the results itself.
	run func(ctx context.Context, e *env, cfg config, res *results, log *progress) error
}

// systemOrder is the order the systems of a run go in: every other
// scenario reverses it, so that drift of the machine hits all alike. Each
// traced or baseline system runs beside its twin of the current build;
// they are there only with -tracing and -baseline (rev is its short
// commit, or empty). The old backend (-old) goes last.
func systemOrder(tracing bool, rev string, old bool) []string {
	order := []string{sysFloor}
	for _, sys := range []string{sysLegacy, sysGraphQL} {
		order = append(order, sys)
		if tracing {
			order = append(order, tracedOf[sys])
		}
		if rev != "" {
			order = append(order, baselineSystem(sys, rev))
		}
	}
	if old {
		order = append(order, sysOld)
	}
	return order
}

// workloadFor returns what sc asks of system, and whether it runs there:
// a traced or baseline system is asked what its twin is, the old backend
// what legacy is (every legacy workload is REST only).
func workloadFor(sc scenario, system string) (func(*env, string) workload, bool) {
	if twin, ok := twinOf(system); ok {
		system = twin
	}
	if system == sysOld {
		system = sysLegacy
	}
	build, ok := sc.systems[system]
	return build, ok
}

// The GraphQL selections that ask for what the legacy bodies hold.
const (
	gqlProfile  = `author { username bio image following }`
	gqlListed   = `slug title description tagList createdAt updatedAt favorited favoritesCount ` + gqlProfile
	gqlArticle  = `slug title description body tagList createdAt updatedAt favorited favoritesCount ` + gqlProfile
	gqlList     = `query Articles { articles(first: 20) { totalCount nodes { ` + gqlListed + ` } } }`
	gqlFeed     = `query Feed { feed(first: 20) { totalCount nodes { ` + gqlListed + ` } } }`
	gqlOne      = `query Article($slug: String!) { article(slug: $slug) { ` + gqlArticle + ` } }`
	gqlTags     = `query Tags { tags }`
	gqlComments = `query Comments($slug: String!) { article(slug: $slug) { comments(first: 20) { totalCount nodes { id body createdAt updatedAt ` + gqlProfile + ` } } } }`
	gqlCreate   = `mutation CreateArticle($input: CreateArticleInput!) { createArticle(input: $input) { article { ` + gqlArticle + ` } userErrors { message } } }`
	gqlFavorite = `mutation Favorite($input: FavoriteArticleInput!) { favoriteArticle(input: $input) { article { ` + gqlArticle + ` } userErrors { message } } }`
	gqlUnfav    = `mutation Unfavorite($input: UnfavoriteArticleInput!) { unfavoriteArticle(input: $input) { article { ` + gqlArticle + ` } userErrors { message } } }`
)

// scenarios lists every scenario, reads first: the writes change the data
// (and are undone after each of them).
func scenarios() []scenario {
	return []scenario{
		{name: "list", title: "GET /api/articles?limit=20, anonymous", systems: map[string]func(*env, string) workload{
			sysFloor:   func(e *env, base string) workload { return e.legacyGet(base, "/api/articles?limit=20", nil) },
			sysLegacy:  func(e *env, base string) workload { return e.legacyGet(base, "/api/articles?limit=20", nil) },
			sysGraphQL: func(e *env, base string) workload { return e.graphql(base, gqlList, nil, nil) },
		}},
		{name: "list-signed-in", title: "GET /api/articles?limit=20, signed in (50 users in turn)", systems: map[string]func(*env, string) workload{
			sysFloor:   func(e *env, base string) workload { return e.legacyGet(base, "/api/articles?limit=20", e.tokens) },
			sysLegacy:  func(e *env, base string) workload { return e.legacyGet(base, "/api/articles?limit=20", e.tokens) },
			sysGraphQL: func(e *env, base string) workload { return e.graphql(base, gqlList, nil, e.tokens) },
		}},
		{name: "feed", title: "GET /api/articles/feed?limit=20, a user who follows 150", systems: map[string]func(*env, string) workload{
			sysFloor: func(e *env, base string) workload {
				return e.legacyGet(base, "/api/articles/feed?limit=20", []string{e.feedToken})
			},
			sysLegacy: func(e *env, base string) workload {
				return e.legacyGet(base, "/api/articles/feed?limit=20", []string{e.feedToken})
			},
			sysGraphQL: func(e *env, base string) workload { return e.graphql(base, gqlFeed, nil, []string{e.feedToken}) },
		}},
		{name: "article", title: "GET /api/articles/{slug}, 1,000 slugs in turn, anonymous", systems: map[string]func(*env, string) workload{
			sysFloor:   func(e *env, base string) workload { return e.legacyRotate(base, "/api/articles/%s", e.slugs) },
			sysLegacy:  func(e *env, base string) workload { return e.legacyRotate(base, "/api/articles/%s", e.slugs) },
			sysGraphQL: func(e *env, base string) workload { return e.graphql(base, gqlOne, slugVars(e.slugs), nil) },
		}},
		{name: "tags", title: "GET /api/tags", systems: map[string]func(*env, string) workload{
			sysFloor:   func(e *env, base string) workload { return e.legacyGet(base, "/api/tags", nil) },
			sysLegacy:  func(e *env, base string) workload { return e.legacyGet(base, "/api/tags", nil) },
			sysGraphQL: func(e *env, base string) workload { return e.graphql(base, gqlTags, nil, nil) },
		}},
		// The same tag list with GraphQL over GET, as clients that prefer GET
		// for queries send it (urql's default): the method and the ETag of
		// the legacy request, so that the ratio shows what POST itself costs.
		{name: "tags-get", title: "GET /api/tags; GraphQL as GET /graphql?query=…", systems: map[string]func(*env, string) workload{
			sysLegacy:  func(e *env, base string) workload { return e.legacyGet(base, "/api/tags", nil) },
			sysGraphQL: func(e *env, base string) workload { return e.graphqlGet(base, gqlTags) },
		}},
		{name: "comments", title: "GET /api/articles/{slug}/comments, 500 articles of 20 comments in turn", systems: map[string]func(*env, string) workload{
			sysLegacy: func(e *env, base string) workload {
				return e.legacyRotate(base, "/api/articles/%s/comments", e.hotSlugs)
			},
			sysGraphQL: func(e *env, base string) workload { return e.graphql(base, gqlComments, slugVars(e.hotSlugs), nil) },
		}},
		{name: "create-article", title: "POST /api/articles, signed in", write: true, systems: map[string]func(*env, string) workload{
			sysLegacy:  (*env).legacyCreate,
			sysGraphQL: (*env).graphqlCreate,
		}},
		{name: "create-article-distinct", title: "POST /api/articles, signed in, tags no other request uses", write: true, systems: map[string]func(*env, string) workload{
			sysLegacy:  (*env).legacyCreateDistinct,
			sysGraphQL: (*env).graphqlCreateDistinct,
		}},
		{name: "favorite", title: "POST then DELETE /api/articles/{slug}/favorite, 1,000 slugs in turn", write: true, systems: map[string]func(*env, string) workload{
			sysLegacy:  (*env).legacyFavorite,
			sysGraphQL: (*env).graphqlFavorite,
		}},
		{name: "subscriptions", title: "commentAdded to WebSocket subscribers on two more replicas, comments written at -sub-rate", write: true, run: runSubscriptions},
	}
}

// rotate spreads the workers over n items: worker w's j-th request takes
// item (997·w + j) mod n, so that workers rarely ask for the same one at once.
func rotate(w, j, n int) int { return (w*997 + j) % n }

func ok2xx(status int, _ []byte) bool { return status >= 200 && status < 300 }

// legacyGet asks for path, signed in as the tokens in turn when there are any.
func (e *env) legacyGet(base, path string, tokens []string) workload {
	return workload{ok: ok2xx, next: func(w, j int) call {
		c := call{method: http.MethodGet, url: base + path}
		if len(tokens) > 0 {
			c.token = tokens[rotate(w, j, len(tokens))]
		}
		return c
	}}
}

// legacyRotate asks for the path pattern filled with each slug in turn.
func (e *env) legacyRotate(base, pattern string, slugs []string) workload {
	urls := make([]string, len(slugs))
	for i, s := range slugs {
		urls[i] = base + fmt.Sprintf(pattern, s)
	}
	return workload{ok: ok2xx, next: func(w, j int) call {
		return call{method: http.MethodGet, url: urls[rotate(w, j, len(urls))]}
	}}
}

func slugVars(slugs []string) []map[string]any {
	vs := make([]map[string]any, len(slugs))
	for i, s := range slugs {
		vs[i] = map[string]any{"slug": s}
	}
	return vs
}

// graphql posts query, with each of vars in turn when there are any,
// signed in as each of tokens in turn when there are any. An answer with
// errors is a failure, whatever its status.
func (e *env) graphql(base, query string, vars []map[string]any, tokens []string) workload {
	bodies := [][]byte{gqlBody(query, nil)}
	if len(vars) > 0 {
		bodies = bodies[:0]
		for _, v := range vars {
			bodies = append(bodies, gqlBody(query, v))
		}
	}
	return workload{ok: gqlOK, next: func(w, j int) call {
		c := call{method: http.MethodPost, url: base + "/graphql", body: bodies[rotate(w, j, len(bodies))]}
		if len(tokens) > 0 {
			c.token = tokens[rotate(w, j, len(tokens))]
		}
		return c
	}}
}

// graphqlGet sends query over GET, in the URL, as a client that prefers
// GET for queries does.
func (e *env) graphqlGet(base, query string) workload {
	u := base + "/graphql?query=" + url.QueryEscape(query)
	return workload{ok: gqlOK, next: func(int, int) call { return call{method: http.MethodGet, url: u} }}
}

func gqlBody(query string, vars map[string]any) []byte {
	req := map[string]any{"query": query}
	if vars != nil {
		req["variables"] = vars
	}
	b, err := json.Marshal(req)
	if err != nil {
		panic(err) // plain strings and maps
	}
	return b
}

var (
	errorsKey     = []byte(`"errors":[`)
	noUserErrors  = []byte(`"userErrors":[]`)
	newArticleTag = []string{"go", "postgres"}
)

func gqlOK(status int, body []byte) bool {
	return status == http.StatusOK && !bytes.Contains(body, errorsKey)
}

func gqlMutationOK(status int, body []byte) bool {
	return gqlOK(status, body) && bytes.Contains(body, noUserErrors)
}

// titles hands out article titles that no other request of the run uses:
// the rounds of a scenario restart each worker's request count, so the
// count cannot tell them apart, and a repeated title would measure the
// service's retry for a free slug instead of a create.
type titles struct {
	prefix string
	seq    atomic.Int64
}

func newTitles(system string) *titles {
	return &titles{prefix: fmt.Sprintf("Load %s %d", system, time.Now().UnixNano())}
}

func (t *titles) next() string { return fmt.Sprintf("%s n%d", t.prefix, t.seq.Add(1)) }

// tagLists hands out the tag lists of the create scenarios: newArticleTag
// on every request (popular tags, which every writer shares), or with
// distinct as many tags as it has, each used by no other request of the
// run, so that no two writers share a tag.
func tagLists(system string, distinct bool) func() []string {
	if !distinct {
		return func() []string { return newArticleTag }
	}
	prefix := fmt.Sprintf("%s%s-%d", loadTagPrefix, system, time.Now().UnixNano())
	var seq atomic.Int64
	return func() []string {
		n := seq.Add(1)
		tags := make([]string, len(newArticleTag))
		for i := range tags {
			tags[i] = fmt.Sprintf("%s-n%d-%d", prefix, n, i)
		}
		return tags
	}
}

// loadTagPrefix starts the name of every tag create-article-distinct makes,
// so that they can be removed with the writer's articles.
const loadTagPrefix = "load-"

// legacyCreate publishes a new article as the writer on every request.
func (e *env) legacyCreate(base string) workload { return e.legacyCreateTagged(base, false) }

// legacyCreateDistinct is legacyCreate with tags of each request's own.
func (e *env) legacyCreateDistinct(base string) workload { return e.legacyCreateTagged(base, true) }

func (e *env) legacyCreateTagged(base string, distinct bool) workload {
	ts, tags := newTitles(sysLegacy), tagLists(sysLegacy, distinct)
	return workload{ok: ok2xx, next: func(int, int) call {
		body, _ := json.Marshal(map[string]any{"article": map[string]any{
			"title": ts.next(), "description": "Written under load.",
			"body": "A body written by the benchmark.", "tagList": tags(),
		}})
		return call{method: http.MethodPost, url: base + "/api/articles", token: e.writerToken, body: body}
	}}
}

// graphqlCreate is legacyCreate through createArticle.
func (e *env) graphqlCreate(base string) workload { return e.graphqlCreateTagged(base, false) }

// graphqlCreateDistinct is legacyCreateDistinct through createArticle.
func (e *env) graphqlCreateDistinct(base string) workload { return e.graphqlCreateTagged(base, true) }

func (e *env) graphqlCreateTagged(base string, distinct bool) workload {
	ts, tags := newTitles(sysGraphQL), tagLists(sysGraphQL, distinct)
	return workload{ok: gqlMutationOK, next: func(int, int) call {
		body := gqlBody(gqlCreate, map[string]any{"input": map[string]any{
			"title": ts.next(), "description": "Written under load.",
			"body": "A body written by the benchmark.", "tagList": tags(),
		}})
		return call{method: http.MethodPost, url: base + "/graphql", token: e.writerToken, body: body}
	}}
}

// legacyFavorite favorites an article as the writer, then unfavorites it
// on the worker's next request, then moves on to the next article.
func (e *env) legacyFavorite(base string) workload {
	urls := make([]string, len(e.favSlugs))
	for i, s := range e.favSlugs {
		urls[i] = base + "/api/articles/" + s + "/favorite"
	}
	return workload{ok: ok2xx, next: func(w, j int) call {
		c := call{method: http.MethodPost, url: urls[rotate(w, j/2, len(urls))], token: e.writerToken}
		if j%2 == 1 {
			c.method = http.MethodDelete
		}
		return c
	}}
}

// graphqlFavorite is legacyFavorite through favoriteArticle and unfavoriteArticle.
func (e *env) graphqlFavorite(base string) workload {
	fav := make([][]byte, len(e.favSlugs))
	unfav := make([][]byte, len(e.favSlugs))
	for i, s := range e.favSlugs {
		in := map[string]any{"input": map[string]any{"slug": s}}
		fav[i], unfav[i] = gqlBody(gqlFavorite, in), gqlBody(gqlUnfav, in)
	}
	return workload{ok: gqlMutationOK, next: func(w, j int) call {
		bodies := fav
		if j%2 == 1 {
			bodies = unfav
		}
		return call{method: http.MethodPost, url: base + "/graphql", token: e.writerToken, body: bodies[rotate(w, j/2, len(bodies))]}
	}}
}
