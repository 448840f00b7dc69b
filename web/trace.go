package web

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of the spans package web makes.
const TracerName = "github.com/conduit-dev/conduit/web"

// Trace makes one server span per request with tp, named by the method and
// the route pattern (GET /api/articles/{slug}), continuing the trace of an
// incoming W3C traceparent header. It must run inside a chi router, whose
// route pattern is known once the request has been routed, and outside
// AccessLog, which logs the span's trace id.
//
// It is a small middleware of our own rather than otelhttp's handler:
// otelhttp names spans from net/http's pattern, which chi does not set, so
// the name would have to be patched after routing anyway; and it wraps the
// body and the writer and records metrics of its own, while the chain
// already has a statusWriter that knows the status (499 for an abandoned
// request included) and Prometheus metrics.
func Trace(tp trace.TracerProvider) func(http.Handler) http.Handler {
	tracer := tp.Tracer(TracerName)
	propagator := propagation.TraceContext{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			method, known := requestMethod(r.Method)
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			// url.query is left out: a GraphQL GET carries its document
			// there, and documents may hold what should not be exported.
			attrs := []attribute.KeyValue{method, semconv.URLPath(r.URL.Path), semconv.URLScheme(scheme)}
			if !known {
				attrs = append(attrs, semconv.HTTPRequestMethodOriginal(r.Method))
			}
			if ua := r.UserAgent(); ua != "" {
				attrs = append(attrs, semconv.UserAgentOriginal(ua))
			}
			ctx, span := tracer.Start(ctx, spanMethod(r.Method, known),
				trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
			defer span.End()

			sw, ok := w.(*statusWriter)
			if !ok {
				sw = &statusWriter{ResponseWriter: w}
			}
			r = r.WithContext(ctx)
			next.ServeHTTP(sw, r)
			if !span.IsRecording() {
				return
			}
			if route := sw.route(r); route != "" {
				span.SetName(spanMethod(r.Method, known) + " " + route)
				span.SetAttributes(semconv.HTTPRoute(route))
			}
			status := sw.recorded(r)
			span.SetAttributes(semconv.HTTPResponseStatusCode(status), semconv.HTTPResponseBodySize(int(sw.bytes)))
			// A server span fails on 5xx only: 4xx is the client's mistake.
			if status >= 500 {
				span.SetStatus(codes.Error, "")
			}
		})
	}
}

// requestMethod is the http.request.method attribute: the method when it
// is one HTTP defines, _OTHER otherwise, so that a client cannot mint
// values without bound.
func requestMethod(m string) (attribute.KeyValue, bool) {
	switch m {
	case http.MethodGet:
		return semconv.HTTPRequestMethodGet, true
	case http.MethodHead:
		return semconv.HTTPRequestMethodHead, true
	case http.MethodPost:
		return semconv.HTTPRequestMethodPost, true
	case http.MethodPut:
		return semconv.HTTPRequestMethodPut, true
	case http.MethodPatch:
		return semconv.HTTPRequestMethodPatch, true
	case http.MethodDelete:
		return semconv.HTTPRequestMethodDelete, true
	case http.MethodOptions:
		return semconv.HTTPRequestMethodOptions, true
	case http.MethodConnect:
		return semconv.HTTPRequestMethodConnect, true
	case http.MethodTrace:
		return semconv.HTTPRequestMethodTrace, true
	}
	return semconv.HTTPRequestMethodOther, false
}

// spanMethod is the method as a span name starts with it: HTTP for a
// method HTTP does not define, as the semantic conventions have it.
func spanMethod(m string, known bool) string {
	if !known {
		return "HTTP"
	}
	return m
}
