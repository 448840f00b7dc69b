package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/db/dbtest"
)

// liveWait bounds every wait for something the servers do by themselves
// (an event to arrive, a gauge to move, a replica to recover): generous,
// for a loaded machine, since a test that passes never waits that long.
const liveWait = 15 * time.Second

// replica is one server process, started from the built binary.
type replica struct {
	name string
	base string // http://127.0.0.1:port
	out  syncBuffer
}

// buildConduit builds the program, as TestSIGTERMUnderWriteLoad does, in
// the background while the test sets up its database; the function it
// returns waits for the build and gives the binary's path.
func buildConduit(t *testing.T) func() string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "conduit")
	built := make(chan error, 1)
	go func() {
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			err = fmt.Errorf("go build: %v\n%s", err, out)
		}
		built <- err
	}()
	var err error
	var once sync.Once
	wait := func() { once.Do(func() { err = <-built }) }
	t.Cleanup(wait) // before the temporary directory goes
	return func() string {
		t.Helper()
		if wait(); err != nil {
			t.Fatal(err)
		}
		return bin
	}
}

// startReplicas starts one process of bin per name, all on the database
// at url and with the same secret, as a deployment runs its replicas, and
// waits until each listens. Each is sent SIGTERM when the test ends and
// must then exit cleanly.
func startReplicas(t *testing.T, bin, url string, names ...string) []*replica {
	t.Helper()
	rs := make([]*replica, len(names))
	exits := make([]chan error, len(names))
	for i, name := range names {
		r := &replica{name: name}
		rs[i] = r
		cmd := exec.Command(bin)
		// Only what the program needs, so that nothing of the test's own
		// environment (a METRICS_ADDR, a CONDUIT_ENV) changes it.
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir(),
			"ADDR=127.0.0.1:0", "DATABASE_URL=" + url, "EMBEDDED_DATABASE=false",
			"JWT_SECRET=" + replicaSecret, "BCRYPT_COST=4", "LOG_FORMAT=json",
			"RATE_LIMIT_REGISTER_PER_ADDRESS=off",
		}
		cmd.Stdout, cmd.Stderr = &r.out, &r.out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		exits[i] = exited
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("replica %s exited with %v after SIGTERM, want 0", name, err)
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Errorf("replica %s still running 30 s after SIGTERM", name)
			}
			if t.Failed() {
				t.Logf("replica %s log:\n%s", name, r.out.String())
			}
		})
	}
	for i, r := range rs {
		r.base = waitListening(t, &r.out, exits[i])
	}
	return rs
}

// register signs a user up through the legacy API and returns the token.
func register(t *testing.T, base, username string) string {
	t.Helper()
	var reg struct{ User struct{ Token string } }
	call(t, "POST", base+"/api/users", "", fmt.Sprintf(`{"user":{"username":%q,"email":"%s@example.com","password":"password1"}}`, username, username), 201, &reg)
	return reg.User.Token
}

// createArticle publishes an article through the legacy API and returns
// its slug.
func createArticle(t *testing.T, base, token, title string) string {
	t.Helper()
	var res struct{ Article struct{ Slug string } }
	call(t, "POST", base+"/api/articles", token, fmt.Sprintf(`{"article":{"title":%q,"description":"d","body":"b"}}`, title), 201, &res)
	return res.Article.Slug
}

// restComment adds a comment through the legacy API and returns its id.
func restComment(t *testing.T, base, token, slug, body string) int64 {
	t.Helper()
	var res struct{ Comment struct{ ID int64 } }
	call(t, "POST", base+"/api/articles/"+slug+"/comments", token, fmt.Sprintf(`{"comment":{"body":%q}}`, body), 200, &res)
	return res.Comment.ID
}

// gqlComment adds a comment through GraphQL and returns its global id.
func gqlComment(t *testing.T, base, token, slug, body string) string {
	t.Helper()
	var res struct {
		Data struct {
			AddComment struct {
				Comment    struct{ ID string }
				UserErrors []any
			}
		}
		Errors []any
	}
	q, _ := json.Marshal(map[string]any{
		"query":     `mutation($in: AddCommentInput!) { addComment(input: $in) { comment { id } userErrors { field message } } }`,
		"variables": map[string]any{"in": map[string]string{"articleSlug": slug, "body": body}},
	})
	call(t, "POST", base+"/graphql", token, string(q), 200, &res)
	if len(res.Errors) > 0 || len(res.Data.AddComment.UserErrors) > 0 || res.Data.AddComment.Comment.ID == "" {
		t.Fatalf("addComment %q: %+v", body, res)
	}
	return res.Data.AddComment.Comment.ID
}

// metric reads the value of an unlabelled metric from the replica's
// /metrics, which is on the public port in development.
func (r *replica) metric(t *testing.T, name string) float64 {
	t.Helper()
	res, err := http.Get(r.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("replica %s: GET /metrics = %d: %s", r.name, res.StatusCode, b)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("replica %s: %s: %v", r.name, line, err)
			}
			return f
		}
	}
	t.Fatalf("replica %s: no %s in /metrics:\n%s", r.name, name, b)
	return 0
}

// waitMetric polls the replica's /metrics until the metric has the value
// want.
func (r *replica) waitMetric(t *testing.T, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(liveWait)
	for {
		got := r.metric(t, name)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s: %s = %v after %v, want %v", r.name, name, got, liveWait, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitReady polls the replica's /readyz until it answers 200.
func (r *replica) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(liveWait)
	for {
		code, body, _ := status(t, "GET", r.base+"/readyz", "", "")
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s: /readyz = %d %s after %v, want 200", r.name, code, body, liveWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits until the replica has logged a line that contains msg.
func (r *replica) waitLog(t *testing.T, msg string) {
	t.Helper()
	deadline := time.Now().Add(liveWait)
	for !strings.Contains(r.out.String(), msg) {
		if time.Now().After(deadline) {
			t.Fatalf("replica %s: no %q in the log after %v", r.name, msg, liveWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sameJSON fails unless got and want are the same JSON value.
func sameJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: want is not JSON: %v\n%s", what, err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\ngot:  %s\nwant: %s", what, got, want)
	}
}

// wsConn is a graphql-transport-ws client whose subscriptions share one
// WebSocket: a goroutine reads every message, answers pings, and hands
// each to the subscription it belongs to.
type wsConn struct {
	t       *testing.T
	conn    *websocket.Conn
	control chan wsMsg // messages without an id: connection_ack

	closing chan struct{} // closed when the test is done reading

	mu   sync.Mutex
	subs map[string]chan wsMsg
	done chan struct{} // closed when the connection has ended
	err  error         // why it ended; set before done is closed
}

// wsMsg is a message of graphql-transport-ws.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a graphql-transport-ws connection to the replica with the
// token in connection_init's payload (none when empty) and waits for
// connection_ack.
func dialWS(t *testing.T, r *replica, token string) *wsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.base, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		t.Fatalf("replica %s: dial: %v", r.name, err)
	}
	conn.SetReadLimit(1 << 20)
	c := &wsConn{t: t, conn: conn, control: make(chan wsMsg, 16), subs: map[string]chan wsMsg{}, done: make(chan struct{}), closing: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() {
		close(c.closing)
		_ = conn.Close(websocket.StatusNormalClosure, "")
		<-c.done
	})
	payload := map[string]string{}
	if token != "" {
		payload["Authorization"] = "Token " + token
	}
	c.send("", "connection_init", payload)
	select {
	case m, ok := <-c.control:
		if !ok || m.Type != "connection_ack" {
			t.Fatalf("replica %s: after connection_init: %+v (%v), want connection_ack", r.name, m, c.err)
		}
	case <-time.After(liveWait):
		t.Fatalf("replica %s: no connection_ack within %v", r.name, liveWait)
	}
	return c
}

func (c *wsConn) readLoop() {
	var err error
	defer func() {
		c.mu.Lock()
		c.err = err
		for _, ch := range c.subs {
			close(ch)
		}
		c.subs = nil
		close(c.control)
		close(c.done)
		c.mu.Unlock()
	}()
	for {
		var b []byte
		if _, b, err = c.conn.Read(context.Background()); err != nil {
			return
		}
		var m wsMsg
		if err = json.Unmarshal(b, &m); err != nil {
			err = fmt.Errorf("message %s: %w", b, err)
			return
		}
		if m.Type == "ping" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = c.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
			cancel()
			continue
		}
		c.mu.Lock()
		ch := c.subs[m.ID]
		c.mu.Unlock()
		if ch == nil {
			ch = c.control
		}
		select {
		case ch <- m:
		case <-c.closing:
			err = errors.New("closed by the test")
			return
		}
	}
}

func (c *wsConn) send(id, typ string, payload any) {
	c.t.Helper()
	m := map[string]any{"type": typ}
	if id != "" {
		m["id"] = id
	}
	if payload != nil {
		m["payload"] = payload
	}
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("send %s: %v", typ, err)
	}
}

// wsSub is one subscription of a wsConn.
type wsSub struct {
	c  *wsConn
	id string
	ch chan wsMsg
}

// subscribe sends a subscribe message. The server registers the
// subscription a moment later: wait for conduit_subscriptions_open.
func (c *wsConn) subscribe(id, query string, variables map[string]any) *wsSub {
	c.t.Helper()
	s := &wsSub{c: c, id: id, ch: make(chan wsMsg, 64)}
	c.mu.Lock()
	if c.subs == nil {
		c.mu.Unlock()
		c.t.Fatalf("subscribe %s: the connection has ended: %v", id, c.err)
	}
	c.subs[id] = s.ch
	c.mu.Unlock()
	c.send(id, "subscribe", map[string]any{"query": query, "variables": variables})
	return s
}

// next returns the subscription's next message, or fails when none comes
// or the connection ends.
func (s *wsSub) next(t *testing.T) wsMsg {
	t.Helper()
	select {
	case m, ok := <-s.ch:
		if !ok {
			t.Fatalf("subscription %s: the connection ended: %v", s.id, s.c.err)
		}
		return m
	case <-time.After(liveWait):
		t.Fatalf("subscription %s: no message within %v", s.id, liveWait)
	}
	return wsMsg{}
}

// wantNext fails unless the subscription's next message is a result whose
// payload is the JSON want.
func (s *wsSub) wantNext(t *testing.T, want string) {
	t.Helper()
	m := s.next(t)
	if m.Type != "next" {
		t.Fatalf("subscription %s: %s %s, want next with %s", s.id, m.Type, m.Payload, want)
	}
	sameJSON(t, "subscription "+s.id, m.Payload, want)
}

// sseStream reads the events of one server-sent events response.
type sseStream struct {
	name   string
	events chan sseEvent
}

type sseEvent struct{ name, data string }

// subscribeSSE starts a subscription over server-sent events on the
// replica; it ends when the test does.
func subscribeSSE(t *testing.T, r *replica, token, query string, variables map[string]any) *sseStream {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/graphql", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &sseStream{name: "SSE on " + r.name, events: make(chan sseEvent, 64)}
	read := make(chan struct{})
	t.Cleanup(func() { cancel(); res.Body.Close(); <-read })
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		close(read)
		t.Fatalf("%s: status %d, Content-Type %q", s.name, res.StatusCode, res.Header.Get("Content-Type"))
	}
	go func() {
		defer close(read)
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					select {
					case s.events <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// wantNext fails unless the stream's next event is a result whose data is
// the JSON want.
func (s *sseStream) wantNext(t *testing.T, want string) {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatalf("%s: the stream ended, want %s", s.name, want)
		}
		if ev.name != "next" {
			t.Fatalf("%s: event %q %s, want next with %s", s.name, ev.name, ev.data, want)
		}
		sameJSON(t, s.name, []byte(ev.data), want)
	case <-time.After(liveWait):
		t.Fatalf("%s: no event within %v, want %s", s.name, liveWait, want)
	}
}

const (
	replicaCommentAdded     = `subscription($slug: String!) { commentAdded(articleSlug: $slug) { id body author { username } } }`
	replicaCommentDeleted   = `subscription($slug: String!) { commentDeleted(articleSlug: $slug) }`
	replicaArticlePublished = `subscription { articlePublished { slug title author { username following } } }`
	// sseCommentAdded leaves the id out: an SSE subscriber is checked on
	// what it shows.
	sseCommentAdded = `subscription($slug: String!) { commentAdded(articleSlug: $slug) { body author { username } } }`
)

// commentJSON is the payload of a commentAdded result of
// replicaCommentAdded.
func commentJSON(id, body, author string) string {
	return fmt.Sprintf(`{"data":{"commentAdded":{"id":%q,"body":%q,"author":{"username":%q}}}}`, id, body, author)
}

// wantComment fails unless the next result of s is the comment with the
// body by the author, and returns its global id.
func (s *wsSub) wantComment(t *testing.T, body, author string) string {
	t.Helper()
	m := s.next(t)
	var p struct {
		Data struct{ CommentAdded struct{ ID string } }
	}
	if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil || p.Data.CommentAdded.ID == "" {
		t.Fatalf("subscription %s: %s %s, want the comment %q", s.id, m.Type, m.Payload, body)
	}
	id := p.Data.CommentAdded.ID
	sameJSON(t, "subscription "+s.id, m.Payload, commentJSON(id, body, author))
	return id
}

// TestReplicasDeliverEveryEvent runs two server processes on one database:
// a client subscribed on replica A hears, exactly once and in order, every
// write made through either surface of replica B, and nothing of a write
// that was rolled back.
func TestReplicasDeliverEveryEvent(t *testing.T) {
	bin := buildConduit(t)
	url := dbtest.NewURL(t)
	rs := startReplicas(t, bin(), url, "A", "B")
	a, b := rs[0], rs[1]

	author, follower, stranger := register(t, b.base, "author"), register(t, b.base, "follower"), register(t, b.base, "stranger")
	call(t, "POST", b.base+"/api/profiles/author/follow", follower, "", 200, nil)

	// Subscribed to articlePublished before the watched article is
	// written, so that A has heard of that article, and delivered it, when
	// the other subscriptions start: subscribed after it, a subscription
	// would hear of it or not as the NOTIFY and the subscribe raced on A.
	ws := dialWS(t, a, follower)
	published := ws.subscribe("published", replicaArticlePublished, nil)
	a.waitMetric(t, "conduit_subscriptions_open", 1)
	slug := createArticle(t, b.base, author, "Watched")
	published.wantNext(t, fmt.Sprintf(`{"data":{"articlePublished":{"slug":%q,"title":"Watched","author":{"username":"author","following":true}}}}`, slug))
	added := ws.subscribe("added", replicaCommentAdded, map[string]any{"slug": slug})
	deleted := ws.subscribe("deleted", replicaCommentDeleted, map[string]any{"slug": slug})
	a.waitMetric(t, "conduit_subscriptions_open", 3)

	// Each step reads on from where the one before left the
	// subscriptions, so a failure ends the test.
	for _, step := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"CommentAdded", func(t *testing.T) {
			gqlID := gqlComment(t, b.base, author, slug, "through GraphQL on B")
			restComment(t, b.base, author, slug, "through REST on B")
			restComment(t, b.base, follower, slug, "marker 1")
			if id := added.wantComment(t, "through GraphQL on B", "author"); id != gqlID {
				t.Errorf("commentAdded id = %s, want %s, the id addComment returned", id, gqlID)
			}
			added.wantComment(t, "through REST on B", "author")
			added.wantComment(t, "marker 1", "follower")
		}},

		{"RolledBack", func(t *testing.T) {
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := tx.Exec(ctx, `INSERT INTO comments (article_id, author_id, body)
				SELECT id, author_id, 'rolled back' FROM articles WHERE slug = $1`, slug)
			if err != nil || tag.RowsAffected() != 1 {
				t.Fatalf("insert in the transaction: %v, %d rows; want 1 row", err, tag.RowsAffected())
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			restComment(t, b.base, author, slug, "marker 2")
			added.wantComment(t, "marker 2", "author")
		}},

		{"CommentDeleted", func(t *testing.T) {
			body := "deleted through REST on B"
			id := restComment(t, b.base, author, slug, body)
			gid := added.wantComment(t, body, "author")
			call(t, "DELETE", fmt.Sprintf("%s/api/articles/%s/comments/%d", b.base, slug, id), author, "", 204, nil)
			deleted.wantNext(t, fmt.Sprintf(`{"data":{"commentDeleted":%q}}`, gid))
			// The deletion was no commentAdded event.
			restComment(t, b.base, author, slug, "marker 3")
			added.wantComment(t, "marker 3", "author")
		}},

		{"ArticlePublished", func(t *testing.T) {
			// Of an author the follower does not follow: not in the feed.
			createArticle(t, b.base, stranger, "Not followed")
			followed := createArticle(t, b.base, author, "Followed")
			published.wantNext(t, fmt.Sprintf(`{"data":{"articlePublished":{"slug":%q,"title":"Followed","author":{"username":"author","following":true}}}}`, followed))
		}},

		// Replica A keeps its tag list for a second; an article published
		// on B with a new tag makes A read it anew as soon as A's listener
		// hears of it, which it does before the subscriber does.
		{"TagList", func(t *testing.T) {
			var tags struct{ Tags []string }
			call(t, "GET", a.base+"/api/tags", "", "", 200, &tags)
			var res struct{ Article struct{ Slug string } }
			call(t, "POST", b.base+"/api/articles", author, `{"article":{"title":"Tagged","description":"d","body":"b","tagList":["heard-on-a"]}}`, 201, &res)
			published.wantNext(t, fmt.Sprintf(`{"data":{"articlePublished":{"slug":%q,"title":"Tagged","author":{"username":"author","following":true}}}}`, res.Article.Slug))
			call(t, "GET", a.base+"/api/tags", "", "", 200, &tags)
			if !slices.Contains(tags.Tags, "heard-on-a") {
				t.Fatalf("tags on A = %q after the event, want heard-on-a among them", tags.Tags)
			}
		}},

		// Comments written at once through both replicas reach a subscriber on
		// each, every one once, and in the same order on both: the order in
		// which they committed.
		{"SameOrderOnEveryReplica", func(t *testing.T) {
			slug := createArticle(t, b.base, author, "Busy")
			vars := map[string]any{"slug": slug}
			onA := ws.subscribe("busy", replicaCommentAdded, vars)
			onB := dialWS(t, b, "").subscribe("busy", replicaCommentAdded, vars)
			a.waitMetric(t, "conduit_subscriptions_open", 4)
			b.waitMetric(t, "conduit_subscriptions_open", 1)

			const each = 10
			writers := []struct {
				r    *replica
				path string
				body func(string) string
			}{
				{a, "/api/articles/" + slug + "/comments", func(text string) string {
					return fmt.Sprintf(`{"comment":{"body":%q}}`, text)
				}},
				{b, "/graphql", func(text string) string {
					q, _ := json.Marshal(map[string]any{
						"query":     `mutation($in: AddCommentInput!) { addComment(input: $in) { comment { id } } }`,
						"variables": map[string]any{"in": map[string]string{"articleSlug": slug, "body": text}},
					})
					return string(q)
				}},
			}
			errs := make(chan error, len(writers)*each)
			var wg sync.WaitGroup
			for i, w := range writers {
				wg.Go(func() {
					for n := range each {
						text := fmt.Sprintf("busy %d-%d", i, n)
						req, _ := http.NewRequest("POST", w.r.base+w.path, strings.NewReader(w.body(text)))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Token "+author)
						res, err := http.DefaultClient.Do(req)
						if err != nil {
							errs <- err
							continue
						}
						got, _ := io.ReadAll(res.Body)
						res.Body.Close()
						if res.StatusCode != http.StatusOK || strings.Contains(string(got), `"errors"`) {
							errs <- fmt.Errorf("POST %s %q = %d %s", w.path, text, res.StatusCode, got)
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			restComment(t, b.base, author, slug, "busy marker")

			read := func(s *wsSub) []string {
				t.Helper()
				var bodies []string
				for {
					m := s.next(t)
					var p struct {
						Data struct{ CommentAdded struct{ Body string } }
					}
					if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil {
						t.Fatalf("subscription %s: %s %s, want a comment", s.id, m.Type, m.Payload)
					}
					if p.Data.CommentAdded.Body == "busy marker" {
						return bodies
					}
					bodies = append(bodies, p.Data.CommentAdded.Body)
				}
			}
			gotA, gotB := read(onA), read(onB)
			if !slices.Equal(gotA, gotB) {
				t.Errorf("the subscriber on A heard\n%q\nand the one on B\n%q\nwant the same comments in the same order", gotA, gotB)
			}
			for _, got := range [][]string{gotA, gotB} {
				sorted := slices.Sorted(slices.Values(got))
				var want []string
				for i := range writers {
					for n := range each {
						want = append(want, fmt.Sprintf("busy %d-%d", i, n))
					}
				}
				slices.Sort(want)
				if !slices.Equal(sorted, want) {
					t.Errorf("heard before the marker: %q, want each of the %d comments once", got, len(want))
				}
			}
			// Each writer's own comments, which it made one after the other,
			// arrive in the order it made them.
			for i := range writers {
				prefix := fmt.Sprintf("busy %d-", i)
				var mine []string
				for _, body := range gotA {
					if strings.HasPrefix(body, prefix) {
						mine = append(mine, body)
					}
				}
				for n, body := range mine {
					if want := fmt.Sprintf("busy %d-%d", i, n); body != want {
						t.Errorf("writer %d's comment %d arrived as %q, want %q: %q", i, n, body, want, mine)
						break
					}
				}
			}
		}},
	} {
		if !t.Run(step.name, step.run) {
			return
		}
	}
}

// TestReplicasSurviveDatabaseRestart restarts PostgreSQL (stop fast, start
// again) under two replicas whose clients wait on subscriptions, over
// WebSocket and SSE. The servers are not restarted, and keep those
// subscriptions open through the outage; one asked for during it is
// refused with SERVICE_UNAVAILABLE and a retryAfter. Once the servers are
// ready again and their listeners have LISTENed anew, every subscriber,
// including the refused one subscribed again, hears the comments added
// after the restart. (Events committed between the database's return and
// a listener's are lost by design, so none is written then.)
func TestReplicasSurviveDatabaseRestart(t *testing.T) {
	bin := buildConduit(t)
	start, _ := restartableCluster(t)
	emb := start()
	t.Cleanup(func() { _ = emb.Stop() })
	rs := startReplicas(t, bin(), emb.URL(), "A", "B")
	a, b := rs[0], rs[1]

	author := register(t, a.base, "author")
	slug := createArticle(t, a.base, author, "Restarted")
	vars := map[string]any{"slug": slug}
	onA := dialWS(t, a, "").subscribe("A", replicaCommentAdded, vars)
	onB := dialWS(t, b, "").subscribe("B", replicaCommentAdded, vars)
	sseOnB := subscribeSSE(t, b, "", sseCommentAdded, vars)
	a.waitMetric(t, "conduit_subscriptions_open", 1)
	b.waitMetric(t, "conduit_subscriptions_open", 2)
	subs := []*wsSub{onA, onB}
	want := func(body string) {
		t.Helper()
		for _, s := range subs {
			s.wantComment(t, body, "author")
		}
		sseOnB.wantNext(t, fmt.Sprintf(`{"data":{"commentAdded":{"body":%q,"author":{"username":"author"}}}}`, body))
	}
	restComment(t, a.base, author, slug, "before the restart")
	want("before the restart")

	if err := emb.Stop(); err != nil { // SIGINT: pg_ctl stop -m fast
		t.Fatal(err)
	}
	// The servers see the outage: not ready, their listeners cut off; and
	// they keep the subscriptions open through it.
	for _, r := range rs {
		if code, body, _ := status(t, "GET", r.base+"/readyz", "", ""); code != http.StatusServiceUnavailable {
			t.Errorf("replica %s: /readyz while the database is down = %d %s, want 503", r.name, code, body)
		}
		r.waitLog(t, "event listener: connection lost")
	}
	a.waitMetric(t, "conduit_subscriptions_open", 1)
	b.waitMetric(t, "conduit_subscriptions_open", 2)
	// A subscription asked for now cannot look its article up: the client
	// is told to come back, and the connection stays open for that.
	late := dialWS(t, a, "")
	refused := late.subscribe("refused", replicaCommentAdded, vars)
	refused.wantNext(t, `{"data":null,"errors":[{"message":"the service is temporarily unavailable; try again shortly","path":["commentAdded"],"locations":[{"line":1,"column":32}],"extensions":{"code":"SERVICE_UNAVAILABLE","retryAfter":2}}]}`)
	if m := refused.next(t); m.Type != "complete" {
		t.Fatalf("after the refusal: %s %s, want complete", m.Type, m.Payload)
	}
	emb = start()
	for _, r := range rs {
		r.waitReady(t)
		// The listener counts a reconnection once it has LISTENed again:
		// from then on, every commit reaches this replica.
		r.waitMetric(t, "conduit_subscription_listener_reconnects_total", 1)
	}
	// Nor by the recovery; and the refused client subscribes again.
	b.waitMetric(t, "conduit_subscriptions_open", 2)
	subs = append(subs, late.subscribe("again", replicaCommentAdded, vars))
	a.waitMetric(t, "conduit_subscriptions_open", 2)

	restComment(t, b.base, author, slug, "after the restart, through REST on B")
	gqlComment(t, a.base, author, slug, "after the restart, through GraphQL on A")
	want("after the restart, through REST on B")
	want("after the restart, through GraphQL on A")

	for _, r := range rs {
		logs := r.out.String()
		if n := strings.Count(logs, "event listener: connection lost"); n != 1 {
			t.Errorf("replica %s: %d lines of a lost listener for one restart, want 1", r.name, n)
		}
		if n := strings.Count(logs, "event listener: listening again"); n != 1 {
			t.Errorf("replica %s: %d lines of the listener back for one restart, want 1", r.name, n)
		}
	}
}

// TestReplicasSSE subscribes over server-sent events on replica B to the
// comments of an article, and hears the one added through the legacy API
// on replica A.
func TestReplicasSSE(t *testing.T) {
	bin := buildConduit(t)
	url := dbtest.NewURL(t)
	rs := startReplicas(t, bin(), url, "A", "B")
	a, b := rs[0], rs[1]

	author := register(t, a.base, "author")
	slug := createArticle(t, a.base, author, "Streamed")
	s := subscribeSSE(t, b, "", sseCommentAdded, map[string]any{"slug": slug})
	b.waitMetric(t, "conduit_subscriptions_open", 1)
	restComment(t, a.base, author, slug, "through REST on A")
	s.wantNext(t, `{"data":{"commentAdded":{"body":"through REST on A","author":{"username":"author"}}}}`)
}
