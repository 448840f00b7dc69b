package main

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	collector "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/conduit-dev/conduit/db/dbtest"
)

// otlpSink is an OTLP/HTTP collector that keeps the spans it is sent.
type otlpSink struct {
	mu    sync.Mutex
	names map[string][]string // span names by trace id (hex)
	attrs map[string]string   // resource attributes of the last export
}

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	var req collector.ExportTraceServiceRequest
	if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
		http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, kv := range rs.GetResource().GetAttributes() {
			s.attrs[kv.Key] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				id := hex.EncodeToString(sp.TraceId)
				s.names[id] = append(s.names[id], sp.Name)
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil) // an empty ExportTraceServiceResponse: all accepted
}

// TestRunExportsTraces runs the server with an OTLP endpoint set and
// checks that stopping it flushes the spans of its last request to the
// collector, under the trace the request's traceparent named.
func TestRunExportsTraces(t *testing.T) {
	sink := &otlpSink{names: map[string][]string{}, attrs: map[string]string{}}
	collectorSrv := httptest.NewServer(sink)
	defer collectorSrv.Close()
	vars := map[string]string{
		"ADDR": "127.0.0.1:0", "DATABASE_URL": dbtest.NewURL(t), "BCRYPT_COST": "4", "LOG_FORMAT": "json",
		"OTEL_EXPORTER_OTLP_ENDPOINT": collectorSrv.URL, "OTEL_SERVICE_NAME": "conduit-test",
		// Far longer than the test: only the shutdown can have sent them.
		"OTEL_BSP_SCHEDULE_DELAY": "600000",
	}
	// The SDK reads the process's environment, run its getenv: set both.
	for k, v := range vars {
		if strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, v)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"conduit"}, env(vars), &out) }()
	base := waitListening(t, &out, done)

	const traceID = "0af7651916cd43dd8448eb211c80319c"
	req, _ := http.NewRequest("GET", base+"/api/tags", nil)
	req.Header.Set("traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/tags = %d", res.StatusCode)
	}
	time.Sleep(100 * time.Millisecond) // for the span to end after the answer
	sink.mu.Lock()
	early := len(sink.names)
	sink.mu.Unlock()
	if early != 0 {
		t.Fatalf("spans exported before shutdown despite the batch delay: %v", sink.names)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	got := slices.Sorted(slices.Values(sink.names[traceID]))
	if want := []string{"GET /api/tags", "SELECT"}; !slices.Equal(got, want) {
		t.Fatalf("spans of the trace = %q, want %q (all: %v)", got, want, sink.names)
	}
	if sink.attrs["service.name"] != "conduit-test" {
		t.Errorf("service.name = %q, want OTEL_SERVICE_NAME's conduit-test", sink.attrs["service.name"])
	}
	line := findLogLine(t, out.String(), func(m map[string]any) bool { return m["msg"] == "request" && m["route"] == "/api/tags" })
	if line["trace_id"] != traceID {
		t.Errorf("access log trace_id = %v, want %s", line["trace_id"], traceID)
	}
}

// TestOTelErrorsRateLimited: with the collector down every batch fails;
// the log gets one line a minute, which counts the others.
func TestOTelErrorsRateLimited(t *testing.T) {
	var out syncBuffer
	h := &otelErrors{logger: slog.New(slog.NewJSONHandler(&out, nil))}
	for range 3 {
		h.Handle(errors.New("export failed"))
	}
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Fatalf("%d lines for 3 errors within a minute, want 1:\n%s", n, out.String())
	}
	h.last = h.last.Add(-otelErrorInterval)
	h.Handle(errors.New("export failed again"))
	line := findLogLine(t, out.String(), func(m map[string]any) bool { return m["error"] == "export failed again" })
	if line["more_errors"] != float64(2) || line["level"] != "WARN" {
		t.Errorf("second line = %v, want a warning counting the 2 errors left out", line)
	}
}
