package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestSoak runs many clients against the real server for a while, 70%
// reads and 30% writes through both surfaces, then checks that the server
// never answered 5xx nor dropped a connection, that every write it
// acknowledged is in the database, and that every count it keeps (an
// article's favorites, a tag's articles) equals a count(*) of the rows.
// make soak runs it for 60 s (SOAK_DURATION); go test runs 10 s; both
// with 64 clients (SOAK_CLIENTS).
func TestSoak(t *testing.T) {
	duration := 10 * time.Second
	clients := 64
	if s := os.Getenv("SOAK_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("SOAK_DURATION=%q: %v", s, err)
		}
		duration = d
	}
	if s := os.Getenv("SOAK_CLIENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			t.Fatalf("SOAK_CLIENTS=%q: want a number of at least 2", s)
		}
		clients = n
	}
	url := dbtest.NewURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"conduit"}, env(map[string]string{
			"ADDR": "127.0.0.1:0", "DATABASE_URL": url, "BCRYPT_COST": "4", "LOG_FORMAT": "json",
			"JWT_SECRET":                   "soak-test-secret-q7Vb0kX2mJ9TzR4uYcN1pW8sLhE6",
			"RATE_LIMIT_LOGIN_PER_ADDRESS": "off", "RATE_LIMIT_LOGIN_PER_ACCOUNT": "off", "RATE_LIMIT_REGISTER_PER_ADDRESS": "off",
		}), withoutAccessLog{&out})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if logs := out.String(); strings.Contains(logs, `"level":"WARN"`) || strings.Contains(logs, `"level":"ERROR"`) {
			t.Errorf("the server logged warnings or errors:\n%s", logs)
		}
	}()
	base := waitListening(t, &out, done)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}

	cs := make([]*soakClient, clients)
	for i := range cs {
		cs[i] = &soakClient{t: t, id: i, base: base, hc: hc, rng: rand.New(rand.NewPCG(uint64(i), 7)),
			favorites: map[string]bool{}, follows: map[int]bool{}, deleted: map[string]bool{}}
		cs[i].signUp()
	}
	for _, c := range cs {
		c.publish() // something to read from the start
	}
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				c.step(cs)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var total soakStats
	for _, c := range cs {
		total.add(c.stats)
	}
	t.Logf("soak: %d clients, %v: %d requests (%.0f/s), %d reads, %d writes acknowledged, 5xx %d, transport errors %d, p50 %v, p99 %v, slowest %v (%s)",
		clients, elapsed.Round(time.Millisecond), total.requests, float64(total.requests)/elapsed.Seconds(), total.reads, total.writes,
		total.serverErrors, total.transportErrors, total.percentile(50), total.percentile(99), total.slowest.Round(time.Millisecond), total.slowestWhat)
	if total.serverErrors != 0 || total.transportErrors != 0 || len(total.unexpected) != 0 {
		t.Errorf("5xx: %d, transport errors: %d, unexpected answers: %v", total.serverErrors, total.transportErrors, total.unexpected)
	}
	if total.writes < int64(clients) {
		t.Fatalf("only %d writes: the soak did not run", total.writes)
	}
	verifySoak(t, url, cs)
}

// withoutAccessLog drops the access log's lines, which a soak makes by the
// hundred thousand.
type withoutAccessLog struct{ w io.Writer }

func (f withoutAccessLog) Write(p []byte) (int, error) {
	if strings.Contains(string(p), `"msg":"request"`) {
		return len(p), nil
	}
	return f.w.Write(p)
}

// soakStats is what one client saw.
type soakStats struct {
	requests, reads, writes       int64
	serverErrors, transportErrors int64
	unexpected                    []string
	latencies                     []time.Duration
	slowest                       time.Duration
	slowestWhat                   string
}

func (s *soakStats) add(o soakStats) {
	s.requests += o.requests
	s.reads += o.reads
	s.writes += o.writes
	s.serverErrors += o.serverErrors
	s.transportErrors += o.transportErrors
	s.unexpected = append(s.unexpected, o.unexpected...)
	s.latencies = append(s.latencies, o.latencies...)
	if o.slowest > s.slowest {
		s.slowest, s.slowestWhat = o.slowest, o.slowestWhat
	}
}

func (s *soakStats) percentile(p int) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	slices.Sort(s.latencies)
	return s.latencies[(len(s.latencies)-1)*p/100].Round(10 * time.Microsecond)
}

// soakClient is one user, who writes only what is theirs (their
// articles, their favorites, whom they follow, their comments), so that
// what they were last told is what the database must hold.
type soakClient struct {
	t        *testing.T
	id       int
	base     string
	hc       *http.Client
	rng      *rand.Rand
	token    string
	username string
	n        int // their articles so far, for unique titles

	articles  []string        // slugs of the articles they published
	deleted   map[string]bool // of those, the ones they deleted
	favorites map[string]bool // slug -> favorited, as last acknowledged
	follows   map[int]bool    // client id -> following, as last acknowledged
	comments  []soakComment
	stats     soakStats
}

type soakComment struct {
	slug string
	id   int64
}

// send makes a request through REST or GraphQL and returns the status and
// the decoded body. Statuses in ok are expected; any other is recorded.
func (c *soakClient) send(method, path, body string, into any, ok ...int) int {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Token "+c.token)
	}
	start := time.Now()
	res, err := c.hc.Do(req)
	c.stats.requests++
	if err != nil {
		c.stats.transportErrors++
		return 0
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(start)
	c.stats.latencies = append(c.stats.latencies, took)
	if took > c.stats.slowest {
		c.stats.slowest, c.stats.slowestWhat = took, method+" "+path
	}
	if err != nil {
		c.stats.transportErrors++
		return 0
	}
	if res.StatusCode >= 500 {
		c.stats.serverErrors++
		c.stats.unexpected = append(c.stats.unexpected, fmt.Sprintf("%s %s: %d after %v: %s", method, path, res.StatusCode, took.Round(time.Millisecond), b))
	} else if !slices.Contains(ok, res.StatusCode) {
		c.stats.unexpected = append(c.stats.unexpected, fmt.Sprintf("%s %s: %d %s", method, path, res.StatusCode, b))
	}
	if into != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, into); err != nil {
			c.stats.unexpected = append(c.stats.unexpected, fmt.Sprintf("%s %s: %v", method, path, err))
		}
	}
	return res.StatusCode
}

// graphql sends a GraphQL operation and returns its data, or nil when it
// failed (the failure is recorded unless it is one of codes).
func (c *soakClient) graphql(query string, vars map[string]any, codes ...string) json.RawMessage {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	var res struct {
		Data   json.RawMessage
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if c.send("POST", "/graphql", string(body), &res, http.StatusOK) != http.StatusOK {
		return nil
	}
	if len(res.Errors) > 0 {
		if e := res.Errors[0]; !slices.Contains(codes, e.Extensions.Code) {
			c.stats.unexpected = append(c.stats.unexpected, fmt.Sprintf("GraphQL %s: %s %s", strings.Fields(query)[0], e.Extensions.Code, e.Message))
		}
		return nil
	}
	return res.Data
}

func (c *soakClient) signUp() {
	c.username = fmt.Sprintf("soak%d", c.id)
	if c.id%2 == 0 {
		var r struct{ User struct{ Token string } }
		if c.send("POST", "/api/users", `{"user":{"username":"`+c.username+`","email":"`+c.username+`@example.com","password":"password1"}}`, &r, 201) != 201 {
			c.t.Fatalf("sign up %s failed", c.username)
		}
		c.token = r.User.Token
		return
	}
	data := c.graphql(`mutation($i: RegisterInput!) { register(input: $i) { token } }`,
		map[string]any{"i": map[string]any{"username": c.username, "email": c.username + "@example.com", "password": "password1"}})
	var r struct{ Register struct{ Token string } }
	if json.Unmarshal(data, &r) != nil || r.Register.Token == "" {
		c.t.Fatalf("sign up %s failed", c.username)
	}
	c.token = r.Register.Token
}

var soakTags = []string{"go", "graphql", "rest", "postgres", "soak", "load"}

// publish creates an article, through either surface.
func (c *soakClient) publish() {
	c.n++
	title := fmt.Sprintf("Soak %d %d", c.id, c.n)
	tags := []string{soakTags[c.rng.IntN(len(soakTags))], soakTags[c.rng.IntN(len(soakTags))]}
	if c.rng.IntN(2) == 0 {
		tj, _ := json.Marshal(tags)
		var r struct{ Article struct{ Slug string } }
		if c.send("POST", "/api/articles", `{"article":{"title":"`+title+`","description":"d","body":"b","tagList":`+string(tj)+`}}`, &r, 201) == 201 {
			c.published(r.Article.Slug)
		}
		return
	}
	data := c.graphql(`mutation($i: CreateArticleInput!) { createArticle(input: $i) { article { slug } userErrors { message } } }`,
		map[string]any{"i": map[string]any{"title": title, "description": "d", "body": "b", "tagList": tags}})
	var r struct {
		CreateArticle struct{ Article *struct{ Slug string } }
	}
	if json.Unmarshal(data, &r) == nil && r.CreateArticle.Article != nil {
		c.published(r.CreateArticle.Article.Slug)
	}
}

// soakMu guards every client's articles and deleted, which the others read.
var soakMu sync.Mutex

func (c *soakClient) published(slug string) {
	soakMu.Lock()
	c.articles = append(c.articles, slug)
	soakMu.Unlock()
	c.stats.writes++
}

// someArticle returns an article of another client, or "" if none is known.
func (c *soakClient) someArticle(cs []*soakClient) string {
	o := cs[c.rng.IntN(len(cs))]
	if o == c {
		return ""
	}
	soakMu.Lock()
	defer soakMu.Unlock()
	if len(o.articles) == 0 {
		return ""
	}
	return o.articles[c.rng.IntN(len(o.articles))]
}

// step does one random operation: 70% reads, 30% writes.
func (c *soakClient) step(cs []*soakClient) {
	r := c.rng.IntN(100)
	switch {
	case r < 14:
		c.stats.reads++
		c.send("GET", "/api/articles?limit=20", "", nil, 200)
	case r < 28:
		c.stats.reads++
		c.graphql(`{ articles(first: 20) { totalCount nodes { slug title favorited favoritesCount tagList author { username following } } } }`, nil)
	case r < 38:
		c.stats.reads++
		if slug := c.someArticle(cs); slug != "" {
			c.send("GET", "/api/articles/"+slug, "", nil, 200, 404)
		}
	case r < 48:
		c.stats.reads++
		if slug := c.someArticle(cs); slug != "" {
			c.graphql(`query($s: String!) { article(slug: $s) { title comments(first: 10) { nodes { body author { username } } } } }`, map[string]any{"s": slug})
		}
	case r < 54:
		c.stats.reads++
		c.send("GET", "/api/articles/feed?limit=10", "", nil, 200)
	case r < 60:
		c.stats.reads++
		c.send("GET", "/api/tags", "", nil, 200)
	case r < 65:
		c.stats.reads++
		if slug := c.someArticle(cs); slug != "" {
			c.send("GET", "/api/articles/"+slug+"/comments", "", nil, 200, 404)
		}
	case r < 70:
		c.stats.reads++
		c.graphql(`query($u: String!) { profile(username: $u) { username following articles(first: 5) { totalCount } } }`,
			map[string]any{"u": cs[c.rng.IntN(len(cs))].username})
	case r < 78:
		c.publish()
	case r < 86:
		c.favorite(cs)
	case r < 91:
		c.comment(cs)
	case r < 96:
		c.follow(cs)
	default:
		c.deleteOwn()
	}
}

func (c *soakClient) favorite(cs []*soakClient) {
	slug := c.someArticle(cs)
	if slug == "" {
		return
	}
	on := c.rng.IntN(3) != 0
	if c.rng.IntN(2) == 0 {
		method := "POST"
		if !on {
			method = "DELETE"
		}
		if c.send(method, "/api/articles/"+slug+"/favorite", "", nil, 200, 404) == 200 {
			c.favorites[slug] = on
			c.stats.writes++
		}
		return
	}
	op := "favoriteArticle"
	if !on {
		op = "unfavoriteArticle"
	}
	data := c.graphql(`mutation($i: `+strings.ToUpper(op[:1])+op[1:]+`Input!) { `+op+`(input: $i) { article { favorited } } }`,
		map[string]any{"i": map[string]any{"slug": slug}}, "NOT_FOUND")
	if data != nil {
		c.favorites[slug] = on
		c.stats.writes++
	}
}

func (c *soakClient) comment(cs []*soakClient) {
	slug := c.someArticle(cs)
	if slug == "" {
		return
	}
	var r struct{ Comment struct{ ID int64 } }
	if c.send("POST", "/api/articles/"+slug+"/comments", `{"comment":{"body":"soaked"}}`, &r, 200, 404) == 200 {
		c.comments = append(c.comments, soakComment{slug: slug, id: r.Comment.ID})
		c.stats.writes++
	}
}

func (c *soakClient) follow(cs []*soakClient) {
	o := cs[c.rng.IntN(len(cs))]
	if o == c {
		return
	}
	on := c.rng.IntN(3) != 0
	if c.rng.IntN(2) == 0 {
		method := "POST"
		if !on {
			method = "DELETE"
		}
		if c.send(method, "/api/profiles/"+o.username+"/follow", "", nil, 200) == 200 {
			c.follows[o.id] = on
			c.stats.writes++
		}
		return
	}
	op := "followProfile"
	if !on {
		op = "unfollowProfile"
	}
	if c.graphql(`mutation($i: `+strings.ToUpper(op[:1])+op[1:]+`Input!) { `+op+`(input: $i) { profile { following } } }`,
		map[string]any{"i": map[string]any{"username": o.username}}) != nil {
		c.follows[o.id] = on
		c.stats.writes++
	}
}

func (c *soakClient) deleteOwn() {
	soakMu.Lock()
	var live []string
	for _, s := range c.articles {
		if !c.deleted[s] {
			live = append(live, s)
		}
	}
	soakMu.Unlock()
	if len(live) < 2 {
		return
	}
	slug := live[c.rng.IntN(len(live))]
	if c.send("DELETE", "/api/articles/"+slug, "", nil, 204) == 204 {
		soakMu.Lock()
		c.deleted[slug] = true
		soakMu.Unlock()
		c.stats.writes++
	}
}

// verifySoak checks the database against what the clients were told.
func verifySoak(t *testing.T, url string, cs []*soakClient) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exists := func(sql string, args ...any) bool {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (`+sql+`)`, args...).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	gone := map[string]bool{}
	for _, c := range cs {
		for s := range c.deleted {
			gone[s] = true
		}
	}
	checked := 0
	for _, c := range cs {
		for _, slug := range c.articles {
			if got := exists(`SELECT 1 FROM articles WHERE slug = $1`, slug); got == gone[slug] {
				t.Errorf("article %s: in the database = %v, but it was deleted = %v", slug, got, gone[slug])
			}
			checked++
		}
		for _, cm := range c.comments {
			if got := exists(`SELECT 1 FROM comments WHERE id = $1`, cm.id); got == gone[cm.slug] {
				t.Errorf("comment %d on %s: in the database = %v, article deleted = %v", cm.id, cm.slug, got, gone[cm.slug])
			}
			checked++
		}
		for slug, on := range c.favorites {
			if gone[slug] {
				continue
			}
			if got := exists(`SELECT 1 FROM favorites f JOIN articles a ON a.id = f.article_id JOIN users u ON u.id = f.user_id WHERE a.slug = $1 AND u.username = $2`, slug, c.username); got != on {
				t.Errorf("%s favorited %s = %v, last acknowledged %v", c.username, slug, got, on)
			}
			checked++
		}
		for id, on := range c.follows {
			if got := exists(`SELECT 1 FROM follows f JOIN users a ON a.id = f.follower_id JOIN users b ON b.id = f.followee_id WHERE a.username = $1 AND b.username = $2`, c.username, cs[id].username); got != on {
				t.Errorf("%s follows %s = %v, last acknowledged %v", c.username, cs[id].username, got, on)
			}
			checked++
		}
	}
	for name, sql := range map[string]string{
		"favorites_count": `SELECT count(*) FROM articles a WHERE favorites_count <> (SELECT count(*) FROM favorites f WHERE f.article_id = a.id)`,
		"article_counts": `SELECT count(*) FROM count_articles_kept() k FULL JOIN count_articles_truth() t USING (scope, key, shard)
			WHERE coalesce(k.n, 0) <> coalesce(t.n, 0)`,
	} {
		var n int
		if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows whose kept %s differs from count(*)", n, name)
		}
	}
	t.Logf("soak: %d acknowledged writes and states verified; kept counters equal count(*)", checked)
}
