package main

import (
	"io"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// TestTuneGC: a serving process collects at GOGC 300 and keeps under 90%
// of its container's memory limit, unless the operator set GOGC or
// GOMEMLIMIT. (Not parallel: the collector's settings are the process's.)
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	const mib = 1 << 20
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}

	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("AUTOMEMLIMIT", "") // restored after the test
	os.Unsetenv("AUTOMEMLIMIT")
	tuneGC(env(nil), memlimit.Limit(1000*mib), quiet)
	if got := debug.SetGCPercent(100); got != 300 {
		t.Errorf("GOGC unset: the collector's percent is %d, want 300", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != 900*mib {
		t.Errorf("a limit of 1000 MiB: the soft memory limit is %d MiB, want 900", got/mib)
	}

	// What the operator set stays: the runtime read GOGC and GOMEMLIMIT
	// at start; here they are what the process runs with (100, no limit).
	t.Setenv("GOMEMLIMIT", "2GiB")
	tuneGC(env(map[string]string{"GOGC": "100"}), memlimit.Limit(1000*mib), quiet)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: the collector's percent is %d, want the operator's 100", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT set: the soft memory limit is %d, want it left alone", got)
	}

	// No limit to follow: none is set.
	t.Setenv("GOMEMLIMIT", "")
	tuneGC(env(nil), func() (uint64, error) { return 0, memlimit.ErrNoLimit }, quiet)
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("no container limit: the soft memory limit is %d, want none", got)
	}
}
