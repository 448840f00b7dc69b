package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},         // before the first collection
		{2 * mib, 400},   // 16 MiB would be 800%: bounded
		{4 * mib, 400},   // grows by 16 MiB
		{5 * mib, 320},   // about the bench's server
		{16 * mib, 100},  // the headroom is what is live
		{200 * mib, 100}, // a large heap grows as Go's default lets it
		{1 << 40, 100},
	} {
		if got := gcPercentFor(tc.live); got != tc.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", tc.live/mib, got, tc.want)
		}
	}
}

// TestTuneGC: a serving process sets GOGC from its live heap and keeps
// under 90% of its container's memory limit, unless the operator set GOGC
// or GOMEMLIMIT. (Not parallel: the collector's settings are the
// process's.)
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	const mib = 1 << 20
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("AUTOMEMLIMIT", "") // restored after the test
	os.Unsetenv("AUTOMEMLIMIT")
	runtime.GC()
	tuneGC(ctx, env(nil), memlimit.Limit(1000*mib), quiet)
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if got, want := debug.SetGCPercent(100), gcPercentFor(s[0].Value.Uint64()); got != want {
		t.Errorf("GOGC unset: the collector's percent is %d, want %d from the live heap", got, want)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != 900*mib {
		t.Errorf("a limit of 1000 MiB: the soft memory limit is %d MiB, want 900", got/mib)
	}
	cancel()

	// What the operator set stays: the runtime read GOGC and GOMEMLIMIT
	// at start; here they are what the process runs with (100, no limit).
	debug.SetGCPercent(100)
	t.Setenv("GOMEMLIMIT", "2GiB")
	tuneGC(context.Background(), env(map[string]string{"GOGC": "100"}), memlimit.Limit(1000*mib), quiet)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: the collector's percent is %d, want the operator's 100", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT set: the soft memory limit is %d, want it left alone", got)
	}

	// No limit to follow: none is set.
	t.Setenv("GOMEMLIMIT", "")
	tuneGC(context.Background(), env(map[string]string{"GOGC": "100"}), func() (uint64, error) { return 0, memlimit.ErrNoLimit }, quiet)
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("no container limit: the soft memory limit is %d, want none", got)
	}
}

// TestGCSettings: what the runtime reads is checked at start, a typo
// refused instead of ignored.
func TestGCSettings(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		ok          bool
	}{
		{"GOGC", "200", true}, {"GOGC", "off", true}, {"GOGC", "2x", false}, {"GOGC", "-5", false},
		{"AUTOMEMLIMIT", "0.8", true}, {"AUTOMEMLIMIT", "off", true}, {"AUTOMEMLIMIT", "1.5", false}, {"AUTOMEMLIMIT", "0", false},
	} {
		_, err := loadConfig(env(map[string]string{tc.name: tc.value}))
		if (err == nil) != tc.ok {
			t.Errorf("%s=%s: loadConfig = %v, want accepted %v", tc.name, tc.value, err, tc.ok)
		}
	}
}
