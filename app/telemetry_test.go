package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
)

// The trace a test request continues, as a client's traceparent names it.
const (
	parentTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentSpanID  = "00f067aa0ba902b7"
	traceparent   = "00-" + parentTraceID + "-" + parentSpanID + "-01"
)

// newTracedSite is newSite with tracing on, every span kept in memory.
func newTracedSite(t *testing.T) (*site, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	// The SDK's default sampler, parent-based always-on: a sampled
	// traceparent is followed, and requests without one are all traced.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return newSite(t, app.Config{TracerProvider: tp}, conduit.Config{}), exp
}

// serverSpans waits until n server spans have ended (the server span ends
// after the handler returns, which may be after the client has the answer),
// then returns every span, in the order they ended.
func serverSpans(t *testing.T, exp *tracetest.InMemoryExporter, n int) tracetest.SpanStubs {
	t.Helper()
	for range 200 {
		spans := exp.GetSpans()
		count := 0
		for _, s := range spans {
			if s.SpanKind == trace.SpanKindServer {
				count++
			}
		}
		if count >= n {
			return spans
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d server spans ended: %v", n, spanNames(exp.GetSpans()))
	return nil
}

func spanNames(spans tracetest.SpanStubs) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	return names
}

// attr returns the span's attribute key as a string ("" when absent).
func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

// wantAttrs fails unless the span has each key=value.
func wantAttrs(t *testing.T, s tracetest.SpanStub, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := attr(s, k); got != v {
			t.Errorf("span %q: %s = %q, want %q (attributes %v)", s.Name, k, got, v, s.Attributes)
		}
	}
}

// byKind splits the spans of one request into its server span, the
// GraphQL operation span (if any), and the SQL statement spans, failing
// on any other span.
func byKind(t *testing.T, spans tracetest.SpanStubs) (server tracetest.SpanStub, ops, sql tracetest.SpanStubs) {
	t.Helper()
	servers := 0
	for _, s := range spans {
		switch {
		case s.SpanKind == trace.SpanKindServer:
			server = s
			servers++
		case s.SpanKind == trace.SpanKindClient && attr(s, "db.system.name") == "postgresql":
			sql = append(sql, s)
		case s.InstrumentationScope.Name == "github.com/conduit-dev/conduit/resolvers":
			ops = append(ops, s)
		default:
			t.Errorf("unexpected span %q (kind %v, scope %s)", s.Name, s.SpanKind, s.InstrumentationScope.Name)
		}
	}
	if servers != 1 {
		t.Fatalf("%d server spans, want 1: %v", servers, spanNames(spans))
	}
	return server, ops, sql
}

// wantChildren fails unless every span is a child of parent in its trace.
func wantChildren(t *testing.T, parent tracetest.SpanStub, children tracetest.SpanStubs) {
	t.Helper()
	for _, c := range children {
		if c.Parent.SpanID() != parent.SpanContext.SpanID() || c.SpanContext.TraceID() != parent.SpanContext.TraceID() {
			t.Errorf("span %q: parent %s in trace %s, want %q (%s) in trace %s", c.Name,
				c.Parent.SpanID(), c.SpanContext.TraceID(), parent.Name, parent.SpanContext.SpanID(), parent.SpanContext.TraceID())
		}
	}
}

// accessLogTraceID returns the trace_id of the access log line of the
// request to route with the given status, waiting for it to be written.
func (s *site) accessLogTraceID(t *testing.T, method, route string) any {
	t.Helper()
	for range 200 {
		if ls := s.logs.lines(map[string]any{"msg": "request", "method": method, "route": route}); len(ls) > 0 {
			return ls[len(ls)-1]["trace_id"]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no access log line for %s %s", method, route)
	return nil
}

func TestTracing(t *testing.T) {
	t.Parallel()
	s, exp := newTracedSite(t)
	token := s.register(t, "tracy")
	slug := s.article(t, token, "Traced")
	serverSpans(t, exp, 2)
	exp.Reset()

	t.Run("Legacy", func(t *testing.T) {
		exp.Reset()
		before := s.store.Statements()
		s.do(t, "GET", "/api/articles/"+slug, "", "", "traceparent", traceparent).want(t, http.StatusOK, "")
		server, ops, sql := byKind(t, serverSpans(t, exp, 1))
		if len(ops) != 0 {
			t.Errorf("GraphQL spans in a legacy request: %v", spanNames(ops))
		}
		if server.Name != "GET /api/articles/{slug}" {
			t.Errorf("server span = %q, want GET /api/articles/{slug}", server.Name)
		}
		wantAttrs(t, server, map[string]string{
			"http.request.method": "GET", "http.route": "/api/articles/{slug}", "url.path": "/api/articles/" + slug,
			"url.scheme": "http", "http.response.status_code": "200",
		})
		if server.Status.Code != codes.Unset {
			t.Errorf("server span status = %v, want unset", server.Status)
		}
		if got := server.SpanContext.TraceID().String(); got != parentTraceID {
			t.Errorf("trace id = %s, want the traceparent's %s", got, parentTraceID)
		}
		if got := server.Parent.SpanID().String(); got != parentSpanID || !server.Parent.IsRemote() {
			t.Errorf("server span's parent = %s (remote %v), want the traceparent's %s", got, server.Parent.IsRemote(), parentSpanID)
		}
		// One span per statement the request ran, each a child of the request.
		if n := s.store.Statements() - before; int64(len(sql)) != n || n != 1 {
			t.Fatalf("%d SQL spans for %d statements, want 1 of each: %v", len(sql), n, spanNames(sql))
		}
		wantChildren(t, server, sql)
		wantAttrs(t, sql[0], map[string]string{"db.operation.name": "SELECT", "db.system.name": "postgresql"})
		if sql[0].Name != "SELECT" || !strings.HasPrefix(attr(sql[0], "db.query.text"), "SELECT") || !strings.Contains(attr(sql[0], "db.query.text"), "articles") {
			t.Errorf("SQL span %q, db.query.text %q; want SELECT and the statement that reads the article", sql[0].Name, attr(sql[0], "db.query.text"))
		}
		if got := s.accessLogTraceID(t, "GET", "/api/articles/{slug}"); got != parentTraceID {
			t.Errorf("access log trace_id = %v, want %s", got, parentTraceID)
		}
	})

	t.Run("GraphQL", func(t *testing.T) {
		exp.Reset()
		before := s.store.Statements()
		// A page selects hundreds of fields; none of them may get a span.
		s.do(t, "POST", "/graphql", token, `{"query":"query Page { articles(first: 20) { totalCount nodes { slug title tagList favorited author { username following } } } viewer { username } }"}`,
			"traceparent", traceparent).want(t, http.StatusOK, "")
		spans := serverSpans(t, exp, 1)
		server, ops, sql := byKind(t, spans)
		if server.Name != "POST /graphql" {
			t.Errorf("server span = %q, want POST /graphql", server.Name)
		}
		wantAttrs(t, server, map[string]string{"http.route": "/graphql", "http.response.status_code": "200", "http.request.method": "POST"})
		if got := server.SpanContext.TraceID().String(); got != parentTraceID {
			t.Errorf("trace id = %s, want %s", got, parentTraceID)
		}
		if len(ops) != 1 {
			t.Fatalf("operation spans = %v, want one", spanNames(ops))
		}
		op := ops[0]
		if op.Name != "query Page" || op.Status.Code != codes.Unset {
			t.Errorf("operation span %q, status %v; want query Page, unset", op.Name, op.Status)
		}
		wantAttrs(t, op, map[string]string{"graphql.operation.name": "Page", "graphql.operation.type": "query"})
		wantChildren(t, server, ops)
		// The token's check may run before the operation, under the server
		// span; whatever the resolvers run is under the operation.
		var underOp tracetest.SpanStubs
		for _, q := range sql {
			if q.Parent.SpanID() == op.SpanContext.SpanID() {
				underOp = append(underOp, q)
			} else {
				wantChildren(t, server, tracetest.SpanStubs{q})
			}
		}
		if n := s.store.Statements() - before; int64(len(sql)) != n || len(underOp) < 1 {
			t.Errorf("%d SQL spans (%d under the operation) for %d statements, want one per statement", len(sql), len(underOp), n)
		}
		if want := 2 + len(sql); len(spans) != want {
			t.Errorf("%d spans, want %d (server, operation, one per statement): %v", len(spans), want, spanNames(spans))
		}
		if got := s.accessLogTraceID(t, "POST", "/graphql"); got != parentTraceID {
			t.Errorf("access log trace_id = %v, want %s", got, parentTraceID)
		}
	})

	t.Run("NewTrace", func(t *testing.T) {
		exp.Reset()
		s.do(t, "POST", "/graphql", "", `{"query":"{ tags }"}`).want(t, http.StatusOK, `{"data":{"tags":[]}}`)
		server, ops, sql := byKind(t, serverSpans(t, exp, 1))
		if server.Parent.IsValid() {
			t.Errorf("server span has parent %v, want a new trace", server.Parent)
		}
		if len(ops) != 1 || ops[0].Name != "query" || attr(ops[0], "graphql.operation.name") != "" {
			t.Fatalf("operation spans %v, want one anonymous query", spanNames(ops))
		}
		wantChildren(t, server, ops)
		if len(sql) != 1 {
			t.Fatalf("SQL spans %v, want one", spanNames(sql))
		}
		wantChildren(t, ops[0], sql)
		if got := s.accessLogTraceID(t, "POST", "/graphql"); got != server.SpanContext.TraceID().String() {
			t.Errorf("access log trace_id = %v, want the new trace's %s", got, server.SpanContext.TraceID())
		}
	})

	t.Run("Refused", func(t *testing.T) {
		exp.Reset()
		before := s.store.Statements()
		r := s.do(t, "POST", "/graphql", "", `{"query":"query Nope { nosuch }"}`)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "GRAPHQL_VALIDATION_FAILED") {
			t.Fatalf("invalid document: %d %s", r.status, r.body)
		}
		server, ops, sql := byKind(t, serverSpans(t, exp, 1))
		if len(ops) != 1 || ops[0].Name != "GraphQL Operation" || ops[0].Status.Code != codes.Error || len(ops[0].Attributes) != 0 {
			t.Fatalf("operation spans %v (%+v), want one failed GraphQL Operation without attributes", spanNames(ops), ops)
		}
		wantChildren(t, server, ops)
		if len(sql) != 0 || s.store.Statements() != before {
			t.Errorf("SQL spans %v for a refused document", spanNames(sql))
		}

		exp.Reset()
		s.do(t, "POST", "/graphql", "", `{"query":"query Feed { feed(first: 1) { totalCount } }"}`).want(t, http.StatusOK, "")
		_, ops, _ = byKind(t, serverSpans(t, exp, 1))
		if len(ops) != 1 || ops[0].Name != "query Feed" || ops[0].Status.Code != codes.Error || ops[0].Status.Description == "" {
			t.Fatalf("operation spans %+v, want query Feed failed with the error's message", ops)
		}
	})

	t.Run("ServerError", func(t *testing.T) {
		exp.Reset()
		// A 4xx is the client's doing: the span does not fail.
		s.do(t, "GET", "/api/articles/no-such-article", "", "").want(t, http.StatusNotFound, "")
		server, _, _ := byKind(t, serverSpans(t, exp, 1))
		wantAttrs(t, server, map[string]string{"http.response.status_code": "404"})
		if server.Status.Code != codes.Unset {
			t.Errorf("404: span status %v, want unset", server.Status)
		}
	})
}

// TestTracingOff checks that a site without a tracer provider makes no
// span, even with a recording provider installed as OpenTelemetry's
// global, and logs no trace id.
func TestTracingOff(t *testing.T) {
	// Not parallel: it replaces the global provider for its duration.
	exp := tracetest.NewInMemoryExporter()
	global := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(global)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = global.Shutdown(context.Background()) })

	s := newSite(t, app.Config{}, conduit.Config{})
	token := s.register(t, "untraced")
	slug := s.article(t, token, "Untraced")
	s.do(t, "GET", "/api/articles/"+slug, "", "", "traceparent", traceparent).want(t, http.StatusOK, "")
	s.do(t, "POST", "/graphql", token, `{"query":"query Tags { tags }"}`, "traceparent", traceparent).want(t, http.StatusOK, "")
	time.Sleep(50 * time.Millisecond) // what a span would take to end after the answer
	if spans := exp.GetSpans(); len(spans) != 0 {
		t.Errorf("spans with tracing off: %v", spanNames(spans))
	}
	lines := s.logs.lines(map[string]any{"msg": "request"})
	if len(lines) != 4 {
		t.Fatalf("%d access log lines, want 4", len(lines))
	}
	for _, l := range lines {
		if id, ok := l["trace_id"]; ok {
			t.Errorf("access log line of %v has trace_id %v with tracing off", l["route"], id)
		}
	}
}

// scrape returns the operator's /metrics.
func (s *site) scrape(t *testing.T) string {
	t.Helper()
	res, err := http.Get(s.operator + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", res.StatusCode, err)
	}
	return string(b)
}

// metric returns the value of the sample named exactly series (name and
// labels, as /metrics writes them), and whether there is one.
func metric(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

func wantMetric(t *testing.T, body, series string, want float64) {
	t.Helper()
	got, ok := metric(body, series)
	if !ok {
		t.Errorf("/metrics lacks %s", series)
	} else if got != want {
		t.Errorf("%s = %v, want %v", series, got, want)
	}
}

func TestPoolMetrics(t *testing.T) {
	t.Parallel()
	s := newSite(t, app.Config{}, conduit.Config{})
	// Articles, not tags: the service keeps the tag list between requests.
	s.do(t, "GET", "/api/articles", "", "").want(t, http.StatusOK, "")
	before := s.scrape(t)
	acquires, ok := metric(before, "conduit_db_pool_acquires_total")
	if !ok || acquires < 1 {
		t.Fatalf("conduit_db_pool_acquires_total = %v (%v), want at least the one of the request", acquires, ok)
	}
	s.do(t, "GET", "/api/articles", "", "").want(t, http.StatusOK, "")
	after := s.scrape(t)
	// One statement outside a transaction: one connection taken and given back.
	wantMetric(t, after, "conduit_db_pool_acquires_total", acquires+1)
	wantMetric(t, after, "conduit_db_pool_acquired_connections", 0)
	wantMetric(t, after, "conduit_db_pool_max_connections", 10) // dbtest's pool
	wantMetric(t, after, "conduit_db_pool_canceled_acquires_total", 0)
	wantMetric(t, after, `conduit_db_pool_destroyed_connections_total{reason="max_lifetime"}`, 0)
	wantMetric(t, after, `conduit_db_pool_destroyed_connections_total{reason="max_idle_time"}`, 0)
	idle, _ := metric(after, "conduit_db_pool_idle_connections")
	total, _ := metric(after, "conduit_db_pool_total_connections")
	opened, _ := metric(after, "conduit_db_pool_new_connections_total")
	if idle < 1 || total != idle || opened != total {
		t.Errorf("idle %v, total %v, opened %v; want every opened connection idle at rest", idle, total, opened)
	}
	for _, name := range []string{"conduit_db_pool_acquire_duration_seconds_total", "conduit_db_pool_empty_acquires_total",
		"conduit_db_pool_empty_acquire_wait_seconds_total", "conduit_db_pool_constructing_connections"} {
		if _, ok := metric(after, name); !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func TestGraphQLMetrics(t *testing.T) {
	t.Parallel()
	s := newSite(t, app.Config{}, conduit.Config{})
	gql := func(query string) {
		t.Helper()
		s.do(t, "POST", "/graphql", "", `{"query":`+strconv.Quote(query)+`}`).want(t, http.StatusOK, "")
	}
	gql("query Tags { tags }")
	gql("query Tags { tags }")
	gql("{ tags }")
	gql("query Feed { feed(first: 1) { totalCount } }") // anonymous: UNAUTHENTICATED
	gql("query Nope { nosuch }")                        // does not validate
	gql(`query Other { tags }`)                         // with an operationName it lacks, below
	s.do(t, "POST", "/graphql", "", `{"query":"query Other { tags }","operationName":"Missing"}`).want(t, http.StatusOK, "")
	// Not a GraphQL request at all: no operation, not counted.
	s.do(t, "POST", "/graphql", "", `{"query":""}`).want(t, http.StatusBadRequest, "")

	const count = "conduit_graphql_operation_duration_seconds_count"
	body := s.scrape(t)
	wantMetric(t, body, count+`{operation="Tags",outcome="ok",type="query"}`, 2)
	wantMetric(t, body, count+`{operation="(anonymous)",outcome="ok",type="query"}`, 1)
	wantMetric(t, body, count+`{operation="Feed",outcome="error",type="query"}`, 1)
	wantMetric(t, body, count+`{operation="(invalid)",outcome="error",type="(unknown)"}`, 2)
	for _, name := range []string{"Nope", "Missing"} {
		if strings.Contains(body, `operation="`+name+`"`) {
			t.Errorf("%s, the name of no operation that validated, is a label value", name)
		}
	}

	t.Run("NamesBounded", func(t *testing.T) {
		// Tags, Feed and Other hold three of the 100 places: of 100 more
		// names, the last three are counted as (other).
		for i := range 100 {
			gql(fmt.Sprintf("query N%d { tags }", i))
		}
		body := s.scrape(t)
		wantMetric(t, body, count+`{operation="N96",outcome="ok",type="query"}`, 1)
		wantMetric(t, body, count+`{operation="(other)",outcome="ok",type="query"}`, 3)
		names := map[string]bool{}
		for _, m := range regexp.MustCompile(count+`\{operation="([^"]*)"`).FindAllStringSubmatch(body, -1) {
			names[m[1]] = true
		}
		if len(names) != 100+3 || names["N97"] || names["N99"] {
			keys := make([]string, 0, len(names))
			for k := range names {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			t.Errorf("operation label values %v: want 100 names, (anonymous), (invalid) and (other)", keys)
		}
	})
}

func TestHTTPMetricsMethodsBounded(t *testing.T) {
	t.Parallel()
	s := newSite(t, app.Config{}, conduit.Config{})
	s.do(t, "GET", "/api/tags", "", "").want(t, http.StatusOK, "")
	// Any token is a method to net/http: a label of each would let clients
	// grow the series without bound.
	for i := range 5 {
		r := s.do(t, fmt.Sprintf("BREW%d", i), "/api/tags", "", "")
		if r.status != http.StatusMethodNotAllowed {
			t.Fatalf("BREW%d /api/tags = %d, want 405", i, r.status)
		}
	}
	body := s.scrape(t)
	const count = "conduit_http_request_duration_seconds_count"
	wantMetric(t, body, count+`{method="GET",route="/api/tags",status="200"}`, 1)
	wantMetric(t, body, count+`{method="_OTHER",route="unmatched",status="405"}`, 5)
	if strings.Contains(body, `method="BREW`) {
		t.Errorf("a method HTTP does not define is a label value:\n%s", body)
	}
}
