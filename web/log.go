package web

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/conduit-dev/conduit/conduit"
)

// statusWriter remembers the status and size of a response, and the
// route pattern the request matched once one of the middleware sharing it
// has asked (route).
type statusWriter struct {
	http.ResponseWriter
	status  int
	bytes   int64
	pattern string
	routed  bool
}

// route returns the pattern of the route r matched, or "" if it matched
// none, once the handler has returned: chi joins it from the patterns of
// each router on every call, which Trace, AccessLog and Metrics would
// otherwise all pay for.
func (w *statusWriter) route(r *http.Request) string {
	if !w.routed {
		if rc := chi.RouteContext(r.Context()); rc != nil {
			w.pattern = rc.RoutePattern()
		}
		w.routed = true
	}
	return w.pattern
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// StatusClientClosedRequest is the status logs and metrics record for a
// request whose client went away before the answer was written (nginx's
// 499): whatever the handler then wrote reached no one, and it is not a
// failure of the server.
const StatusClientClosedRequest = 499

// recorded is the status to log and count for the request: what was
// written (200 if nothing was), or 499 if the client had gone first.
func (w *statusWriter) recorded(r *http.Request) int {
	if w.status == http.StatusSwitchingProtocols {
		return w.status
	}
	if r.Context().Err() != nil {
		return StatusClientClosedRequest
	}
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach Flush and deadlines of the
// underlying writer (subscriptions stream through it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection over, as a WebSocket upgrade does; the
// request is recorded as 101.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// Flush passes flushes through, for streamed responses.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// AccessLog writes one structured line per request: request id, method,
// route pattern, status, size and duration, and the trace id when the
// request is traced (Trace runs outside it), so that a log line leads to
// its trace. It must run inside RequestID.
func AccessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw, ok := w.(*statusWriter)
			if !ok {
				sw = &statusWriter{ResponseWriter: w}
			}
			next.ServeHTTP(sw, r)
			status := sw.recorded(r)
			level := slog.LevelInfo
			switch {
			case status == StatusClientClosedRequest:
				level = slog.LevelDebug // the client's doing: nothing to look into
			case status >= 500 && status != http.StatusServiceUnavailable:
				// 503s are load shed or a database outage, which the store
				// logs once, not once per request.
				level = slog.LevelError
			}
			if !logger.Enabled(r.Context(), level) {
				return // LOG_LEVEL above it: nothing to put together
			}
			route := sw.route(r)
			if route == "" {
				route = r.URL.Path
			}
			attrs := append(make([]slog.Attr, 0, 7),
				slog.String("request_id", RequestIDFromContext(r.Context())),
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)),
			)
			if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
				attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
			}
			logger.LogAttrs(r.Context(), level, "request", attrs...)
		})
	}
}

// Recover turns a panic in a handler into a logged stack trace and a 500
// written by fail, so that one bad request does not take the server down.
func Recover(logger *slog.Logger, fail Fail) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic",
					slog.String("request_id", RequestIDFromContext(r.Context())),
					slog.Any("panic", v),
					slog.String("stack", string(debug.Stack())),
				)
				fail(w, r, conduit.InternalError(fmt.Errorf("panic: %v", v)))
			}()
			next.ServeHTTP(w, r)
		})
	}
}
