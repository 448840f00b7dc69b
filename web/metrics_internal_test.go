package web

import (
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

func TestObservers(t *testing.T) {
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "h", Help: "h"}, []string{"a", "b", "c"})
	o := NewObservers(vec)
	o.Of("GET", "/x", "200").Observe(1)
	o.Of("GET", "/x", "200").Observe(2)
	o.Of("GET", "/x", "404").Observe(3)
	if got := testutil.CollectAndCount(vec); got != 2 {
		t.Errorf("%d series, want 2", got)
	}
	// The cached histogram is the vector's own.
	vec.WithLabelValues("GET", "/x", "200").Observe(4)
	if got := histogramCount(t, vec, "GET", "/x", "200"); got != 3 {
		t.Errorf("GET /x 200 counted %d observations, want 3", got)
	}

	// Past the bound, label sets are still observed, only not kept.
	for i := range maxObservers + 10 {
		o.Of("POST", strconv.Itoa(i), "201").Observe(1)
	}
	if n := o.n.Load(); n != maxObservers {
		t.Errorf("%d observers kept, want the bound, %d", n, maxObservers)
	}
	if got := histogramCount(t, vec, "POST", strconv.Itoa(maxObservers+5), "201"); got != 1 {
		t.Errorf("a label set past the bound counted %d observations, want 1", got)
	}
}

func histogramCount(t *testing.T, vec *prometheus.HistogramVec, labels ...string) uint64 {
	t.Helper()
	h, err := vec.GetMetricWithLabelValues(labels...)
	if err != nil {
		t.Fatal(err)
	}
	var m dto.Metric
	if err := h.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

func TestStatusLabel(t *testing.T) {
	for code, want := range map[int]string{100: "100", 200: "200", 499: "499", 599: "599", 600: "600", 99: "99"} {
		if got := statusLabel(code); got != want {
			t.Errorf("statusLabel(%d) = %q, want %q", code, got, want)
		}
	}
}
