package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// gcHeadroom is how far a serving process's heap may grow past what is
// live before the collector runs again, unless the operator sets GOGC: at
// least this, or what is live when that is more (Go's default, GOGC 100).
// The server's live heap is small, about 10 MiB, so at GOGC 100 it
// collected many times a second under load: marking, assists and
// regrowing the stacks each collection shrinks were about a sixth of its
// CPU. A fixed larger GOGC would multiply a large heap too (a replica
// holding thousands of subscriptions); a fixed headroom does not. The
// headroom is also what a replica's RSS grows by, whatever it serves: 32
// MiB took the bench's server from 45 to 67-81 MiB; 16 MiB is GOGC 300 to
// 400 at the bench's live heap, where GOGC 300 measured 1.02 to 1.25 times
// the requests a second of GOGC 100 for a peak RSS of 55-63 MiB
// (BENCHMARKS.md, "GOGC").
const gcHeadroom = 16 << 20

// maxGCPercent bounds the GOGC that gcHeadroom asks of a tiny heap.
const maxGCPercent = 400

// gcTuneInterval is how often the GOGC is set again from what is live.
const gcTuneInterval = time.Second

// memoryLimitRatio is the share of the container's memory limit that the
// collector keeps the process under (GOMEMLIMIT), collecting more often as
// the heap nears it.
const memoryLimitRatio = 0.9

// gcPercentFor returns the GOGC that lets a heap of live bytes grow by
// gcHeadroom, or by live when that is more, at most maxGCPercent.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	return int(min(max(gcHeadroom*100/live, 100), maxGCPercent))
}

// tuneGC sets the collector of a serving process until ctx ends: GOGC from
// the live heap (gcPercentFor, every gcTuneInterval) unless GOGC is set,
// and a soft memory limit of memoryLimitRatio of what limit reports (the
// cgroup's memory.max in production) unless GOMEMLIMIT is set or
// AUTOMEMLIMIT is "off". With no limit to follow, none is set.
func tuneGC(ctx context.Context, getenv func(string) string, limit memlimit.Provider, logger *slog.Logger) {
	// memlimit reads GOMEMLIMIT and AUTOMEMLIMIT itself, and logs what it
	// set; an error (a limit it cannot read) leaves the collector as it was.
	_, _ = memlimit.Set(
		memlimit.WithProvider(limit),
		memlimit.WithRatio(memoryLimitRatio),
		memlimit.WithLogger(logger),
	)
	if getenv("GOGC") != "" {
		return
	}
	percent := setGCPercent(0)
	go func() {
		t := time.NewTicker(gcTuneInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				percent = setGCPercent(percent)
			}
		}
	}()
}

// setGCPercent sets GOGC from the live heap, if that differs from last,
// and returns it.
func setGCPercent(last int) int {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	p := gcPercentFor(s[0].Value.Uint64())
	if p != last {
		debug.SetGCPercent(p)
	}
	return p
}
