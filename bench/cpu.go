package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc: 100 on every
// Linux the benchmark is meant for.
const clockTicks = 100

// cpuMeter tells how much CPU the processes outside the benchmark used: on
// a shared machine, someone else's build or test run slows every system
// down, and the results should say so rather than hide it.
type cpuMeter struct {
	pids      []int  // the harness and both servers
	pgDataDir string // whose postmaster.pid names the root of our PostgreSQL
}

// cpuSample is the busy time of the whole machine and of the benchmark's
// own processes, in clock ticks: all of them (ours), and apart the harness
// that drives the load, PostgreSQL and each server (byPID).
type cpuSample struct {
	at                time.Time
	total, ours       uint64
	harness, postgres uint64
	byPID             map[int]uint64
}

func (m cpuMeter) sample() cpuSample {
	s := cpuSample{at: time.Now(), total: machineBusy(), byPID: map[int]uint64{}}
	for _, pid := range m.pids {
		t := processCPU(pid, false)
		s.byPID[pid] = t
		s.ours += t
	}
	s.harness = s.byPID[os.Getpid()]
	s.postgres = postgresCPU(m.pgDataDir)
	s.ours += s.postgres
	return s
}

// cpuUse is the CPU time a system's measured rounds took, in clock ticks:
// of the server measured, of PostgreSQL and of the harness, whose load
// generator's share grows with what it sends and reads.
type cpuUse struct {
	server, postgres, harness uint64
}

// add adds the use between a and b, with the server of pid.
func (u *cpuUse) add(a, b cpuSample, pid int) {
	u.server += b.byPID[pid] - min(b.byPID[pid], a.byPID[pid])
	u.postgres += b.postgres - min(b.postgres, a.postgres)
	u.harness += b.harness - min(b.harness, a.harness)
}

// perRequest returns the microseconds of CPU per request of each part.
func (u cpuUse) perRequest(requests int) cpuPerRequest {
	if requests <= 0 {
		return cpuPerRequest{}
	}
	us := func(ticks uint64) float64 { return float64(ticks) * 1e6 / clockTicks / float64(requests) }
	return cpuPerRequest{Server: us(u.server), PostgreSQL: us(u.postgres), Harness: us(u.harness)}
}

// cpuPerRequest is what one request cost each process, on average, in µs
// of CPU: where a surface's extra time goes when two of them differ.
type cpuPerRequest struct {
	Server     float64 `json:"server"`
	PostgreSQL float64 `json:"postgresql"`
	Harness    float64 `json:"harness"`
}

// postgresCPU returns the CPU time of the PostgreSQL server running on
// dir: the postmaster with its children's time once they have exited,
// and the backends still running.
func postgresCPU(dir string) uint64 {
	pm := postmasterPID(dir)
	if pm <= 0 {
		return 0
	}
	t := processCPU(pm, true)
	for _, pid := range childrenOf(pm) {
		t += processCPU(pid, false)
	}
	return t
}

// otherCPU returns the share of the machine's CPUs (0 to 100) that
// processes outside the benchmark used between a and b.
func otherCPU(a, b cpuSample, cpus int) float64 {
	wall := b.at.Sub(a.at).Seconds() * clockTicks * float64(cpus)
	if wall <= 0 || b.total < a.total {
		return 0
	}
	other := float64(b.total-a.total) - float64(b.ours-a.ours)
	return max(0, 100*other/wall)
}

// machineBusy sums the non-idle times of the first line of /proc/stat.
func machineBusy() uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	var busy uint64
	// cpu user nice system idle iowait irq softirq steal: all but idle and iowait.
	for i, v := range f[1:min(len(f), 9)] {
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		busy += n
	}
	return busy
}

// processCPU returns the user and system time of pid, and of its exited
// children too when withChildren is set; 0 if it is gone.
func processCPU(pid int, withChildren bool) uint64 {
	f := statFields(pid)
	if len(f) < 15 {
		return 0
	}
	// After the command: state ppid ... utime(14th field) stime cutime cstime.
	n := 2
	if withChildren {
		n = 4
	}
	var t uint64
	for _, v := range f[11 : 11+n] {
		x, _ := strconv.ParseUint(v, 10, 64)
		t += x
	}
	return t
}

// statFields returns the fields of /proc/<pid>/stat after the command name,
// which may itself hold spaces: state is the first.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// childrenOf returns the processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := strconv.Itoa(pid)
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(child); len(f) > 1 && f[1] == parent {
			out = append(out, child)
		}
	}
	return out
}

// postmasterPID reads the pid of the PostgreSQL server running on dir.
func postmasterPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(first)))
	return pid
}
