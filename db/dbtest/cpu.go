package dbtest

import (
	"syscall"
	"testing"
	"time"
)

// CPUTime returns the CPU time this process has used, user and system.
// A benchmark against the test cluster spends most of its wall time
// waiting for PostgreSQL, which runs in a process of its own: the CPU of
// the test process is what the code under test costs, and it does not
// move with the round trip (ReportCPU).
func CPUTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU reports the CPU time this process used since start (a
// CPUTime) per iteration of b, as cpu-µs/op.
func ReportCPU(b *testing.B, start time.Duration) {
	b.Helper()
	if b.N > 0 {
		b.ReportMetric(float64(CPUTime(b)-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	}
}
