package web

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics records every request in Prometheus: a count and a latency
// histogram by method, route pattern and status. Route patterns, not raw
// paths, and the methods HTTP defines, not any token a client sends, keep
// the label set bounded whatever clients ask for.
func Metrics(reg prometheus.Registerer) func(http.Handler) http.Handler {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "conduit_http_request_duration_seconds",
		Help:    "Time to serve a request, by method, route pattern and status.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route", "status"})
	reg.MustRegister(duration)
	obs := NewObservers(duration)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw, ok := w.(*statusWriter)
			if !ok {
				sw = &statusWriter{ResponseWriter: w}
			}
			next.ServeHTTP(sw, r)
			route := sw.route(r)
			if route == "" {
				route = "unmatched"
			}
			obs.Of(metricMethod(r.Method), route, statusLabel(sw.recorded(r))).Observe(time.Since(start).Seconds())
		})
	}
}

// metricMethod is the method as a label value: _OTHER for a method HTTP
// does not define, as OpenTelemetry's conventions name it.
func metricMethod(m string) string {
	if _, known := requestMethod(m); !known {
		return "_OTHER"
	}
	return m
}

// maxObservers bounds the histograms an Observers keeps at hand; the
// label values are bounded already, this is in case they are not.
const maxObservers = 1024

// Observers keeps the histogram of each set of three label values once
// looked up: WithLabelValues validates and hashes the values and takes a
// lock on every call, about a microsecond of each request on the
// benchmark's machine.
type Observers struct {
	vec *prometheus.HistogramVec
	m   sync.Map // [3]string → prometheus.Observer
	n   atomic.Int32
}

// NewObservers returns the Observers of vec, which has three labels.
func NewObservers(vec *prometheus.HistogramVec) *Observers { return &Observers{vec: vec} }

// Of returns the histogram of the label values a, b and c.
func (o *Observers) Of(a, b, c string) prometheus.Observer {
	k := [3]string{a, b, c}
	if h, ok := o.m.Load(k); ok {
		return h.(prometheus.Observer)
	}
	h := o.vec.WithLabelValues(a, b, c)
	if o.n.Load() < maxObservers {
		if _, loaded := o.m.LoadOrStore(k, h); !loaded {
			o.n.Add(1)
		}
	}
	return h
}

// statusLabels are the label values of the statuses 100 to 599, so that
// labelling a request allocates nothing.
var statusLabels = func() (s [500]string) {
	for i := range s {
		s[i] = strconv.Itoa(100 + i)
	}
	return s
}()

func statusLabel(code int) string {
	if code >= 100 && code < 600 {
		return statusLabels[code-100]
	}
	return strconv.Itoa(code)
}
