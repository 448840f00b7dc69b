package main

import (
	"log/slog"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// gcPercent is the collector's GOGC for a serving process unless the
// operator sets GOGC: the heap grows to four times what is live before a
// collection, not twice. The server's live heap is small (tens of MiB), so
// at Go's default of 100 it collected many times a second under load, and
// marking, assists and regrowing the stacks that each collection shrinks
// were about a sixth of its CPU: `make bench` with 300 against 100, same
// build, same rounds, gave 1.02 to 1.25 times the requests a second
// (BENCHMARKS.md, "GOGC"), for a peak RSS of about 60 MiB instead of 45.
const gcPercent = 300

// memoryLimitRatio is the share of the container's memory limit that the
// collector keeps the process under (GOMEMLIMIT), collecting more often as
// the heap nears it: the larger GOGC must not take a replica past its
// limit.
const memoryLimitRatio = 0.9

// tuneGC sets the collector of a serving process: GOGC to gcPercent unless
// GOGC is set, and a soft memory limit of memoryLimitRatio of what limit
// reports (the cgroup's memory.max in production) unless GOMEMLIMIT is set
// or AUTOMEMLIMIT is "off". With no limit to follow, none is set.
func tuneGC(getenv func(string) string, limit memlimit.Provider, logger *slog.Logger) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	// memlimit reads GOMEMLIMIT and AUTOMEMLIMIT itself, and logs what it
	// set; an error (a limit it cannot read) leaves the collector as it was.
	_, _ = memlimit.Set(
		memlimit.WithProvider(limit),
		memlimit.WithRatio(memoryLimitRatio),
		memlimit.WithLogger(logger),
	)
}
