package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/conduit-dev/conduit/conduit"
)

// subConfig is what the flags ask of the subscriptions scenario.
type subConfig struct {
	subscribers int     // WebSocket subscribers, half on each extra replica
	articles    int     // articles they watch, subscribers/articles on each
	rate        float64 // comments written per second
}

// The subscriptions scenario's goals, from the issue.
const (
	subGoalP99         = 100 * time.Millisecond
	subGoalKiBPerIdle  = 20.0
	subIdleWait        = 2 * time.Second // connected and idle before RSS is read
	subDrainQuiet      = 3 * time.Second // after the last write, how long no delivery may come before the rest count as lost
	subDrainMax        = 2 * time.Minute
	subConnectParallel = 32
)

const (
	gqlCommentAdded = `subscription CommentAdded($slug: String!) { commentAdded(articleSlug: $slug) { id body createdAt author { username } } }`
	gqlAddComment   = `mutation AddComment($input: AddCommentInput!) { addComment(input: $input) { comment { id } userErrors { message } } }`
	// subBody is a comment's text: its sequence number and when it was
	// sent, in nanoseconds since the scenario's clock started.
	subBody = "bench-sub seq=%d sent=%d"
)

// subResult is what the subscriptions scenario measured.
type subResult struct {
	Subscribers int     `json:"subscribers"`
	Connected   int     `json:"connected"`
	Articles    int     `json:"articles"`
	PerEvent    float64 `json:"subscribersPerEvent"`
	Seconds     float64 `json:"seconds"`
	// RateWanted is -sub-rate; AchievedRate the acknowledged writes ÷ the
	// time from the first write sent to the last answer.
	RateWanted   float64      `json:"rateWanted"`
	AchievedRate float64      `json:"achievedRate"`
	Writes       int          `json:"writes"`
	WriteErrors  int          `json:"writeErrors"`
	FirstError   string       `json:"firstError,omitempty"`
	WriteLatency latencies    `json:"writeLatencyMs"`
	Replicas     []subReplica `json:"replicas"`
	// Deliveries: Expected is, for each acknowledged write, the subscribers
	// connected to its article; Received counts each subscriber's first
	// receipt of each write.
	Expected     int `json:"expected"`
	Received     int `json:"received"`
	Duplicates   int `json:"duplicates"`
	OutOfOrder   int `json:"outOfOrder"`
	Misdelivered int `json:"misdelivered"` // of another article than the subscriber's
	Disconnected int `json:"disconnected"`
	// StreamErrors counts error and complete messages, and messages that
	// could not be read.
	StreamErrors     int    `json:"streamErrors"`
	FirstStreamError string `json:"firstStreamError,omitempty"`
	// FromSend is each delivery's time from the moment its write was sent;
	// FromResponse from the moment the write's answer came back (0 when it
	// came before).
	FromSend       latencies `json:"fromSendMs"`
	FromResponse   latencies `json:"fromResponseMs"`
	BeforeResponse int       `json:"deliveriesBeforeResponse"`
	// CPU is what each process used during the measured writes, in % of
	// one core.
	CPU []processCPUShare `json:"cpu"`
}

type latencies struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func newLatencies(sorted []time.Duration) latencies {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return latencies{ms(percentile(sorted, .5)), ms(percentile(sorted, .9)), ms(percentile(sorted, .99)), ms(percentile(sorted, 1))}
}

// subReplica is one of the replicas the subscribers are on.
type subReplica struct {
	Name        string  `json:"name"`
	Subscribers int     `json:"subscribers"`
	RSSBeforeKB int64   `json:"rssBeforeKiB"`
	RSSIdleKB   int64   `json:"rssIdleKiB"`
	KiBPerSub   float64 `json:"kibPerSubscriber"`
	// Where the memory goes, from the Go runtime's metrics: goroutines,
	// heap in use and goroutine stacks, idle minus before, per subscriber.
	GoroutinesPerSub float64 `json:"goroutinesPerSubscriber"`
	HeapKiBPerSub    float64 `json:"heapInuseKiBPerSubscriber"`
	StackKiBPerSub   float64 `json:"stackInuseKiBPerSubscriber"`
	// Delivered and Dropped are the replica's own counters over the writes
	// (conduit_subscription_events_{delivered,dropped}_total); Statements
	// the SQL statements it ran meanwhile.
	Delivered  int64 `json:"delivered"`
	Dropped    int64 `json:"dropped"`
	Statements int64 `json:"statements"`
}

// runtimeMetrics are the Go runtime's gauges that tell where a replica's
// memory goes.
var runtimeMetrics = []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes"}

func readRuntime(ctx context.Context, srv *server) ([3]int64, error) {
	var v [3]int64
	for i, name := range runtimeMetrics {
		n, found, err := srv.metricSum(ctx, name)
		if err == nil && !found {
			err = fmt.Errorf("scrape %s: no %s", srv.name, name)
		}
		if err != nil {
			return v, err
		}
		v[i] = n
	}
	return v, nil
}

type processCPUShare struct {
	Process string  `json:"process"`
	Percent float64 `json:"percentOfOneCore"`
}

// runSubscriptions is the subscriptions scenario: two more replicas (A
// and B) on the same database, the subscribers spread over them, and
// comments written at a steady rate through the replica that serves the
// other scenarios (C).
func runSubscriptions(ctx context.Context, e *env, cfg config, res *results, log *progress) error {
	sc := cfg.sub
	raiseOpenFiles(sc.subscribers+1024, log)
	slugs, err := e.data.subscribedArticles(ctx, sc.articles)
	if err != nil {
		return err
	}
	var replicas [2]*server
	for i, name := range []string{"conduit-sub-a", "conduit-sub-b"} {
		if replicas[i], err = e.sys.startReplica(ctx, name, e.sys.bin, cfg.outDir, nil); err != nil {
			return err
		}
		defer func(s *server) {
			if err := s.stop(); err != nil {
				log.step("stop %s: %v (its log: %s)", s.name, err, s.logPath)
			}
		}(replicas[i])
	}
	log.step("subscriptions: replicas A on %s (pid %d) and B on %s (pid %d), writes through C on %s; %d subscribers on %d articles (%d per event), %.0f comments/s for %s",
		replicas[0].base, replicas[0].pid(), replicas[1].base, replicas[1].pid(), e.sys.ours.base, sc.subscribers, sc.articles, sc.subscribers/sc.articles, sc.rate, cfg.duration)
	out := &subResult{Subscribers: sc.subscribers, Articles: sc.articles, RateWanted: sc.rate}
	var runtimeBefore [2][3]int64
	for i, r := range replicas {
		kb, err := r.rssKB()
		if err != nil {
			return err
		}
		if runtimeBefore[i], err = readRuntime(ctx, r); err != nil {
			return err
		}
		out.Replicas = append(out.Replicas, subReplica{Name: r.name, RSSBeforeKB: kb})
	}

	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	clock := time.Now()
	var received atomic.Int64
	subs := make([]*subscriber, sc.subscribers)
	for i := range subs {
		// Subscriber i is on replica i mod 2 and watches article (i/2) mod K,
		// so that each article has as many subscribers on A as on B.
		subs[i] = &subscriber{replica: i % 2, article: (i / 2) % sc.articles, done: make(chan struct{})}
	}
	connected := time.Now()
	err = parallelN(ctx, len(subs), subConnectParallel, func(ctx context.Context, i int) error {
		s := subs[i]
		if err := s.connect(ctx, replicas[s.replica].base, slugs[s.article]); err != nil {
			return fmt.Errorf("subscriber %d on %s: %w", i, replicas[s.replica].name, err)
		}
		go s.read(readCtx, clock, &received)
		return nil
	})
	if err != nil {
		return err
	}
	out.Connected = len(subs)
	for _, s := range subs {
		out.Replicas[s.replica].Subscribers++
	}
	for i, r := range replicas {
		if err := waitSubscriptions(ctx, r, int64(out.Replicas[i].Subscribers)); err != nil {
			return err
		}
	}
	log.step("subscriptions: %d subscribers connected and subscribed in %s; idle for %s", len(subs), time.Since(connected).Round(10*time.Millisecond), subIdleWait)
	time.Sleep(subIdleWait)
	for i, r := range replicas {
		kb, err := r.rssKB()
		if err != nil {
			return err
		}
		rt, err := readRuntime(ctx, r)
		if err != nil {
			return err
		}
		rep := &out.Replicas[i]
		n := float64(rep.Subscribers)
		rep.RSSIdleKB = kb
		rep.KiBPerSub = float64(kb-rep.RSSBeforeKB) / n
		rep.GoroutinesPerSub = float64(rt[0]-runtimeBefore[i][0]) / n
		rep.HeapKiBPerSub = float64(rt[1]-runtimeBefore[i][1]) / 1024 / n
		rep.StackKiBPerSub = float64(rt[2]-runtimeBefore[i][2]) / 1024 / n
	}

	perArticle := make([]int, sc.articles)
	for _, s := range subs {
		perArticle[s.article]++
	}
	w := newCommentWriter(e, slugs, clock)
	defer w.client.CloseIdleConnections()
	warmup := max(cfg.warmup, time.Second)
	warm := int(sc.rate * warmup.Seconds())
	w.write(ctx, 0, warm, sc.rate)
	n := int(sc.rate * cfg.duration.Seconds())
	before := make([][3]int64, len(replicas))
	for i, r := range replicas {
		if before[i], err = hubCounters(ctx, r); err != nil {
			return err
		}
	}
	cpu := newCPUShares(e, replicas[:])
	log.step("subscriptions: warmed up with %d comments; writing %d more at %.0f/s", warm, n, sc.rate)
	started := time.Since(clock)
	w.write(ctx, warm, n, sc.rate)
	out.CPU = cpu.shares()
	if err := ctx.Err(); err != nil {
		return err
	}
	expected := 0
	for i := range warm + n {
		if w.ok[i] {
			expected += perArticle[i%sc.articles]
		}
	}
	// Deliveries still on their way are waited for as long as they keep
	// coming: a late one is late, not lost.
	last, progress, giveUp := received.Load(), time.Now(), time.Now().Add(subDrainMax)
	for n := last; n < int64(expected) && time.Since(progress) < subDrainQuiet && time.Now().Before(giveUp); n = received.Load() {
		if n > last {
			last, progress = n, time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, r := range replicas {
		after, err := hubCounters(ctx, r)
		if err != nil {
			return err
		}
		rep := &out.Replicas[i]
		rep.Delivered, rep.Dropped, rep.Statements = after[0]-before[i][0], after[1]-before[i][1], after[2]-before[i][2]
	}
	stopReading()
	for _, s := range subs {
		<-s.done
	}
	out.tally(subs, w, warm, n, perArticle, started)
	res.Subscriptions = out
	log.step("subscriptions: %d of %d deliveries, from send p50 %.1f ms p99 %.1f ms max %.1f ms; %.0f writes/s; KiB per idle subscriber %.1f (A) %.1f (B)",
		out.Received, out.Expected, out.FromSend.P50, out.FromSend.P99, out.FromSend.Max, out.AchievedRate, out.Replicas[0].KiBPerSub, out.Replicas[1].KiBPerSub)
	return nil
}

// tally sums up the measured writes, those numbered from to from+n-1.
func (out *subResult) tally(subs []*subscriber, w *commentWriter, from, n int, perArticle []int, started time.Duration) {
	out.PerEvent = float64(out.Connected) / float64(out.Articles)
	out.Writes = n
	var writeLat []time.Duration
	last := started
	for i := from; i < from+n; i++ {
		if !w.ok[i] {
			out.WriteErrors++
			continue
		}
		out.Expected += perArticle[i%out.Articles]
		writeLat = append(writeLat, w.resp[i]-w.sent[i])
		last = max(last, w.resp[i])
	}
	out.FirstError = w.firstErr
	slices.Sort(writeLat)
	out.WriteLatency = newLatencies(writeLat)
	first := started
	if n > 0 {
		first = w.sent[from]
	}
	out.Seconds = (last - first).Seconds()
	if out.Seconds > 0 {
		out.AchievedRate = float64(n-out.WriteErrors) / out.Seconds
	}
	var fromSend, fromResp []time.Duration
	for _, s := range subs {
		if s.lost != "" {
			out.Disconnected++
		}
		out.StreamErrors += s.errors
		if out.FirstStreamError == "" {
			out.FirstStreamError = s.firstErr
		}
		seen := map[int]bool{}
		prev := -1
		for _, d := range s.got {
			if d.seq < prev {
				out.OutOfOrder++
			}
			prev = max(prev, d.seq)
			if d.seq%out.Articles != s.article {
				out.Misdelivered++
				continue
			}
			if seen[d.seq] {
				out.Duplicates++
				continue
			}
			seen[d.seq] = true
			if d.seq < from || d.seq >= from+n {
				continue
			}
			out.Received++
			fromSend = append(fromSend, d.at-d.sent)
			if w.ok[d.seq] {
				if r := d.at - w.resp[d.seq]; r > 0 {
					fromResp = append(fromResp, r)
				} else {
					fromResp = append(fromResp, 0)
					out.BeforeResponse++
				}
			}
		}
	}
	slices.Sort(fromSend)
	slices.Sort(fromResp)
	out.FromSend, out.FromResponse = newLatencies(fromSend), newLatencies(fromResp)
}

// subscriber is one WebSocket with one commentAdded subscription.
type subscriber struct {
	replica, article int
	conn             *websocket.Conn
	// What read saw; read only after done is closed.
	got      []subDelivery
	errors   int
	firstErr string
	lost     string // why the connection ended before the scenario closed it
	done     chan struct{}
}

// subDelivery is one comment as a subscriber received it: its sequence
// number, when it was sent and when it arrived, on the scenario's clock.
type subDelivery struct {
	seq      int
	sent, at time.Duration
}

// wsMessage is a message of graphql-transport-ws.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// connect opens the WebSocket anonymously, waits for the server's
// connection_ack and subscribes to the article's new comments.
func (s *subscriber) connect(ctx context.Context, base, slug string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		if resp != nil {
			return fmt.Errorf("dial: %w (status %d)", err, resp.StatusCode)
		}
		return fmt.Errorf("dial: %w", err)
	}
	conn.SetReadLimit(1 << 20)
	if err := send(ctx, conn, wsMessage{Type: "connection_init", Payload: json.RawMessage(`{}`)}); err != nil {
		conn.CloseNow()
		return err
	}
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			conn.CloseNow()
			return fmt.Errorf("wait for connection_ack: %w", err)
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil || m.Type == "connection_error" {
			conn.CloseNow()
			return fmt.Errorf("want connection_ack, got %.200s", b)
		}
		if m.Type == "connection_ack" {
			break
		}
	}
	payload, _ := json.Marshal(map[string]any{"query": gqlCommentAdded, "variables": map[string]any{"slug": slug}})
	if err := send(ctx, conn, wsMessage{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		conn.CloseNow()
		return err
	}
	s.conn = conn
	return nil
}

func send(ctx context.Context, conn *websocket.Conn, m wsMessage) error {
	b, _ := json.Marshal(m)
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("send %s: %w", m.Type, err)
	}
	return nil
}

// read receives until ctx ends, taking each message's time as soon as it
// is read, and answers the server's pings.
func (s *subscriber) read(ctx context.Context, clock time.Time, received *atomic.Int64) {
	defer close(s.done)
	defer s.conn.CloseNow()
	fail := func(msg string) {
		s.errors++
		if s.firstErr == "" {
			s.firstErr = msg
		}
	}
	for {
		_, b, err := s.conn.Read(ctx)
		at := time.Since(clock)
		if err != nil {
			if ctx.Err() == nil {
				s.lost = err.Error()
			}
			return
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			fail(fmt.Sprintf("message %.200s: %v", b, err))
			continue
		}
		switch m.Type {
		case "ping":
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := send(wctx, s.conn, wsMessage{Type: "pong"})
			cancel()
			if err != nil && ctx.Err() == nil {
				fail(err.Error())
			}
		case "pong":
		case "next":
			d, err := parseDelivery(m.Payload)
			if err != nil {
				fail(err.Error())
				continue
			}
			d.at = at
			s.got = append(s.got, d)
			received.Add(1)
		default:
			fail(fmt.Sprintf("%.200s", b))
		}
	}
}

// parseDelivery reads the sequence number and send time from a next
// message's payload.
func parseDelivery(payload json.RawMessage) (subDelivery, error) {
	var p struct {
		Data struct {
			CommentAdded struct {
				Body string `json:"body"`
			} `json:"commentAdded"`
		} `json:"data"`
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return subDelivery{}, fmt.Errorf("payload %.200s: %w", payload, err)
	}
	if len(p.Errors) > 0 {
		return subDelivery{}, fmt.Errorf("errors: %.200s", p.Errors)
	}
	var d subDelivery
	var sent int64
	if _, err := fmt.Sscanf(p.Data.CommentAdded.Body, subBody, &d.seq, &sent); err != nil {
		return subDelivery{}, fmt.Errorf("body %q: %w", p.Data.CommentAdded.Body, err)
	}
	d.sent = time.Duration(sent)
	return d, nil
}

// commentWriter writes the numbered comments through C.
type commentWriter struct {
	e      *env
	slugs  []string
	clock  time.Time
	client *http.Client
	// By sequence number: when each write was sent and answered, and
	// whether it succeeded. Each index is written by one worker, and read
	// once write has returned.
	sent, resp []time.Duration
	ok         []bool
	mu         sync.Mutex
	firstErr   string
}

func newCommentWriter(e *env, slugs []string, clock time.Time) *commentWriter {
	return &commentWriter{e: e, slugs: slugs, clock: clock, client: newClient(len(slugs))}
}

// write sends the comments numbered from to from+n-1, at rate per second
// from now on, comment i on article i mod K. One worker per article sends
// its article's comments one after the other, so that two comments on one
// article are never in flight at once and each subscriber must receive
// them in order. A worker that falls behind sends at once, to catch up.
func (w *commentWriter) write(ctx context.Context, from, n int, rate float64) {
	w.sent = append(w.sent, make([]time.Duration, n)...)
	w.resp = append(w.resp, make([]time.Duration, n)...)
	w.ok = append(w.ok, make([]bool, n)...)
	k := len(w.slugs)
	start := time.Now()
	var wg sync.WaitGroup
	for a := range k {
		wg.Go(func() {
			for i := from + ((a-from%k)+k)%k; i < from+n && ctx.Err() == nil; i += k {
				due := start.Add(time.Duration(float64(i-from) / rate * float64(time.Second)))
				if d := time.Until(due); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
				}
				w.send(ctx, i)
			}
		})
	}
	wg.Wait()
}

func (w *commentWriter) send(ctx context.Context, i int) {
	sent := time.Since(w.clock)
	body := gqlBody(gqlAddComment, map[string]any{"input": map[string]any{
		"articleSlug": w.slugs[i%len(w.slugs)], "body": fmt.Sprintf(subBody, i, int64(sent)),
	}})
	c := call{method: http.MethodPost, url: w.e.base(sysGraphQL) + "/graphql", token: w.e.writerToken, body: body}
	w.sent[i] = sent
	req, err := c.request(ctx)
	if err != nil {
		w.fail(err.Error())
		return
	}
	resp, err := w.client.Do(req)
	if err != nil {
		w.fail(err.Error())
		return
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	w.resp[i] = time.Since(w.clock)
	if err != nil || !gqlMutationOK(resp.StatusCode, b) {
		w.fail(fmt.Sprintf("addComment: %d %.200s", resp.StatusCode, b))
		return
	}
	w.ok[i] = true
}

func (w *commentWriter) fail(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.firstErr == "" {
		w.firstErr = msg
	}
}

// subscribedArticles publishes n articles as the writer for the
// subscribers to watch; undoWrites deletes them with their comments.
func (d *benchData) subscribedArticles(ctx context.Context, n int) ([]string, error) {
	slugs := make([]string, n)
	stamp := time.Now().UnixNano()
	err := parallel(ctx, n, func(ctx context.Context, i int) error {
		a, err := d.svc.CreateArticle(as(ctx, d.writerID), conduit.CreateArticleInput{
			Title: fmt.Sprintf("Subscribed %d n%d", stamp, i), Description: "Watched by the subscriptions scenario.",
			Body: "Comments on it are written by the benchmark.",
		})
		slugs[i] = a.Slug
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create the subscribed articles: %w", err)
	}
	return slugs, nil
}

// waitSubscriptions waits until srv runs n subscriptions: subscribe has no
// answer in graphql-transport-ws, and a write before the hub holds the
// subscription would not reach it.
func waitSubscriptions(ctx context.Context, srv *server, n int64) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		open, _, err := srv.metricSum(ctx, "conduit_subscriptions_open")
		if err != nil {
			return err
		}
		if open == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s runs %d subscriptions after 30s, want %d", srv.name, open, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hubCounters reads a replica's events delivered and dropped, and the
// statements it ran.
func hubCounters(ctx context.Context, srv *server) ([3]int64, error) {
	var c [3]int64
	for i, name := range []string{"conduit_subscription_events_delivered_total", "conduit_subscription_events_dropped_total", "conduit_sql_statements_total"} {
		v, found, err := srv.metricSum(ctx, name)
		if err == nil && !found {
			err = fmt.Errorf("scrape %s: no %s", srv.name, name)
		}
		if err != nil {
			return c, err
		}
		c[i] = v
	}
	return c, nil
}

// cpuShares measures the CPU time of the scenario's processes.
type cpuShares struct {
	at    time.Time
	names []string
	read  []func() uint64
	start []uint64
}

func newCPUShares(e *env, replicas []*server) *cpuShares {
	c := &cpuShares{at: time.Now()}
	add := func(name string, f func() uint64) {
		c.names, c.read, c.start = append(c.names, name), append(c.read, f), append(c.start, f())
	}
	add("harness (writer and subscribers)", func() uint64 { return processCPU(syscall.Getpid(), false) })
	add("C (writes)", func() uint64 { return processCPU(e.sys.ours.pid(), false) })
	for i, r := range replicas {
		pid := r.pid()
		add(fmt.Sprintf("%c (%s)", 'A'+i, r.name), func() uint64 { return processCPU(pid, false) })
	}
	add("PostgreSQL", func() uint64 { return postgresCPU(e.data.dir) })
	add("machine", machineBusy)
	return c
}

// shares returns each process's CPU since newCPUShares, in % of one core.
func (c *cpuShares) shares() []processCPUShare {
	wall := time.Since(c.at).Seconds() * clockTicks
	var out []processCPUShare
	ours := 0.0
	for i, f := range c.read {
		pct := 100 * float64(f()-c.start[i]) / wall
		if c.names[i] != "machine" {
			ours += pct
			out = append(out, processCPUShare{Process: c.names[i], Percent: pct})
			continue
		}
		out = append(out, processCPUShare{Process: "other processes on the machine", Percent: max(0, pct-ours)},
			processCPUShare{Process: fmt.Sprintf("whole machine (%d cores)", runtime.NumCPU()), Percent: pct})
	}
	return out
}

// raiseOpenFiles raises this process's limit of open files to at least
// want, as far as the hard limit allows; the replicas started after it
// inherit it. Each subscriber is a socket here and one on its replica.
func raiseOpenFiles(want int, log *progress) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= uint64(want) {
		return
	}
	lim.Cur = min(max(uint64(want), lim.Cur), lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.step("subscriptions: could not raise the open-files limit to %d: %v", want, err)
	}
}

// targets are the goals of the issue for subscriptions.
func (s *subResult) targets() []target {
	ts := []target{
		{fmt.Sprintf("subscriptions: p99 commit-to-delivery (from send) at %.0f events/s", s.RateWanted), "< 100 ms",
			fmt.Sprintf("%.1f ms", s.FromSend.P99), s.FromSend.P99 < float64(subGoalP99.Milliseconds())},
	}
	for _, r := range s.Replicas {
		ts = append(ts, target{"subscriptions: memory per idle subscriber on " + r.Name, fmt.Sprintf("< %.0f KiB", subGoalKiBPerIdle),
			fmt.Sprintf("%.1f KiB", r.KiBPerSub), r.KiBPerSub < subGoalKiBPerIdle})
	}
	ts = append(ts,
		target{"subscriptions: deliveries received of expected", fmt.Sprint(s.Expected), fmt.Sprint(s.Received), s.Received == s.Expected && s.Expected > 0},
		target{"subscriptions: duplicates, out of order, misdelivered, disconnected, stream errors", "0 0 0 0 0",
			fmt.Sprintf("%d %d %d %d %d", s.Duplicates, s.OutOfOrder, s.Misdelivered, s.Disconnected, s.StreamErrors),
			s.Duplicates+s.OutOfOrder+s.Misdelivered+s.Disconnected+s.StreamErrors == 0},
		target{"subscriptions: write rate achieved", fmt.Sprintf("%.0f/s", s.RateWanted), fmt.Sprintf("%.1f/s", s.AchievedRate), s.AchievedRate >= 0.98*s.RateWanted},
	)
	return ts
}

// markdown renders the scenario's tables.
func (s *subResult) markdown(b *strings.Builder) {
	fmt.Fprintf(b, "\nSubscriptions: %d anonymous graphql-transport-ws subscribers (%d connected), half on replica A and half on B, on commentAdded of %d articles (%.0f subscribers per event); comments written through C at %.0f/s (achieved %.1f/s, %d writes, %d failed; addComment p50 %.1f ms, p99 %.1f ms).\n\n",
		s.Subscribers, s.Connected, s.Articles, s.PerEvent, s.RateWanted, s.AchievedRate, s.Writes, s.WriteErrors, s.WriteLatency.P50, s.WriteLatency.P99)
	b.WriteString("| delivery latency | p50 ms | p90 ms | p99 ms | max ms |\n|---|--:|--:|--:|--:|\n")
	fmt.Fprintf(b, "| from the write sent (upper bound) | %.2f | %.2f | %.2f | %.2f |\n", s.FromSend.P50, s.FromSend.P90, s.FromSend.P99, s.FromSend.Max)
	fmt.Fprintf(b, "| from the write's answer (lower bound; %d deliveries came before it, counted as 0) | %.2f | %.2f | %.2f | %.2f |\n", s.BeforeResponse, s.FromResponse.P50, s.FromResponse.P90, s.FromResponse.P99, s.FromResponse.Max)
	fmt.Fprintf(b, "\n| deliveries expected | received | duplicates | out of order | misdelivered | disconnected | stream errors |\n|--:|--:|--:|--:|--:|--:|--:|\n| %d | %d | %d | %d | %d | %d | %d |\n",
		s.Expected, s.Received, s.Duplicates, s.OutOfOrder, s.Misdelivered, s.Disconnected, s.StreamErrors)
	b.WriteString("\n| replica | subscribers | RSS before KiB | RSS idle KiB | **KiB per idle subscriber** | goroutines / sub | Go heap KiB / sub | stacks KiB / sub | events delivered | dropped | SQL / delivery |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range s.Replicas {
		perDelivery := 0.0
		if r.Delivered > 0 {
			perDelivery = float64(r.Statements) / float64(r.Delivered)
		}
		fmt.Fprintf(b, "| %s | %d | %d | %d | **%.1f** | %.1f | %.1f | %.1f | %d | %d | %.2f |\n", r.Name, r.Subscribers, r.RSSBeforeKB, r.RSSIdleKB, r.KiBPerSub,
			r.GoroutinesPerSub, r.HeapKiBPerSub, r.StackKiBPerSub, r.Delivered, r.Dropped, perDelivery)
	}
	b.WriteString("\n| CPU during the writes | % of one core |\n|---|--:|\n")
	for _, c := range s.CPU {
		fmt.Fprintf(b, "| %s | %.0f%% |\n", c.Process, c.Percent)
	}
}
