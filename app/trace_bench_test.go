package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
)

// BenchmarkTracing serves GET /api/articles/{slug}, the cheapest read,
// through the whole handler, with tracing off and on at several sampling
// rates, the spans exported over OTLP/HTTP to a collector that discards
// them: what tracing adds to a request's CPU and allocations.
func BenchmarkTracing(b *testing.B) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer sink.Close()
	for _, c := range []struct {
		name    string
		sampler sdktrace.Sampler // nil: tracing off
	}{
		{"off", nil},
		{"sampled=0%", sdktrace.NeverSample()},
		{"sampled=10%", sdktrace.TraceIDRatioBased(0.1)},
		{"sampled=100%", sdktrace.AlwaysSample()},
	} {
		b.Run(c.name, func(b *testing.B) {
			var cfg app.Config
			if c.sampler != nil {
				exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(sink.URL+"/v1/traces"))
				if err != nil {
					b.Fatal(err)
				}
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithSampler(c.sampler))
				defer tp.Shutdown(context.Background())
				cfg.TracerProvider = tp
			}
			s := newSite(b, cfg, conduit.Config{})
			slug := s.article(b, s.register(b, "bench"), "Bench")
			h := app.New(cfg, s.svc, s.store).Public
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, httptest.NewRequest("GET", "/api/articles/"+slug, nil))
					if w.Code != http.StatusOK {
						b.Errorf("status %d", w.Code)
						return
					}
				}
			})
		})
	}
}
