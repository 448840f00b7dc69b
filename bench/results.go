package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// results is everything a run found; it is written as latest.json.
type results struct {
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	Machine  machine      `json:"machine"`
	Config   runConfig    `json:"config"`
	Checks   checkResults `json:"checks"`
	Runs     []runResult  `json:"runs"`
	Ratios   []ratio      `json:"ratios"`
	Targets  []target     `json:"targets"`
	// Tracing is set by -tracing: the spans the traced Conduit made and
	// exported.
	Tracing *exportCheck `json:"tracing,omitempty"`
	// Subscriptions is the subscriptions scenario, when it ran.
	Subscriptions *subResult `json:"subscriptions,omitempty"`

	scenarios map[string]scenario // by name, for the write flag
}

type machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpuModel"`
	MemoryMiB  int64  `json:"memoryMiB"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	PostgreSQL string `json:"postgresql"`
	LoadBefore string `json:"loadBefore"` // /proc/loadavg when the run began
	LoadAfter  string `json:"loadAfter"`
}

type runConfig struct {
	Conns       int     `json:"conns"`
	DurationSec float64 `json:"durationSeconds"`
	WarmupSec   float64 `json:"warmupSeconds"`
	Rounds      int     `json:"rounds"`
	Scenarios   string  `json:"scenarios"`
	PProf       bool    `json:"pprof"`
	Tracing     bool    `json:"tracing"`
	// Baseline is the short commit of -baseline, whose server ran as the
	// systems legacy@<it> and graphql@<it>; BaselineCommit is all of it.
	Baseline       string `json:"baseline,omitempty"`
	BaselineCommit string `json:"baselineCommit,omitempty"`
	// Old is the old backend's API root (-old), whose answers ran as the
	// system old; OldSeeded tells whether this run seeded it, through its
	// REST API, in OldSeedSeconds.
	Old            string  `json:"old,omitempty"`
	OldSeeded      bool    `json:"oldSeeded,omitempty"`
	OldSeedSeconds float64 `json:"oldSeedSeconds,omitempty"`
	Dataset        string  `json:"dataset"` // full, small or tiny
	Seed           uint64  `json:"seed"`
	DatasetSeeded  bool    `json:"datasetSeeded"` // false: reused
	SeedSeconds    float64 `json:"seedSeconds,omitempty"`
	Users          int     `json:"users"`
	Articles       int     `json:"articles"`
	Tags           int     `json:"tags"`
	Comments       int     `json:"comments"`
	Favorites      int     `json:"favorites"`
	Follows        int     `json:"follows"`
}

// runResult is one scenario measured on one system.
type runResult struct {
	Scenario   string  `json:"scenario"`
	System     string  `json:"system"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	Seconds    float64 `json:"seconds"`
	ReqPerSec  float64 `json:"reqPerSec"`
	// RoundReqPerSec is the throughput of each round, to show the noise.
	RoundReqPerSec []float64 `json:"roundReqPerSec"`
	P50Ms          float64   `json:"p50Ms"`
	P90Ms          float64   `json:"p90Ms"`
	P99Ms          float64   `json:"p99Ms"`
	MaxMs          float64   `json:"maxMs"`
	MeanMs         float64   `json:"meanMs"`
	SQLPerReq      float64   `json:"sqlPerRequest"`
	PeakRSSMiB     float64   `json:"peakRssMiB"`
	// OtherCPUPct is the share of the machine's CPUs that processes outside
	// the benchmark used while this system was measured, averaged over its
	// rounds: above a few percent, someone else's work weighed on the run.
	OtherCPUPct float64 `json:"otherCpuPercent"`
	// CPUPerReq is the CPU one request took, on average, of the server,
	// of PostgreSQL and of the harness (the load generator), in µs.
	CPUPerReq cpuPerRequest `json:"cpuUsPerRequest"`
	// PeakRSSOfRun is false when the kernel would not reset the peak, which
	// is then the process's lifetime peak rather than the peak of the rounds.
	PeakRSSOfRun bool `json:"peakRssOfRun"`
	// External is set for the old backend, which is not our process:
	// SQLPerReq, PeakRSSMiB, OtherCPUPct and CPUPerReq are not measured
	// (n/a) and 0.
	External bool `json:"external,omitempty"`
}

// ratio compares the throughput of two systems on one scenario.
type ratio struct {
	Scenario string  `json:"scenario"`
	Of       string  `json:"of"`
	To       string  `json:"to"`
	Value    float64 `json:"value"`
}

// target is one goal of the issue and whether this run met it.
type target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

func newResults(cfg config, data *benchData, sys *systems, old *oldBackend, started time.Time, checks checkResults) *results {
	r := &results{
		Started: started,
		Machine: machine{
			CPUs: runtime.NumCPU(), CPUModel: cpuModel(), MemoryMiB: memTotalMiB(), Kernel: readTrim("/proc/sys/kernel/osrelease"),
			Go: runtime.Version(), PostgreSQL: data.pgVer, LoadBefore: readTrim("/proc/loadavg"),
		},
		Config: runConfig{
			Conns: cfg.conns, DurationSec: cfg.duration.Seconds(), WarmupSec: cfg.warmup.Seconds(), Rounds: cfg.rounds,
			Scenarios: cfg.scenarios.String(), PProf: cfg.pprof, Tracing: cfg.tracing, Dataset: data.set.size.name, Seed: seed,
			DatasetSeeded: data.seeded, SeedSeconds: data.seedTime.Round(100 * time.Millisecond).Seconds(),
			Users: len(data.set.users), Articles: len(data.set.articles), Tags: len(data.set.tags),
			Comments: len(data.set.comments), Favorites: len(data.set.favorites), Follows: len(data.set.follows),
		},
		Checks:    checks,
		scenarios: map[string]scenario{},
	}
	if sys.baseline != nil {
		r.Config.Baseline, r.Config.BaselineCommit = sys.baselineRev.short, sys.baselineRev.full
	}
	if old != nil {
		r.Config.Old, r.Config.OldSeeded = old.api, old.seeded
		r.Config.OldSeedSeconds = old.seedTime.Round(100 * time.Millisecond).Seconds()
	}
	return r
}

// newRunResult sums up the rounds of one system.
func newRunResult(sc, sys string, t *tally) runResult {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	s := t.stats
	r := runResult{
		Scenario: sc, System: sys, Requests: s.requests, Errors: s.errors, FirstError: s.firstErr,
		Seconds: s.elapsed.Seconds(), ReqPerSec: float64(s.requests) / s.elapsed.Seconds(), RoundReqPerSec: t.rounds,
		P50Ms: ms(percentile(s.lat, .50)), P90Ms: ms(percentile(s.lat, .90)), P99Ms: ms(percentile(s.lat, .99)),
		MaxMs: ms(percentile(s.lat, 1)), MeanMs: ms(mean(s.lat)),
		PeakRSSMiB: float64(t.rss) / (1 << 20), PeakRSSOfRun: t.rssPerRun,
	}
	if t.external {
		r.External, r.PeakRSSOfRun = true, false
		return r
	}
	for _, c := range t.otherCPU {
		r.OtherCPUPct += c / float64(len(t.otherCPU))
	}
	if s.requests > 0 {
		r.SQLPerReq = float64(t.statements) / float64(s.requests)
	}
	r.CPUPerReq = t.cpu.perRequest(s.requests)
	return r
}

func (r *results) add(sc scenario, run runResult) {
	r.scenarios[sc.name] = sc
	r.Runs = append(r.Runs, run)
}

// run returns the result of scenario on system, if it ran.
func (r *results) run(scenario, system string) (runResult, bool) {
	for _, x := range r.Runs {
		if x.Scenario == scenario && x.System == system {
			return x, true
		}
	}
	return runResult{}, false
}

// finish computes the ratios and judges the targets.
func (r *results) finish(at time.Time) {
	r.Finished = at
	r.Machine.LoadAfter = readTrim("/proc/loadavg")
	pairs := [][2]string{{sysLegacy, sysFloor}, {sysGraphQL, sysLegacy}, {sysLegacyTraced, sysLegacy}, {sysGraphQLTraced, sysGraphQL}}
	if rev := r.Config.Baseline; rev != "" {
		legacyBase, graphqlBase := baselineSystem(sysLegacy, rev), baselineSystem(sysGraphQL, rev)
		pairs = append(pairs, [2]string{legacyBase, sysFloor}, [2]string{graphqlBase, legacyBase},
			[2]string{sysLegacy, legacyBase}, [2]string{sysGraphQL, graphqlBase})
	}
	if r.Config.Old != "" {
		pairs = append(pairs, [2]string{sysLegacy, sysOld}, [2]string{sysGraphQL, sysOld})
	}
	for _, name := range r.scenarioNames() {
		for _, p := range pairs {
			of, ok1 := r.run(name, p[0])
			to, ok2 := r.run(name, p[1])
			if ok1 && ok2 && to.ReqPerSec > 0 {
				r.Ratios = append(r.Ratios, ratio{Scenario: name, Of: p[0], To: p[1], Value: of.ReqPerSec / to.ReqPerSec})
			}
		}
	}
	r.Targets = r.judge()
}

// scenarioNames returns the names of the scenarios that ran, in order.
func (r *results) scenarioNames() []string {
	var names []string
	for _, x := range r.Runs {
		if len(names) == 0 || names[len(names)-1] != x.Scenario {
			names = append(names, x.Scenario)
		}
	}
	return names
}

// ratio returns the req/s of system of divided by those of to on scenario.
func (r *results) ratio(scenario, of, to string) (float64, bool) {
	for _, x := range r.Ratios {
		if x.Scenario == scenario && x.Of == of && x.To == to {
			return x.Value, true
		}
	}
	return 0, false
}

// judge evaluates each target of the issue on this run.
func (r *results) judge() []target {
	var ts []target
	for _, sc := range []string{"list", "list-signed-in", "article", "tags"} {
		if v, ok := r.ratio(sc, sysLegacy, sysFloor); ok {
			ts = append(ts, target{"legacy " + sc + " vs floor (req/s)", "≥ 0.80", fmt.Sprintf("%.2f", v), v >= 0.8})
		}
	}
	for _, sc := range r.scenarioNames() {
		if v, ok := r.ratio(sc, sysGraphQL, sysLegacy); ok && !r.scenarios[sc].write {
			ts = append(ts, target{"GraphQL " + sc + " vs legacy (req/s)", "≥ 0.70", fmt.Sprintf("%.2f", v), v >= 0.7})
		}
	}
	if rev := r.Config.Baseline; rev != "" {
		for _, sc := range r.scenarioNames() {
			if v, ok := r.ratio(sc, sysGraphQL, baselineSystem(sysGraphQL, rev)); ok && !r.scenarios[sc].write {
				ts = append(ts, target{"GraphQL " + sc + ": this build vs " + rev + " (req/s)", "≥ 0.95 (not slower, within noise)", fmt.Sprintf("%.2f", v), v >= 0.95})
			}
		}
	}
	popular, ok1 := r.run("create-article", sysLegacy)
	distinct, ok2 := r.run("create-article-distinct", sysLegacy)
	if ok1 && ok2 && distinct.ReqPerSec > 0 {
		v := popular.ReqPerSec / distinct.ReqPerSec
		ts = append(ts, target{"legacy create-article (the same popular tags) vs create-article-distinct (req/s)", "≥ 0.80", fmt.Sprintf("%.2f", v), v >= 0.8})
	}
	for _, x := range r.Runs {
		if x.System != sysFloor && !isBaseline(x.System) && !x.External && !r.scenarios[x.Scenario].write {
			ts = append(ts, target{fmt.Sprintf("p99 %s %s at %d connections", x.System, x.Scenario, r.Config.Conns),
				"< 50 ms", fmt.Sprintf("%.1f ms", x.P99Ms), x.P99Ms < 50})
		}
	}
	for _, sc := range r.scenarioNames() {
		for _, sys := range []string{sysLegacyTraced, sysGraphQLTraced} {
			if v, ok := r.ratio(sc, sys, untraced[sys]); ok {
				ts = append(ts, target{"tracing on (every request, exported) vs off: " + untraced[sys] + " " + sc + " (req/s)",
					"≥ 0.95", fmt.Sprintf("%.2f", v), v >= 0.95})
			}
		}
	}
	if t := r.Tracing; t != nil {
		ts = append(ts, target{"spans exported: every span made reached the collector", fmt.Sprint(t.Expected),
			fmt.Sprint(t.Received), t.Received == t.Expected})
	}
	errs, oldErrs := 0, 0
	for _, x := range r.Runs {
		if x.External {
			oldErrs += x.Errors
		} else {
			errs += x.Errors
		}
	}
	ts = append(ts, target{"errors, every run", "0", fmt.Sprint(errs), errs == 0})
	if r.Config.Old != "" {
		ts = append(ts, target{"old backend: answers well-formed (200, or 2xx for a write, and JSON), every run", "0 errors", fmt.Sprint(oldErrs), oldErrs == 0})
	}
	if s := r.Subscriptions; s != nil {
		ts = append(ts, s.targets()...)
	}
	for _, p := range r.Checks.PageSize {
		ts = append(ts, target{fmt.Sprintf("SQL/request constant in page size: %s %s", p.Surface, p.Request),
			"constant", fmt.Sprintf("%v at sizes %v", p.Statements, p.Sizes), p.Constant})
	}
	peak, measured := 0.0, false
	for _, x := range r.Runs {
		if x.System != sysFloor && !isBaseline(x.System) && !x.External {
			peak, measured = max(peak, x.PeakRSSMiB), true
		}
	}
	if measured {
		ts = append(ts, target{"Conduit peak RSS", "< 150 MiB", fmt.Sprintf("%.0f MiB", peak), peak < 150})
	}
	return ts
}

// write saves latest.json, latest.md and latest.svg in dir.
func (r *results) write(dir string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	return writeFiles(dir, map[string][]byte{
		"latest.json": append(js, '\n'),
		"latest.md":   []byte(r.markdown()),
		"latest.svg":  chart(r),
	})
}

// writeFiles writes each file of files in dir through a temporary file, so
// that an interrupted run leaves the last results whole.
func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path+".tmp", body, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// markdown renders the tables that BENCHMARKS.md shows.
func (r *results) markdown() string {
	var b strings.Builder
	m, c := r.Machine, r.Config
	fmt.Fprintf(&b, "Run of %s: %d× %s, %d MiB, %s, Go %s, PostgreSQL %s; load average before %s, after %s.\n",
		r.Started.UTC().Format(time.RFC3339), m.CPUs, m.CPUModel, m.MemoryMiB, "Linux "+m.Kernel, strings.TrimPrefix(m.Go, "go"), m.PostgreSQL,
		firstField(m.LoadBefore, 3), firstField(m.LoadAfter, 3))
	fmt.Fprintf(&b, "%d connections; per scenario and system %gs measured in %d rounds (systems in A B C, C B A order), each after %gs of warm-up.\n",
		c.Conns, c.DurationSec, c.Rounds, c.WarmupSec)
	b.WriteString("\"other CPU\" is the share of the machine that processes outside the benchmark used during the measurement; \"CPU µs/req\" is the CPU one request took of the server, of PostgreSQL and of the harness that drives the load.\n")
	if t := r.Tracing; t != nil {
		fmt.Fprintf(&b, "Tracing (-tracing): the *-traced systems are a second Conduit process sampling every request and exporting OTLP/HTTP to a sink in the harness; it served %d requests (%d GraphQL operations, %d SQL statements), made %d spans, and the sink received %d in %d exports (%.1f MiB).\n",
			t.Requests, t.Operations, t.Statements, t.Expected, t.Received, t.Exports, t.MiB)
	}
	if d := r.disturbed(); len(d) > 0 {
		fmt.Fprintf(&b, "**Disturbed:** other work used more than %d%% of the machine during %s; compare those rows with care.\n", disturbedPct, strings.Join(d, ", "))
	}
	b.WriteString("\n")
	b.WriteString("| scenario | system | req/s | p50 ms | p90 ms | p99 ms | errors | SQL/req | peak RSS MiB | ratio | other CPU | CPU µs/req server / PG / load |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, x := range r.Runs {
		ratio := ""
		if to := r.comparedWith(x.System); to != "" {
			if v, ok := r.ratio(x.Scenario, x.System, to); ok {
				ratio = fmt.Sprintf("%.2f× %s", v, to)
			}
		}
		if x.External {
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.2f | %.2f | %.2f | %d | n/a | n/a | %s | n/a | n/a |\n",
				x.Scenario, x.System, x.ReqPerSec, x.P50Ms, x.P90Ms, x.P99Ms, x.Errors, ratio)
			continue
		}
		cpu := x.CPUPerReq
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.2f | %.2f | %.2f | %d | %.2f | %.0f | %s | %.0f%% | %.0f / %.0f / %.0f |\n",
			x.Scenario, x.System, x.ReqPerSec, x.P50Ms, x.P90Ms, x.P99Ms, x.Errors, x.SQLPerReq, x.PeakRSSMiB, ratio, x.OtherCPUPct,
			cpu.Server, cpu.PostgreSQL, cpu.Harness)
	}
	if rev := c.Baseline; rev != "" {
		r.baselineTable(&b, rev)
	}
	if c.Old != "" {
		r.oldTable(&b)
	}
	if s := r.Subscriptions; s != nil {
		s.markdown(&b)
	}
	b.WriteString("\n| target | want | got | met |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		met := "**not met**"
		if t.Met {
			met = "met"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, met)
	}
	return b.String()
}

// comparedWith names the system whose req/s the ratio column of system's
// rows divides by: the floor for legacy, legacy for GraphQL, the untraced
// twin for a traced system, and the same within the baseline build.
func (r *results) comparedWith(system string) string {
	if twin, ok := untraced[system]; ok {
		return twin
	}
	base, rev, _ := strings.Cut(system, "@")
	switch {
	case base == sysLegacy:
		return sysFloor
	case base == sysGraphQL && rev != "":
		return baselineSystem(sysLegacy, rev)
	case base == sysGraphQL:
		return sysLegacy
	}
	return ""
}

// baselineTable compares the current build with the -baseline one, per
// scenario and surface, from the same rounds.
func (r *results) baselineTable(b *strings.Builder, rev string) {
	fmt.Fprintf(b, "\nThis build vs the baseline %s (-baseline %s), same rounds, same database: ratio is this build's req/s ÷ %s's.\n\n", rev, r.Config.BaselineCommit, rev)
	fmt.Fprintf(b, "| scenario | surface | %s req/s | this build req/s | ratio | %s p99 ms | this build p99 ms |\n|---|---|--:|--:|--:|--:|--:|\n", rev, rev)
	for _, sc := range r.scenarioNames() {
		for _, sys := range []string{sysLegacy, sysGraphQL} {
			old, ok1 := r.run(sc, baselineSystem(sys, rev))
			cur, ok2 := r.run(sc, sys)
			v, ok3 := r.ratio(sc, sys, baselineSystem(sys, rev))
			if !ok1 || !ok2 || !ok3 {
				continue
			}
			ratio := fmt.Sprintf("%.2f", v)
			if sys == sysGraphQL && !r.scenarios[sc].write {
				ratio = "**" + ratio + "**"
			}
			fmt.Fprintf(b, "| %s | %s | %.0f | %.0f | %s | %.2f | %.2f |\n", sc, sys, old.ReqPerSec, cur.ReqPerSec, ratio, old.P99Ms, cur.P99Ms)
		}
	}
}

// oldTable compares the new backend with the old one (-old), per
// scenario, from the same rounds.
func (r *results) oldTable(b *strings.Builder) {
	seeded := "reused the dataset a run before seeded"
	if r.Config.OldSeeded {
		seeded = fmt.Sprintf("seeded by this run through its REST API in %gs", r.Config.OldSeedSeconds)
	}
	fmt.Fprintf(b, "\nNew vs the old backend at %s (-old; %s), same rounds, the same %s dataset: ratio is new ÷ old in req/s. "+
		"The old backend is not our process: SQL/req, peak RSS and other CPU are n/a for it; an error is an answer that is not 200 (2xx for a write) with a JSON body.\n\n",
		r.Config.Old, seeded, r.Config.Dataset)
	b.WriteString("| scenario | old req/s | old p50 ms | old p90 ms | old p99 ms | old errors | legacy req/s | legacy ÷ old | legacy p99 ms | graphql req/s | graphql ÷ old | graphql p99 ms |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, sc := range r.scenarioNames() {
		old, ok := r.run(sc, sysOld)
		if !ok {
			continue
		}
		fmt.Fprintf(b, "| %s | %.0f | %.2f | %.2f | %.2f | %d", sc, old.ReqPerSec, old.P50Ms, old.P90Ms, old.P99Ms, old.Errors)
		for _, sys := range []string{sysLegacy, sysGraphQL} {
			cur, ok1 := r.run(sc, sys)
			v, ok2 := r.ratio(sc, sys, sysOld)
			if !ok1 || !ok2 {
				b.WriteString(" | | | ")
				continue
			}
			fmt.Fprintf(b, " | %.0f | **%.2f** | %.2f", cur.ReqPerSec, v, cur.P99Ms)
		}
		b.WriteString(" |\n")
	}
}

// disturbedPct is the share of the machine other processes may use during a
// measurement before the report calls it disturbed.
const disturbedPct = 5

// disturbed names the runs during which other processes used more than
// disturbedPct of the machine.
func (r *results) disturbed() []string {
	var out []string
	for _, x := range r.Runs {
		if !x.External && x.OtherCPUPct > disturbedPct {
			out = append(out, fmt.Sprintf("%s on %s (%.0f%%)", x.Scenario, x.System, x.OtherCPUPct))
		}
	}
	return out
}

func firstField(s string, n int) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(n, len(f))], " ")
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	return procField("/proc/cpuinfo", "model name", ":")
}

// memTotalMiB returns MemTotal of /proc/meminfo.
func memTotalMiB() int64 {
	var kb int64
	fmt.Sscanf(procField("/proc/meminfo", "MemTotal", ":"), "%d", &kb)
	return kb >> 10
}

func procField(path, key, sep string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
