package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// newClient returns a client that keeps one connection per worker alive
// across requests, as a closed-loop load test needs.
func newClient(conns int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// loadStats is what one stretch of load measured.
type loadStats struct {
	requests int
	errors   int
	firstErr string
	elapsed  time.Duration
	lat      []time.Duration // sorted
}

// add merges o into s; s.lat stays sorted.
func (s *loadStats) add(o loadStats) {
	s.requests += o.requests
	s.errors += o.errors
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
	s.elapsed += o.elapsed
	s.lat = append(s.lat, o.lat...)
	slices.Sort(s.lat)
}

// workerStats is one worker's share of loadStats.
type workerStats struct {
	errors   int
	firstErr string
	lat      []time.Duration
}

// drive runs conns workers, each sending wl's requests one after the
// other, for d. Every request started before the deadline is waited for
// and counted, so that nothing is in flight when drive returns.
func drive(ctx context.Context, client *http.Client, wl workload, conns int, d time.Duration) loadStats {
	start := time.Now()
	deadline := start.Add(d)
	per := make([]workerStats, conns)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() { per[w] = work(ctx, client, wl, w, deadline) })
	}
	wg.Wait()
	s := loadStats{elapsed: time.Since(start)}
	for _, p := range per {
		s.requests += len(p.lat)
		s.errors += p.errors
		if s.firstErr == "" {
			s.firstErr = p.firstErr
		}
		s.lat = append(s.lat, p.lat...)
	}
	slices.Sort(s.lat)
	return s
}

// work is one closed-loop worker: request, read the whole answer, repeat.
func work(ctx context.Context, client *http.Client, wl workload, w int, deadline time.Time) workerStats {
	s := workerStats{lat: make([]time.Duration, 0, 4096)}
	var body bytes.Buffer
	fail := func(msg string) {
		s.errors++
		if s.firstErr == "" {
			s.firstErr = msg
		}
	}
	for j := 0; ctx.Err() == nil && time.Now().Before(deadline); j++ {
		c := wl.next(w, j)
		req, err := c.request(ctx)
		if err != nil {
			fail(err.Error())
			return s
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			s.lat = append(s.lat, time.Since(t0))
			fail(err.Error())
			time.Sleep(10 * time.Millisecond) // a refused connection fails fast; do not spin
			continue
		}
		body.Reset()
		_, err = body.ReadFrom(resp.Body)
		resp.Body.Close()
		s.lat = append(s.lat, time.Since(t0))
		if err != nil || !wl.ok(resp.StatusCode, body.Bytes()) {
			fail(fmt.Sprintf("%s %s: %d %.200s", c.method, c.url, resp.StatusCode, body.Bytes()))
		}
	}
	return s
}

// percentile returns the q-quantile (0 < q <= 1) of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}
