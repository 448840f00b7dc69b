package main

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestOTLPSink exports spans to the sink with the exporter Conduit uses
// and checks that the sink accepts them and counts every one.
func TestOTLPSink(t *testing.T) {
	sink, err := startOTLPSink()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.close()
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(sink.url+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(7)))
	// Two instrumentation scopes, so that a request holds several scope_spans.
	for i := range 25 {
		name := "a"
		if i%3 == 0 {
			name = "b"
		}
		_, span := tp.Tracer(name).Start(ctx, "span")
		span.End()
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("export to the sink: %v", err)
	}
	if got := sink.spans.Load(); got != 25 {
		t.Errorf("sink counted %d spans, want 25", got)
	}
	if got := sink.exports.Load(); got != 4 || sink.bad.Load() != 0 {
		t.Errorf("%d exports (%d malformed), want 4 batches of at most 7, none malformed", got, sink.bad.Load())
	}
}
