package main

import (
	"os"
	"testing"
	"time"
)

// TestCPUPerRequest burns at least 20 clock ticks of this process's CPU
// between two samples and reads them back as the CPU of 1,000 requests:
// this process is both the harness and the server measured, so both parts
// are at least 200 µs a request, and PostgreSQL, which is not running, 0.
func TestCPUPerRequest(t *testing.T) {
	pid := os.Getpid()
	m := cpuMeter{pids: []int{pid}, pgDataDir: t.TempDir()}
	a := m.sample()
	deadline := time.Now().Add(20 * time.Second)
	for processCPU(pid, false) < a.byPID[pid]+20 {
		if time.Now().After(deadline) {
			t.Fatal("20 ticks of CPU not reported in 20s")
		}
		spin()
	}
	b := m.sample()
	var u cpuUse
	u.add(a, b, pid)
	got := u.perRequest(1000)
	if got.Server < 200 || got.Harness != got.Server || got.PostgreSQL != 0 {
		t.Errorf("perRequest = %+v, want server ≥ 200 µs, harness = server, PostgreSQL 0", got)
	}
	if got := (cpuUse{server: 5}).perRequest(0); got != (cpuPerRequest{}) {
		t.Errorf("perRequest of no request = %+v, want zeros", got)
	}
	// A server that was not sampled (or restarted) counts nothing.
	var none cpuUse
	none.add(b, a, pid)
	if none != (cpuUse{}) {
		t.Errorf("use between reversed samples = %+v, want zeros", none)
	}
}

var sink uint64

// spin burns about a millisecond of CPU.
func spin() {
	x := sink
	for i := range uint64(1 << 20) {
		x = x*6364136223846793005 + i
	}
	sink = x
}
