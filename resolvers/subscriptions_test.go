package resolvers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
	"github.com/conduit-dev/conduit/resolvers"
)

// liveEnv is env with subscriptions: a hub fed by a listener on the test
// database, as the server runs them, and the handlers' Shutdown.
type liveEnv struct {
	*env
	hub      *conduit.Hub
	base     string // the server's root URL
	shutdown func(context.Context)
}

type liveConfig struct {
	svc  conduit.Config
	hub  conduit.HubConfig
	opts func(*resolvers.Options)
	// sendBuffer, when set, is the size of the server's socket send
	// buffers: a client that stops reading then blocks the server's writes
	// after a few messages, as on a slow network.
	sendBuffer int
}

func newLiveEnv(t *testing.T, cfg liveConfig) *liveEnv {
	t.Helper()
	store := dbtest.New(t)
	hub := conduit.NewHub(store, cfg.hub)
	sc := cfg.svc
	sc.JWTSecret, sc.BcryptCost, sc.Hub = testSecret, 4, hub
	svc, err := conduit.NewService(store, sc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan struct{}, 1)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = store.Listen(ctx, func(e conduit.Event) { _ = hub.Publish(ctx, e) }, db.ListenOptions{
			OnListening: func() {
				select {
				case listening <- struct{}{}:
				default:
				}
			},
		})
	}()
	t.Cleanup(func() { cancel(); <-stopped })
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("the listener did not start")
	}
	o := resolvers.DefaultOptions()
	if cfg.opts != nil {
		cfg.opts(&o)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := app.New(app.Config{Logger: logger, GraphQL: o, Live: app.Live{Hub: hub}, PublicMetrics: true}, svc, store)
	srv := httptest.NewUnstartedServer(h.Public)
	if cfg.sendBuffer > 0 {
		srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetWriteBuffer(cfg.sendBuffer)
			}
			return ctx
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	return &liveEnv{
		env:      &env{db: store, svc: svc, url: srv.URL + "/graphql", logs: logs},
		hub:      hub,
		base:     srv.URL,
		shutdown: h.Shutdown,
	}
}

// wsMessage is a message of graphql-transport-ws or graphql-ws.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsClient speaks graphql-transport-ws (or graphql-ws) to the server. A
// goroutine reads all the time, as real clients do, answering pings.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	in   chan wsMessage
	// err is why reading stopped, set before in is closed.
	err error
}

// dialWS opens a WebSocket with the subprotocol, sends connection_init with
// payload and waits for connection_ack.
func (e *liveEnv) dialWS(t *testing.T, subprotocol string, header http.Header, payload any) *wsClient {
	t.Helper()
	c, err := e.openWS(t, subprotocol, header)
	if err != nil {
		t.Fatal(err)
	}
	c.send("", "connection_init", payload)
	if m := c.next(); m.Type != "connection_ack" {
		t.Fatalf("after connection_init: %+v, want connection_ack", m)
	}
	return c
}

func (e *liveEnv) openWS(t *testing.T, subprotocol string, header http.Header) (*wsClient, error) {
	t.Helper()
	return e.openWSWith(t, subprotocol, header, nil, true)
}

// openWSWith dials through client when it is not nil; reading says whether
// the client reads at all.
func (e *liveEnv) openWSWith(t *testing.T, subprotocol string, header http.Header, client *http.Client, reading bool) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http"), &websocket.DialOptions{
		Subprotocols: []string{subprotocol}, HTTPHeader: header, HTTPClient: client,
	})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (status %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{t: t, conn: conn, in: make(chan wsMessage, 1000)}
	t.Cleanup(func() { _ = conn.CloseNow() })
	if reading {
		go c.readLoop()
	}
	return c, nil
}

func (c *wsClient) readLoop() {
	defer close(c.in)
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.err = fmt.Errorf("message %s: %w", b, err)
			return
		}
		switch m.Type {
		case "ka":
			continue
		case "ping":
			_ = c.conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"pong"}`))
			continue
		}
		c.in <- m
	}
}

func (c *wsClient) send(id, typ string, payload any) {
	c.t.Helper()
	m := map[string]any{"type": typ}
	if id != "" {
		m["id"] = id
	}
	if payload != nil {
		m["payload"] = payload
	}
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("send %s: %v", typ, err)
	}
}

// errNoMessage is read's answer when nothing came within its timeout.
var errNoMessage = errors.New("no message")

// read returns the next message other than keep-alives, the error that
// ended the connection, or errNoMessage after timeout.
func (c *wsClient) read(timeout time.Duration) (wsMessage, error) {
	select {
	case m, ok := <-c.in:
		if !ok {
			return wsMessage{}, c.err
		}
		return m, nil
	case <-time.After(timeout):
		return wsMessage{}, errNoMessage
	}
}

func (c *wsClient) next() wsMessage {
	c.t.Helper()
	m, err := c.read(10 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// subscribe starts a subscription with the protocol's message for it.
func (c *wsClient) subscribe(id, query string, variables map[string]any) {
	c.t.Helper()
	typ := "subscribe"
	if c.conn.Subprotocol() == "graphql-ws" {
		typ = "start"
	}
	c.send(id, typ, map[string]any{"query": query, "variables": variables})
}

// wantNext reads the next message and fails unless it is a result of the
// subscription id whose payload is the JSON want.
func (c *wsClient) wantNext(id, want string) {
	c.t.Helper()
	m := c.next()
	typ := "next"
	if c.conn.Subprotocol() == "graphql-ws" {
		typ = "data"
	}
	if m.Type != typ || m.ID != id {
		c.t.Fatalf("message %+v (payload %s), want %s of %s", m, m.Payload, typ, id)
	}
	wantJSON(c.t, m.Payload, want)
}

// wantClose reads until the connection closes and fails unless it closed
// with code and a reason that contains reason.
func (c *wsClient) wantClose(code websocket.StatusCode, reason string) {
	c.t.Helper()
	for {
		m, err := c.read(15 * time.Second)
		if err == nil {
			if m.Type == "next" || m.Type == "data" || m.Type == "complete" || m.Type == "error" || m.Type == "connection_error" {
				continue
			}
			c.t.Fatalf("unexpected message %+v", m)
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("connection ended with %v, want close %d", err, code)
		}
		if ce.Code != code || !strings.Contains(ce.Reason, reason) {
			c.t.Fatalf("closed with %d %q, want %d with %q", ce.Code, ce.Reason, code, reason)
		}
		return
	}
}

// sseStream reads the events of one SSE response.
type sseStream struct {
	t      *testing.T
	resp   *http.Response
	events chan sseEvent
}

type sseEvent struct {
	name, data string
}

// subscribeSSE starts a subscription over server-sent events.
func (e *liveEnv) subscribeSSE(t *testing.T, token, query string, variables map[string]any) *sseStream {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	r, err := http.NewRequest(http.MethodPost, e.url, strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "text/event-stream")
	if token != "" {
		r.Header.Set("Authorization", "Token "+token)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sseStream{t: t, resp: resp, events: make(chan sseEvent, 100)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					s.events <- ev
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

// next returns the next event, or fails after a while.
func (s *sseStream) next() sseEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		s.t.Fatal("no event within 10 s")
	}
	return sseEvent{}
}

func (s *sseStream) wantNext(want string) {
	s.t.Helper()
	ev := s.next()
	if ev.name != "next" {
		s.t.Fatalf("event %q (%s), want next", ev.name, ev.data)
	}
	wantJSON(s.t, []byte(ev.data), want)
}

// wantEnd fails unless the stream completes and ends.
func (s *sseStream) wantEnd() {
	s.t.Helper()
	if ev := s.next(); ev.name != "complete" {
		s.t.Fatalf("event %q (%s), want complete", ev.name, ev.data)
	}
	select {
	case _, ok := <-s.events:
		if ok {
			s.t.Fatal("an event after complete")
		}
	case <-time.After(10 * time.Second):
		s.t.Fatal("the stream did not end after complete")
	}
}

const commentAddedQuery = `subscription($slug: String!) { commentAdded(articleSlug: $slug) { body author { username following } article { title } } }`

// waitSubscribed waits until the hub holds n subscriptions: a write made
// before a subscription is registered is, rightly, not delivered to it.
func (e *liveEnv) waitSubscribed(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.hub.Stats().Open != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub holds %d subscriptions, want %d", e.hub.Stats().Open, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSubscriptionsWebSocket(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, liveConfig{})
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	e.mustFollow(t, bob, alice)
	a := e.mustArticle(t, alice, "Live")

	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(proto, func(t *testing.T) {
			// The token comes in connection_init; following is bob's.
			c := e.dialWS(t, proto, nil, map[string]any{"Authorization": "Token " + bob.token})
			c.subscribe("1", commentAddedQuery, map[string]any{"slug": a.Slug})
			c.subscribe("2", `subscription($slug: String!) { commentDeleted(articleSlug: $slug) }`, map[string]any{"slug": a.Slug})
			e.waitSubscribed(t, 2)

			// Through GraphQL, then through the REST API: both publish.
			added := mustData[struct {
				AddComment struct{ Comment struct{ ID string } }
			}](t, e.env, request{token: alice.token, query: `mutation($s: String!) { addComment(input: {articleSlug: $s, body: "over GraphQL"}) { comment { id } } }`, variables: map[string]any{"s": a.Slug}})
			c.wantNext("1", `{"data":{"commentAdded":{"body":"over GraphQL","author":{"username":"alice","following":true},"article":{"title":"Live"}}}}`)
			legacyPost(t, e.base+"/api/articles/"+a.Slug+"/comments", alice.token, `{"comment":{"body":"over REST"}}`)
			c.wantNext("1", `{"data":{"commentAdded":{"body":"over REST","author":{"username":"alice","following":true},"article":{"title":"Live"}}}}`)

			mustData[map[string]any](t, e.env, request{token: alice.token, query: `mutation($s: String!, $id: ID!) { deleteComment(input: {articleSlug: $s, commentId: $id}) { deletedCommentId } }`, variables: map[string]any{"s": a.Slug, "id": added.AddComment.Comment.ID}})
			c.wantNext("2", `{"data":{"commentDeleted":"`+added.AddComment.Comment.ID+`"}}`)

			c.send("1", map[string]string{"graphql-ws": "stop", "graphql-transport-ws": "complete"}[proto], nil)
			c.send("2", map[string]string{"graphql-ws": "stop", "graphql-transport-ws": "complete"}[proto], nil)
			e.waitSubscribed(t, 0)
		})
	}
}

// legacyPost sends a REST call and fails unless it answers 2xx.
func legacyPost(t *testing.T, url, token, body string) {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Token "+token)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: status %d", url, resp.StatusCode)
	}
}

func TestSubscriptionsSSE(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, liveConfig{})
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	a := e.mustArticle(t, alice, "Streamed")

	s := e.subscribeSSE(t, bob.token, commentAddedQuery, map[string]any{"slug": a.Slug})
	e.waitSubscribed(t, 1)
	e.mustComment(t, alice, a.Slug, "first")
	s.wantNext(`{"data":{"commentAdded":{"body":"first","author":{"username":"alice","following":false},"article":{"title":"Streamed"}}}}`)
	e.mustFollow(t, bob, alice)
	e.mustComment(t, alice, a.Slug, "second")
	s.wantNext(`{"data":{"commentAdded":{"body":"second","author":{"username":"alice","following":true},"article":{"title":"Streamed"}}}}`)

	// Shutting down tells the subscriber why, then ends the stream.
	e.shutdown(context.Background())
	ev := s.next()
	if ev.name != "next" {
		t.Fatalf("event %q, want next with the error", ev.name)
	}
	wantJSON(t, []byte(ev.data), `{"errors":[{"message":"the server is shutting down; subscribe again","extensions":{"code":"SERVICE_UNAVAILABLE","retryAfter":"*"}}],"data":null}`)
	s.wantEnd()
}

func TestArticlePublished(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, liveConfig{})
	alice, bob, carol := e.mustUser(t, "alice"), e.mustUser(t, "bob"), e.mustUser(t, "carol")
	const query = `subscription { articlePublished { title favorited author { username following } } }`

	anon := e.dialWS(t, "graphql-transport-ws", nil, nil)
	anon.subscribe("1", query, nil)
	m := anon.next()
	if m.Type != "next" && m.Type != "error" {
		t.Fatalf("anonymous articlePublished: %+v", m)
	}
	if !strings.Contains(string(m.Payload), "UNAUTHENTICATED") {
		t.Fatalf("anonymous articlePublished: %s, want UNAUTHENTICATED", m.Payload)
	}

	// The token of the upgrade request's header works too.
	c := e.dialWS(t, "graphql-transport-ws", http.Header{"Authorization": {"Token " + bob.token}}, nil)
	c.subscribe("feed", query, nil)
	e.waitSubscribed(t, 1)
	e.mustArticle(t, carol, "Not followed")
	// A follow made after subscribing counts.
	e.mustFollow(t, bob, alice)
	e.mustArticle(t, alice, "Followed")
	c.wantNext("feed", `{"data":{"articlePublished":{"title":"Followed","favorited":false,"author":{"username":"alice","following":true}}}}`)
}

func TestSubscriptionErrors(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, liveConfig{opts: func(o *resolvers.Options) { o.Streams.MaxSubscriptionsPerConnection = 2 }})
	alice := e.mustUser(t, "alice")
	a := e.mustArticle(t, alice, "Errors")

	t.Run("UnknownSlug", func(t *testing.T) {
		c := e.dialWS(t, "graphql-transport-ws", nil, nil)
		c.subscribe("1", commentAddedQuery, map[string]any{"slug": "no-such-article"})
		m := c.next()
		if !strings.Contains(string(m.Payload), "NOT_FOUND") {
			t.Fatalf("%+v: want NOT_FOUND", m)
		}
	})
	t.Run("BadTokenInInit", func(t *testing.T) {
		c, err := e.openWS(t, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.send("", "connection_init", map[string]any{"Authorization": "Token not-a-token"})
		c.wantClose(4403, "invalid token")
	})
	t.Run("TooManyOnOneConnection", func(t *testing.T) {
		c := e.dialWS(t, "graphql-transport-ws", nil, nil)
		for _, id := range []string{"1", "2", "3"} {
			c.subscribe(id, commentAddedQuery, map[string]any{"slug": a.Slug})
		}
		// The three start at once: whichever comes last is refused, and
		// only it.
		m := c.next()
		wantJSON(t, m.Payload, `{"errors":[{"message":"this connection runs as many subscriptions as it may (2); stop one or open another connection","extensions":{"code":"TOO_MANY_SUBSCRIPTIONS"}}],"data":null}`)
		if m.Type != "next" {
			t.Fatalf("%+v, want next", m)
		}
		if m2 := c.next(); m2.Type != "complete" || m2.ID != m.ID {
			t.Fatalf("%+v after the refusal of %s, want its complete", m2, m.ID)
		}
		if m3, err := c.read(300 * time.Millisecond); err == nil {
			t.Fatalf("%+v: the other two should be running quietly", m3)
		}
	})
	t.Run("NotOverPlainPOST", func(t *testing.T) {
		res := e.post(t, request{query: commentAddedQuery, variables: map[string]any{"slug": a.Slug}})
		wantErrorCodes(t, res, "BAD_REQUEST")
		if res.hasData() {
			t.Fatalf("data in %s", res.body)
		}
	})
}

func TestSubscriptionTokenExpiry(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, liveConfig{svc: conduit.Config{TokenTTL: 4 * time.Second}})
	alice := e.mustUser(t, "alice")
	a := e.mustArticle(t, alice, "Expiring")
	c := e.dialWS(t, "graphql-transport-ws", nil, map[string]any{"Authorization": "Token " + alice.token})
	c.subscribe("1", commentAddedQuery, map[string]any{"slug": a.Slug})
	e.waitSubscribed(t, 1)
	c.wantClose(4401, "token expired")
	e.waitSubscribed(t, 0)

	// Over SSE, the subscriber is told why in a last event.
	bob := e.mustUser(t, "bob")
	s := e.subscribeSSE(t, bob.token, commentAddedQuery, map[string]any{"slug": a.Slug})
	ev := s.next()
	if ev.name != "next" {
		t.Fatalf("event %q (%s), want next with the error", ev.name, ev.data)
	}
	wantJSON(t, []byte(ev.data), `{"errors":[{"message":"token expired: sign in again and subscribe anew","extensions":{"code":"UNAUTHENTICATED"}}],"data":null}`)
	s.wantEnd()
}

func TestSubscriptionShutdownClosesWebSockets(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, liveConfig{})
	alice := e.mustUser(t, "alice")
	a := e.mustArticle(t, alice, "Going away")
	busy := e.dialWS(t, "graphql-transport-ws", nil, nil)
	busy.subscribe("1", commentAddedQuery, map[string]any{"slug": a.Slug})
	idle := e.dialWS(t, "graphql-transport-ws", nil, nil)
	e.waitSubscribed(t, 1)

	done := make(chan struct{})
	go func() { e.shutdown(context.Background()); close(done) }()
	busy.wantClose(websocket.StatusGoingAway, "shutting down")
	idle.wantClose(websocket.StatusGoingAway, "shutting down")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	// No new connection is taken.
	if _, err := e.openWS(t, "graphql-transport-ws", nil); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("dial after shutdown: %v, want 503", err)
	}
}

func TestSlowSubscriberIsDisconnected(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, liveConfig{
		hub:        conduit.HubConfig{Buffer: 48},
		opts:       func(o *resolvers.Options) { o.Streams.WriteTimeout = time.Second },
		sendBuffer: 16 << 10,
	})
	alice := e.mustUser(t, "alice")
	a := e.mustArticle(t, alice, "Busy")
	const query = `subscription($slug: String!) { commentAdded(articleSlug: $slug) { body } }`
	vars := map[string]any{"slug": a.Slug}

	// The slow client's socket takes little, and it never reads.
	small := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(16 << 10)
		}
		return c, err
	}}}
	slow, err := e.openWSWith(t, "graphql-transport-ws", nil, small, false)
	if err != nil {
		t.Fatal(err)
	}
	slow.send("", "connection_init", nil)
	slow.subscribe("slow", query, vars)
	fast := []*wsClient{e.dialWS(t, "graphql-transport-ws", nil, nil), e.dialWS(t, "graphql-ws", nil, nil)}
	for _, c := range fast {
		c.subscribe("fast", query, vars)
	}
	e.waitSubscribed(t, 3)

	// Each comment is 10,000 characters: a few fill the slow client's
	// socket, its writes block and its subscription falls behind.
	const n = 120
	received := make(chan error, len(fast))
	for _, c := range fast {
		go func() {
			for i := range n {
				m, err := c.read(20 * time.Second)
				if err != nil {
					received <- fmt.Errorf("event %d: %w", i, err)
					return
				}
				var p struct {
					Data struct{ CommentAdded struct{ Body string } }
				}
				_ = json.Unmarshal(m.Payload, &p)
				if want := fmt.Sprintf("%04d", i); !strings.HasPrefix(p.Data.CommentAdded.Body, want) {
					received <- fmt.Errorf("event %d: %.80s, want %s…", i, m.Payload, want)
					return
				}
			}
			received <- nil
		}()
	}
	filler := strings.Repeat("x", conduit.MaxCommentLength-4)
	// At 200 a second, the rate of the benchmark: a burst faster than
	// subscribers can load and send ends even fast ones, by design.
	for i := range n {
		e.mustComment(t, alice, a.Slug, fmt.Sprintf("%04d", i)+filler)
		time.Sleep(5 * time.Millisecond)
	}
	for range fast {
		if err := <-received; err != nil {
			t.Fatalf("a fast subscriber: %v", err)
		}
	}
	// The slow one is gone from the hub and its connection is closed: what
	// it reads now ends in an error, not in a wait.
	e.waitSubscribed(t, 2)
	go slow.readLoop()
	for {
		_, err := slow.read(10 * time.Second)
		if err == nil {
			continue
		}
		if errors.Is(err, errNoMessage) {
			t.Fatal("the slow subscriber's connection is still open")
		}
		break
	}
}

func TestIsStream(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		header       map[string]string
		want         bool
	}{
		{"GET", "/graphql", map[string]string{"Upgrade": "websocket"}, true},
		{"GET", "/graphql/", map[string]string{"Upgrade": "websocket"}, true},
		{"POST", "/graphql", map[string]string{"Accept": "text/event-stream"}, true},
		{"POST", "/graphql", map[string]string{"Accept": "application/json"}, false},
		{"GET", "/graphql", map[string]string{"Accept": "text/event-stream"}, false},
		// The bounds of ordinary requests cannot be escaped elsewhere.
		{"GET", "/api/articles", map[string]string{"Upgrade": "websocket"}, false},
		{"POST", "/api/users", map[string]string{"Accept": "text/event-stream"}, false},
		{"GET", "/graphql/schema.graphql", map[string]string{"Upgrade": "websocket"}, false},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		if got := resolvers.IsStream(r); got != tc.want {
			t.Errorf("IsStream(%s %s %v) = %v, want %v", tc.method, tc.path, tc.header, got, tc.want)
		}
	}
}

// TestSubscribersShareLoads proves that an event costs one statement for
// all the subscribers who see it alike, not one each.
func TestSubscribersShareLoads(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, liveConfig{})
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	a := e.mustArticle(t, alice, "Shared")
	const query = `subscription($slug: String!) { commentAdded(articleSlug: $slug) { body author { username following } } }`
	vars := map[string]any{"slug": a.Slug}

	// What writing a comment costs by itself, on an article nobody
	// subscribes to.
	other := e.mustArticle(t, alice, "Other")
	before := e.db.Statements()
	e.mustComment(t, alice, other.Slug, "unseen")
	write := e.db.Statements() - before

	var clients []*wsClient
	for range 5 {
		c := e.dialWS(t, "graphql-transport-ws", nil, nil)
		c.subscribe("1", query, vars)
		clients = append(clients, c)
	}
	signedIn := e.dialWS(t, "graphql-transport-ws", nil, map[string]any{"Authorization": "Token " + bob.token})
	signedIn.subscribe("1", query, vars)
	e.waitSubscribed(t, 6)

	before = e.db.Statements()
	e.mustComment(t, alice, a.Slug, "seen")
	for _, c := range clients {
		c.wantNext("1", `{"data":{"commentAdded":{"body":"seen","author":{"username":"alice","following":false}}}}`)
	}
	signedIn.wantNext("1", `{"data":{"commentAdded":{"body":"seen","author":{"username":"alice","following":false}}}}`)
	// One load for the five anonymous subscribers, one for bob.
	if got := e.db.Statements() - before - write; got != 2 {
		t.Fatalf("delivering one comment to 5 anonymous subscribers and 1 signed in cost %d statements, want 2", got)
	}
}

func TestStreamLimits(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, liveConfig{opts: func(o *resolvers.Options) {
		o.Streams.MaxConnections = 2
		o.Streams.IdleTimeout = 300 * time.Millisecond
		o.Streams.InitTimeout = 150 * time.Millisecond
		o.Streams.KeepAlive = 100 * time.Millisecond
	}})
	alice := e.mustUser(t, "alice")
	a := e.mustArticle(t, alice, "Limits")

	t.Run("KeepAliveAndIdle", func(t *testing.T) {
		// graphql-ws clients get "ka" messages; a connection that runs no
		// subscription is closed once idle.
		c, err := e.openWSWith(t, "graphql-ws", nil, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		c.send("", "connection_init", nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, want := range []string{`"connection_ack"`, `"ka"`, `"ka"`} {
			if _, b, err := c.conn.Read(ctx); err != nil || !strings.Contains(string(b), want) {
				t.Fatalf("read %s, %v; want %s", b, err, want)
			}
		}
		go c.readLoop()
		c.wantClose(websocket.StatusNormalClosure, "idle: no subscription for 300ms")
	})
	t.Run("ActiveIsNotIdle", func(t *testing.T) {
		c := e.dialWS(t, "graphql-transport-ws", nil, nil)
		c.subscribe("1", commentAddedQuery, map[string]any{"slug": a.Slug})
		e.waitSubscribed(t, 1)
		time.Sleep(600 * time.Millisecond) // twice the idle timeout, answering pings
		e.mustComment(t, alice, a.Slug, "still here")
		c.wantNext("1", `{"data":{"commentAdded":{"body":"still here","author":{"username":"alice","following":false},"article":{"title":"Limits"}}}}`)
		c.send("1", "complete", nil)
		e.waitSubscribed(t, 0)
	})
	t.Run("InitTimeout", func(t *testing.T) {
		c, err := e.openWS(t, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.wantClose(websocket.StatusProtocolError, "connection initialisation timeout")
	})
	t.Run("MaxConnections", func(t *testing.T) {
		for deadline := time.Now().Add(10 * time.Second); ; {
			// Wait for the connections of the subtests above to be gone.
			if time.Now().After(deadline) {
				t.Fatal("the connections of the subtests above are still open")
			}
			res, err := http.Get(e.base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b := new(strings.Builder)
			_, _ = bufio.NewReader(res.Body).WriteTo(b)
			res.Body.Close()
			if strings.Contains(b.String(), "\nconduit_subscription_connections_open 0\n") {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		e.dialWS(t, "graphql-transport-ws", nil, nil)
		e.dialWS(t, "graphql-transport-ws", nil, nil)
		_, err := e.openWS(t, "graphql-transport-ws", nil)
		if err == nil || !strings.Contains(err.Error(), "status 503") {
			t.Fatalf("the third connection: %v, want 503", err)
		}
		r, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(`{"query":"subscription { articlePublished { title } }"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "text/event-stream")
		res := send(t, r, request{})
		if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" {
			t.Fatalf("SSE past the limit: %d %s, want 503 with Retry-After", res.status, res.body)
		}
		metrics, err := http.Get(e.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer metrics.Body.Close()
		b := new(strings.Builder)
		_, _ = bufio.NewReader(metrics.Body).WriteTo(b)
		for _, want := range []string{
			"\nconduit_subscription_connections_open 2\n",
			"\nconduit_subscription_connections_refused_total 2\n",
			"\nconduit_subscriptions_open 0\n",
			"\nconduit_subscription_events_delivered_total 1\n",
		} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
			}
		}
	})
}

// TestQueriesOverWebSocket proves that each operation sent over a
// WebSocket reads afresh, not from what an earlier one loaded.
func TestQueriesOverWebSocket(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, liveConfig{})
	alice := e.mustUser(t, "alice")
	a := e.mustArticle(t, alice, "First title")
	c := e.dialWS(t, "graphql-transport-ws", nil, nil)
	const query = `query($slug: String!) { article(slug: $slug) { description } }`
	c.subscribe("1", query, map[string]any{"slug": a.Slug})
	c.wantNext("1", `{"data":{"article":{"description":"`+a.Description+`"}}}`)
	if m := c.next(); m.Type != "complete" {
		t.Fatalf("%+v, want complete", m)
	}
	if _, err := e.svc.UpdateArticle(as(alice), a.Slug, conduit.UpdateArticleInput{Description: conduit.Optional[string]{Value: "Changed", Set: true}}); err != nil {
		t.Fatal(err)
	}
	c.subscribe("2", query, map[string]any{"slug": a.Slug})
	c.wantNext("2", `{"data":{"article":{"description":"Changed"}}}`)
}
