package legacy

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/conduit-dev/conduit/conduit"
)

// UsageStore keeps the counts of calls; *db.DB is one.
type UsageStore interface {
	AddUsage(ctx context.Context, batch conduit.UsageBatch) error
}

// Defaults of UsageOptions.
const (
	// DefaultMaxClients is how many distinct clients a replica tells apart
	// in one hour: enough for every real client of an API, and few enough
	// that a caller who invents a name per request cannot grow the table
	// or the metrics without bound.
	DefaultMaxClients = 100
	// DefaultFlushInterval is how often counts are written: a restart
	// loses at most that much, and the database sees one statement per
	// replica per interval whatever the traffic.
	DefaultFlushInterval = 5 * time.Second
)

// OtherClients is the client that calls are counted under once a replica
// has seen its fill of distinct clients (UsageOptions.MaxClients).
const OtherClients = "(other)"

// UsageOptions tunes NewUsage.
type UsageOptions struct {
	// MaxClients bounds the distinct clients counted per hour by this
	// replica, and those /metrics names in its lifetime; the rest are
	// OtherClients. DefaultMaxClients when 0.
	MaxClients int
	// FlushInterval is the time between writes of Start's loop;
	// DefaultFlushInterval when 0.
	FlushInterval time.Duration
	// Logger hears of writes that failed (their counts are kept for the
	// next). Nil discards.
	Logger *slog.Logger
}

// usageKey is what one row of legacy_usage counts.
type usageKey struct {
	bucket    int64 // Unix seconds of the start of the hour
	operation string
	client    string
	signedIn  bool
}

type usageCount struct {
	calls       int64
	first, last time.Time
	// metric is the client as /metrics names it (metricName).
	metric string
}

// metricKey is what one series of the calls counter counts.
type metricKey struct {
	operation, client string
	signedIn          bool
}

// Usage counts the calls to the legacy API in memory and writes them to a
// UsageStore in batches: recording a call takes a lock and a map update,
// never a statement. It is a prometheus.Collector of the same counts. It
// is safe for concurrent use.
type Usage struct {
	store      UsageStore
	maxClients int
	interval   time.Duration
	logger     *slog.Logger

	mu      sync.Mutex
	pending map[usageKey]*usageCount
	// seen are the clients told apart in each hour still being counted.
	seen map[int64]map[string]struct{}
	// totals are the calls taken from pending since the start, for
	// /metrics; named are the clients it names.
	totals map[metricKey]float64
	named  map[string]struct{}

	// flushing serializes writes. It guards what follows.
	flushing sync.Mutex
	writer   string
	// unsent is the batch of the last write, until the store has it: a
	// failed write is sent again as it was, under the same number, before
	// anything newer.
	unsent *conduit.UsageBatch
	seq    int64
}

// NewUsage returns a Usage that writes to store.
func NewUsage(store UsageStore, opts UsageOptions) *Usage {
	u := &Usage{
		store: store, maxClients: opts.MaxClients, interval: opts.FlushInterval, logger: opts.Logger,
		pending: map[usageKey]*usageCount{}, seen: map[int64]map[string]struct{}{},
		totals: map[metricKey]float64{}, named: map[string]struct{}{},
		writer: rand.Text(),
	}
	if u.maxClients <= 0 {
		u.maxClients = DefaultMaxClients
	}
	if u.interval <= 0 {
		u.interval = DefaultFlushInterval
	}
	if u.logger == nil {
		u.logger = slog.New(slog.DiscardHandler)
	}
	return u
}

// Record counts one call of operation by client at now.
func (u *Usage) Record(now time.Time, operation, client string, signedIn bool) {
	bucket := now.Unix()
	bucket -= (bucket%3600 + 3600) % 3600 // the start of the hour, before 1970 too
	u.mu.Lock()
	clients := u.seen[bucket]
	if clients == nil {
		clients = map[string]struct{}{}
		u.seen[bucket] = clients
		// Hours more than one before this one are complete.
		for b := range u.seen {
			if b < bucket-3600 {
				delete(u.seen, b)
			}
		}
	}
	if _, ok := clients[client]; !ok {
		if len(clients) < u.maxClients {
			clients[client] = struct{}{}
		} else {
			client = OtherClients
		}
	}
	k := usageKey{bucket, operation, client, signedIn}
	if c := u.pending[k]; c != nil {
		c.calls++
		if now.After(c.last) {
			c.last = now
		}
		if now.Before(c.first) {
			c.first = now
		}
	} else {
		u.pending[k] = &usageCount{calls: 1, first: now, last: now, metric: u.metricName(client)}
	}
	u.mu.Unlock()
}

// Flush writes what was counted since the last write in one statement.
// When the last write failed, its batch is sent again first, unchanged;
// the store applies each batch once, so a write that failed ambiguously
// (committed, but the answer lost) is not counted twice. On failure the
// counts are kept for the next Flush.
func (u *Usage) Flush(ctx context.Context) error {
	u.flushing.Lock()
	defer u.flushing.Unlock()
	for range 2 { // the batch that failed, if any, then the new counts
		if u.unsent == nil {
			if u.unsent = u.take(); u.unsent == nil {
				return nil
			}
		}
		if err := u.store.AddUsage(ctx, *u.unsent); err != nil {
			return err
		}
		u.unsent = nil
	}
	return nil
}

// take moves the pending counts into a new batch, and into the totals of
// /metrics; nil when there are none. u.flushing is held.
func (u *Usage) take() *conduit.UsageBatch {
	u.mu.Lock()
	pending := u.pending
	u.pending = map[usageKey]*usageCount{}
	for k, c := range pending {
		u.totals[metricKey{k.operation, c.metric, k.signedIn}] += float64(c.calls)
	}
	u.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	u.seq++
	b := &conduit.UsageBatch{Writer: u.writer, Seq: u.seq, Counts: make([]conduit.UsageCount, 0, len(pending))}
	for k, c := range pending {
		b.Counts = append(b.Counts, conduit.UsageCount{
			Bucket: time.Unix(k.bucket, 0).UTC(), Operation: k.operation, Client: k.client, SignedIn: k.signedIn,
			Calls: c.calls, FirstSeen: c.first, LastSeen: c.last,
		})
	}
	return b
}

// metricName is how /metrics names client: the first MaxClients clients
// keep their names for the life of the process, later ones are
// OtherClients, so that the series stay bounded however long it runs.
// u.mu is held.
func (u *Usage) metricName(client string) string {
	if _, ok := u.named[client]; ok || client == OtherClients {
		return client
	}
	if len(u.named) < u.maxClients {
		u.named[client] = struct{}{}
		return client
	}
	return OtherClients
}

// Start writes the counts every FlushInterval until the returned func is
// called; that func writes what is left, waiting at most timeout for the
// database, and returns once it is written or abandoned. Call it after the
// server has drained and before the database closes.
func (u *Usage) Start(timeout time.Duration) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(u.interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				// Generous, as a write sent again is harmless.
				ctx, cancel := context.WithTimeout(context.Background(), max(u.interval, DefaultFlushInterval))
				if err := u.Flush(ctx); err != nil {
					u.logger.Warn("legacy usage: counts not written; kept for the next try", slog.Any("error", err))
				}
				cancel()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := u.Flush(ctx); err != nil {
			u.logger.Error("legacy usage: the last counts were not written", slog.Any("error", err))
		}
	}
}

var usageDesc = prometheus.NewDesc("conduit_legacy_calls_total",
	"Calls to the legacy REST API served by this replica, by operationId, client (X-Client-Name, else the User-Agent's family; (other) past the bound) and whether the caller was signed in.",
	[]string{"operation", "client", "signed_in"}, nil)

// Describe is part of prometheus.Collector.
func (u *Usage) Describe(ch chan<- *prometheus.Desc) { ch <- usageDesc }

// Collect is part of prometheus.Collector: the calls counted so far,
// written or not.
func (u *Usage) Collect(ch chan<- prometheus.Metric) {
	u.mu.Lock()
	sums := make(map[metricKey]float64, len(u.totals)+len(u.pending))
	for k, n := range u.totals {
		sums[k] += n
	}
	for k, c := range u.pending {
		sums[metricKey{k.operation, c.metric, k.signedIn}] += float64(c.calls)
	}
	u.mu.Unlock()
	for k, n := range sums {
		signedIn := "false"
		if k.signedIn {
			signedIn = "true"
		}
		ch <- prometheus.MustNewConstMetric(usageDesc, prometheus.CounterValue, n, k.operation, k.client, signedIn)
	}
}

var _ prometheus.Collector = (*Usage)(nil)

// ClientNameHeader is the request header a client names itself in, for
// the usage counts.
const ClientNameHeader = "X-Client-Name"

// maxClientName bounds the length of a client's name.
const maxClientName = 64

// ClientOf names the client that sent r: its X-Client-Name, reduced to
// letters, digits and . _ - / : @ + (white space becomes -) and cut to 64
// bytes, else the family of its User-Agent.
func ClientOf(r *http.Request) string {
	// Indexed by their canonical names: Header.Get would canonicalize them
	// again on every request.
	if name := clientName(first(r.Header[ClientNameHeader])); name != "" {
		return name
	}
	return userAgentFamily(first(r.Header["User-Agent"]))
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

func clientName(h string) string {
	h = strings.TrimSpace(h)
	if h == "" {
		return ""
	}
	clean := true
	for i := 0; i < len(h) && clean; i++ {
		clean = nameByte(h[i])
	}
	if clean {
		return h[:min(len(h), maxClientName)]
	}
	var b strings.Builder
	for i := 0; i < len(h) && b.Len() < maxClientName; i++ {
		switch c := h[i]; {
		case nameByte(c):
			b.WriteByte(c)
		case c == ' ' || c == '\t':
			if s := b.String(); s != "" && !strings.HasSuffix(s, "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.TrimRight(b.String(), "-")
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._-/:@+", c) >= 0
}

// products are the HTTP libraries and tools told apart by the first
// product of their User-Agent, lowercased, with the name counted.
var products = map[string]string{
	"curl": "curl", "wget": "Wget", "httpie": "HTTPie",
	"python-requests": "python-requests", "python-urllib": "python-urllib", "python-httpx": "python-httpx",
	"okhttp": "okhttp", "go-http-client": "Go-http-client", "axios": "axios", "node-fetch": "node-fetch",
	"node": "node", "undici": "node", "postmanruntime": "PostmanRuntime", "insomnia": "insomnia",
	"apache-httpclient": "Apache-HttpClient", "java": "Java", "java-http-client": "Java", "dart": "Dart",
	"ruby": "Ruby", "faraday": "Faraday", "k6": "k6", "deno": "Deno", "bun": "Bun", "dalvik": "Android",
	"cfnetwork": "CFNetwork", "alamofire": "Alamofire",
}

// userAgentFamily names the program a User-Agent belongs to, from a fixed
// set (so that the names stay few): a browser, a known library or tool,
// "none" when there is no User-Agent, else "other".
func userAgentFamily(ua string) string {
	if ua == "" {
		return "none"
	}
	first, _, _ := strings.Cut(ua, " ")
	first, _, _ = strings.Cut(first, "/")
	if first == "Mozilla" {
		// Browsers all claim to be Mozilla; the later tokens tell them
		// apart, each claiming the ones before it too.
		for _, b := range []struct{ token, name string }{
			{"Edg/", "Edge"}, {"EdgiOS/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
			{"CriOS/", "Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
		} {
			if strings.Contains(ua, b.token) {
				return b.name
			}
		}
		return "other"
	}
	if name, ok := products[strings.ToLower(first)]; ok {
		return name
	}
	// "Python/3.12 aiohttp/3.9": a library after the language.
	if _, rest, ok := strings.Cut(ua, " "); ok {
		next, _, _ := strings.Cut(rest, "/")
		if next == "aiohttp" {
			return "aiohttp"
		}
	}
	return "other"
}
