package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// profileSeconds is how long a -pprof profile lasts.
const profileSeconds = 10

// profileTarget is a scenario and system that -pprof profiles.
type profileTarget struct{ scenario, system string }

// file is where the profile goes: cpu.pprof for the legacy list, the one
// the issue asks for, cpu-<scenario>-<system>.pprof for the others.
func (t profileTarget) file() string {
	if t == (profileTarget{"list", sysLegacy}) {
		return "cpu.pprof"
	}
	return "cpu-" + t.scenario + "-" + t.system + ".pprof"
}

// parseProfileTargets reads "scenario/system,...". Only Conduit's systems
// can be profiled: the floor serves no pprof.
func parseProfileTargets(s string) ([]profileTarget, error) {
	var ts []profileTarget
	for _, item := range strings.Split(s, ",") {
		sc, sys, _ := strings.Cut(strings.TrimSpace(item), "/")
		known := false
		for _, x := range scenarios() {
			_, served := x.systems[sys]
			known = known || x.name == sc && served
		}
		if !known || sys == sysFloor {
			return nil, fmt.Errorf("%q: want scenario/system, the system legacy or graphql and serving the scenario", item)
		}
		ts = append(ts, profileTarget{sc, sys})
	}
	return ts, nil
}

// runScenarios runs each scenario the filter selects, then undoes what a
// write scenario wrote.
func runScenarios(ctx context.Context, e *env, cfg config, res *results, log *progress) error {
	n := 0
	for _, sc := range scenarios() {
		if !cfg.scenarios.MatchString(sc.name) {
			continue
		}
		if sc.run != nil {
			if err := sc.run(ctx, e, cfg, res, log); err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			if err := e.undoWrites(ctx, log); err != nil {
				return err
			}
			n++
			continue
		}
		runs, err := runScenario(ctx, e, cfg, sc, n%2 == 1, log)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		for _, r := range runs {
			logRun(log, r)
			res.add(sc, r)
		}
		for _, t := range cfg.profiles {
			if cfg.pprof && t.scenario == sc.name {
				if err := profile(ctx, e, cfg, sc, t, log); err != nil {
					return err
				}
			}
		}
		if sc.write {
			if err := e.undoWrites(ctx, log); err != nil {
				return err
			}
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no scenario matches -scenarios %q", cfg.scenarios)
	}
	return nil
}

// logRun prints what one system measured in a scenario.
func logRun(log *progress, r runResult) {
	if r.External {
		log.step("%-15s %-15s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  SQL/req n/a  rounds %s  other CPU n/a",
			r.Scenario, r.System, r.ReqPerSec, r.P50Ms, r.P99Ms, r.Errors, roundList(r.RoundReqPerSec))
	} else {
		log.step("%-15s %-15s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  SQL/req %.2f  rounds %s  other CPU %.0f%%  CPU µs/req %.0f server, %.0f PostgreSQL, %.0f load",
			r.Scenario, r.System, r.ReqPerSec, r.P50Ms, r.P99Ms, r.Errors, r.SQLPerReq, roundList(r.RoundReqPerSec), r.OtherCPUPct,
			r.CPUPerReq.Server, r.CPUPerReq.PostgreSQL, r.CPUPerReq.Harness)
	}
	if r.Errors > 0 {
		log.step("%-15s %-15s first error: %s", r.Scenario, r.System, r.FirstError)
	}
}

func roundList(rs []float64) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += "/"
		}
		s += fmt.Sprintf("%.0f", r)
	}
	return s
}

// tally collects one system's rounds of a scenario.
type tally struct {
	client     *http.Client
	wl         workload
	stats      loadStats
	rounds     []float64
	statements int64
	rss        int64
	rssPerRun  bool
	otherCPU   []float64 // per round: % of the machine used outside the benchmark
	cpu        cpuUse    // of the measured rounds
	// external is set for the old backend: not our process, so nothing of
	// it is measured but the answers (no SQL count, RSS or CPU).
	external bool
}

// runScenario measures every system that serves sc in cfg.rounds rounds.
// Each round runs the systems one after the other, the next round in the
// opposite order (A B C, C B A, ...), so that a machine that drifts during
// the scenario weighs on every system alike. Each system keeps its
// connections across its rounds and is warmed up before each.
func runScenario(ctx context.Context, e *env, cfg config, sc scenario, reversed bool, log *progress) ([]runResult, error) {
	var order []string
	tallies := map[string]*tally{}
	for _, sys := range e.systemOrder(cfg) {
		if build, ok := workloadFor(sc, sys); ok {
			order = append(order, sys)
			wl := build(e.of(sys), e.base(sys))
			if sys == sysOld {
				wl = wellFormed(wl, sc.write)
			}
			tallies[sys] = &tally{client: newClient(cfg.conns), wl: wl, external: sys == sysOld}
		}
	}
	defer func() {
		for _, t := range tallies {
			t.client.CloseIdleConnections()
		}
	}()
	if reversed {
		slices.Reverse(order)
	}
	perRound := cfg.duration / time.Duration(cfg.rounds)
	log.step("%-15s %s: %d rounds of %s warm-up and %s measured, %d connections", sc.name, sc.title, cfg.rounds, cfg.warmup, perRound, cfg.conns)
	for round := range cfg.rounds {
		for _, sys := range order {
			if sc.write {
				if err := e.data.settle(ctx); err != nil {
					return nil, err
				}
			}
			if err := measureRound(ctx, e, e.server(sys), tallies[sys], cfg, perRound); err != nil {
				return nil, fmt.Errorf("%s, round %d: %w", sys, round+1, err)
			}
		}
		slices.Reverse(order)
	}
	var out []runResult
	for _, sys := range e.systemOrder(cfg) {
		if t, ok := tallies[sys]; ok {
			out = append(out, newRunResult(sc.name, sys, t))
		}
	}
	return out, nil
}

// measureRound warms the system up, then measures one round and adds it
// to t.
func measureRound(ctx context.Context, e *env, srv *server, t *tally, cfg config, d time.Duration) error {
	if cfg.warmup > 0 {
		drive(ctx, t.client, t.wl, cfg.conns, cfg.warmup)
	}
	if srv == nil {
		s := drive(ctx, t.client, t.wl, cfg.conns, d)
		if err := ctx.Err(); err != nil {
			return err
		}
		t.rounds = append(t.rounds, float64(s.requests)/s.elapsed.Seconds())
		t.stats.add(s)
		return nil
	}
	if err := srv.alive(); err != nil {
		return err
	}
	before, err := srv.statements(ctx)
	if err != nil {
		return err
	}
	t.rssPerRun = srv.resetPeakRSS()
	cpuBefore := e.cpu.sample()
	s := drive(ctx, t.client, t.wl, cfg.conns, d)
	cpuAfter := e.cpu.sample()
	t.otherCPU = append(t.otherCPU, otherCPU(cpuBefore, cpuAfter, runtime.NumCPU()))
	t.cpu.add(cpuBefore, cpuAfter, srv.pid())
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := srv.alive(); err != nil {
		return err
	}
	after, err := srv.statements(ctx)
	if err != nil {
		return err
	}
	rss, err := srv.peakRSS()
	if err != nil {
		return err
	}
	t.statements += after - before
	t.rss = max(t.rss, rss)
	t.rounds = append(t.rounds, float64(s.requests)/s.elapsed.Seconds())
	t.stats.add(s)
	return nil
}

// profile loads Conduit with scenario sc on t's system for profileSeconds
// more, unmeasured, while its CPU profile is taken, so that profiling
// never weighs on the numbers reported.
func profile(ctx context.Context, e *env, cfg config, sc scenario, t profileTarget, log *progress) error {
	path := filepath.Join(cfg.outDir, t.file())
	log.step("profiling %s on %s for %ds (not measured) into %s", sc.name, t.system, profileSeconds, path)
	client := newClient(cfg.conns)
	defer client.CloseIdleConnections()
	wl := sc.systems[t.system](e, e.base(t.system))
	drive(ctx, client, wl, cfg.conns, time.Second)
	done := make(chan error, 1)
	go func() { done <- saveProfile(ctx, e.sys.ours.metricsBase, path) }()
	drive(ctx, client, wl, cfg.conns, profileSeconds*time.Second+500*time.Millisecond)
	return <-done
}

// saveProfile saves a CPU profile of Conduit taken over profileSeconds.
func saveProfile(ctx context.Context, pprofBase, path string) error {
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", pprofBase, profileSeconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cpu profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	return f.Close()
}
