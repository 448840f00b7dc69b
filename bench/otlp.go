package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// otlpSink is the collector that the traced Conduit exports its spans to:
// an OTLP/HTTP endpoint in the harness that accepts every export and keeps
// nothing but counts, so that Conduit pays what exporting costs (encoding,
// the HTTP round trip) and the harness little more than reading the bytes.
type otlpSink struct {
	srv     *http.Server
	url     string
	exports atomic.Int64
	spans   atomic.Int64
	bytes   atomic.Int64
	bad     atomic.Int64 // bodies that were not ExportTraceServiceRequests
	bufs    sync.Pool
}

func startOTLPSink() (*otlpSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("OTLP sink: %w", err)
	}
	s := &otlpSink{url: "http://" + ln.Addr().String()}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *otlpSink) close() { _ = s.srv.Close() }

// ServeHTTP answers POST /v1/traces as a collector that accepts all does:
// 200 with an empty ExportTraceServiceResponse.
func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
		http.NotFound(w, r)
		return
	}
	buf := s.bufs.Get().(*bytes.Buffer)
	defer s.bufs.Put(buf)
	buf.Reset()
	if _, err := io.Copy(buf, r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n, err := countSpans(buf.Bytes())
	if err != nil {
		s.bad.Add(1)
	}
	s.exports.Add(1)
	s.spans.Add(int64(n))
	s.bytes.Add(int64(buf.Len()))
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// countSpans counts the spans of an ExportTraceServiceRequest by walking
// its wire format (resource_spans = 1, their scope_spans = 2, their spans
// = 2) without decoding them: the sink must stay cheap.
func countSpans(b []byte) (int, error) {
	n := 0
	err := eachField(b, 1, func(rs []byte) error {
		return eachField(rs, 2, func(ss []byte) error {
			return eachField(ss, 2, func([]byte) error { n++; return nil })
		})
	})
	return n, err
}

// eachField calls fn with the bytes of every length-delimited field num of
// the message b, skipping the other fields.
func eachField(b []byte, num protowire.Number, fn func([]byte) error) error {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return errors.New("malformed OTLP tag")
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return errors.New("malformed OTLP field")
			}
			if err := fn(v); err != nil {
				return err
			}
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return errors.New("malformed OTLP field")
		}
		b = b[l:]
	}
	return nil
}

// exportCheck compares the spans the traced Conduit made with those that
// reached the sink: a tracer that drops spans under load (the SDK's queue
// is bounded) would look cheaper than it is.
type exportCheck struct {
	Requests   int64 `json:"requests"`          // served by the traced Conduit, health checks included
	Operations int64 `json:"graphqlOperations"` // GraphQL operations among them
	Statements int64 `json:"statements"`        // SQL statements they ran
	// Expected is one span per request, operation and statement.
	Expected int64   `json:"spansExpected"`
	Received int64   `json:"spansReceived"`
	Exports  int64   `json:"exports"`
	MiB      float64 `json:"exportedMiB"`
	Bad      int64   `json:"malformedExports"`
}

// checkExport reads what the traced Conduit served from its /metrics,
// stops it, which flushes the spans it still holds, and counts what the
// sink received.
func (s *systems) checkExport(ctx context.Context, log *progress) (*exportCheck, error) {
	srv := s.traced
	var c exportCheck
	var err error
	if c.Requests, _, err = srv.metricSum(ctx, "conduit_http_request_duration_seconds_count"); err != nil {
		return nil, err
	}
	if c.Operations, _, err = srv.metricSum(ctx, "conduit_graphql_operation_duration_seconds_count"); err != nil {
		return nil, err
	}
	statements, err := srv.statements(ctx)
	if err != nil {
		return nil, err
	}
	c.Statements = statements - s.tracedStatements
	if err := srv.stop(); err != nil {
		return nil, fmt.Errorf("stop %s: %w", srv.name, err)
	}
	c.Expected = c.Requests + c.Operations + c.Statements
	c.Received, c.Exports, c.Bad = s.sink.spans.Load(), s.sink.exports.Load(), s.sink.bad.Load()
	c.MiB = float64(s.sink.bytes.Load()) / (1 << 20)
	log.step("traced Conduit: %d requests, %d GraphQL operations, %d statements: %d spans made, %d received by the sink in %d exports (%.1f MiB)",
		c.Requests, c.Operations, c.Statements, c.Expected, c.Received, c.Exports, c.MiB)
	if c.Received == 0 || c.Bad > 0 {
		return &c, fmt.Errorf("the traced Conduit's export failed: %d spans received, %d malformed exports; see %s", c.Received, c.Bad, srv.logPath)
	}
	return &c, nil
}
