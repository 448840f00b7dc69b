package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// tracingShutdownTimeout bounds how long stopping waits for the last spans
// to be exported: a collector that is gone must not hold up a restart.
const tracingShutdownTimeout = 5 * time.Second

// newTracerProvider returns the tracer provider of a server that traces:
// spans batched and exported over OTLP with protocol (http/protobuf or
// grpc). Everything else, the endpoint, headers, timeouts, sampler, batch
// sizes and resource attributes, the SDK reads from the standard OTEL_*
// variables of the process's environment. The returned func flushes the
// spans still queued and stops exporting.
//
// It also routes the SDK's errors (a failed export, mostly) to logger.
// That handler is the one global this sets: the SDK reports export errors
// nowhere else. No global tracer provider or propagator is set; every
// package gets the provider it uses passed in.
func newTracerProvider(ctx context.Context, protocol string, logger *slog.Logger) (trace.TracerProvider, func(), error) {
	var exporter *otlptrace.Exporter
	var err error
	if protocol == protocolGRPC {
		exporter, err = otlptracegrpc.New(ctx)
	} else {
		exporter, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithAttributes(semconv.ServiceName("conduit")),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, which win
	)
	if err != nil {
		_ = exporter.Shutdown(ctx)
		return nil, nil, fmt.Errorf("tracing: OTEL_RESOURCE_ATTRIBUTES or OTEL_SERVICE_NAME: %w", err)
	}
	otel.SetErrorHandler(&otelErrors{logger: logger})
	// The sampler comes from OTEL_TRACES_SAMPLER and _ARG, the batching
	// from OTEL_BSP_*: NewTracerProvider reads them.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), tracingShutdownTimeout)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			logger.Warn("tracing: spans lost at shutdown", slog.Any("error", err))
		}
	}
	return tp, shutdown, nil
}

// otelErrorInterval is how often the SDK's errors are logged at most: with
// the collector down, every batch fails, many times a second under load.
const otelErrorInterval = time.Minute

// otelErrors logs the OpenTelemetry SDK's errors, one line a minute at
// most, with how many were left out.
type otelErrors struct {
	logger  *slog.Logger
	mu      sync.Mutex
	last    time.Time
	skipped int
}

func (h *otelErrors) Handle(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.last.IsZero() && time.Since(h.last) < otelErrorInterval {
		h.skipped++
		return
	}
	attrs := []any{slog.Any("error", err)}
	if h.skipped > 0 {
		attrs = append(attrs, slog.Int("more_errors", h.skipped))
	}
	h.logger.Warn("tracing: OpenTelemetry error (spans may be lost)", attrs...)
	h.last, h.skipped = time.Now(), 0
}

var _ otel.ErrorHandler = (*otelErrors)(nil)
