package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
)

// gqlByTag is the tag filter through GraphQL.
const gqlByTag = `query ArticlesByTag($tag: String!) { articles(first: 20, filter: {tag: $tag}) { totalCount nodes { ` + gqlListed + ` } } }`

// parseSizes reads -articles: article counts, comma-separated, each at
// least 100; they come back in increasing order, without repeats.
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(f), "_", ""))
		if err != nil || n < 100 {
			return nil, fmt.Errorf("%q: want article counts of at least 100, comma-separated", f)
		}
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	return slices.Compact(sizes), nil
}

// scaleScenarios are what -articles measures at each size: reads whose
// cost may grow with the number of articles. The tag filter asks for the
// most used tag.
func scaleScenarios(topTag string) []scenario {
	byTag := "/api/articles?tag=" + topTag + "&limit=20"
	return []scenario{
		{name: "list", title: "GET /api/articles?limit=20, anonymous", systems: map[string]func(*env, string) workload{
			sysFloor:   func(e *env, base string) workload { return e.legacyGet(base, "/api/articles?limit=20", nil) },
			sysLegacy:  func(e *env, base string) workload { return e.legacyGet(base, "/api/articles?limit=20", nil) },
			sysGraphQL: func(e *env, base string) workload { return e.graphql(base, gqlList, nil, nil) },
		}},
		{name: "list-tag", title: "GET " + byTag + " (the most used tag), anonymous", systems: map[string]func(*env, string) workload{
			sysFloor:  func(e *env, base string) workload { return e.legacyGet(base, byTag, nil) },
			sysLegacy: func(e *env, base string) workload { return e.legacyGet(base, byTag, nil) },
			sysGraphQL: func(e *env, base string) workload {
				return e.graphql(base, gqlByTag, []map[string]any{{"tag": topTag}}, nil)
			},
		}},
		{name: "feed", title: "GET /api/articles/feed?limit=20, a user who follows 150 of 500", systems: map[string]func(*env, string) workload{
			sysFloor:   func(e *env, base string) workload { return e.legacyGet(base, "/api/articles/feed?limit=20", e.tokens) },
			sysLegacy:  func(e *env, base string) workload { return e.legacyGet(base, "/api/articles/feed?limit=20", e.tokens) },
			sysGraphQL: func(e *env, base string) workload { return e.graphql(base, gqlFeed, nil, e.tokens) },
		}},
	}
}

// runScaling is the benchmark with -articles: for each size, a database of
// its own in the benchmark's cluster, seeded with COPY, and the floor and
// Conduit started on it and measured in the scale scenarios, the systems
// taking turns as in the other scenarios. The sizes run one after the
// other.
func runScaling(ctx context.Context, cfg config, stderr io.Writer) error {
	log := newProgress(stderr)
	res := &scaleResults{
		Started: time.Now(),
		Machine: machine{
			CPUs: runtime.NumCPU(), CPUModel: cpuModel(), MemoryMiB: memTotalMiB(), Kernel: readTrim("/proc/sys/kernel/osrelease"),
			Go: runtime.Version(), LoadBefore: readTrim("/proc/loadavg"),
		},
		Config: scaleConfig{
			Conns: cfg.conns, DurationSec: cfg.duration.Seconds(), WarmupSec: cfg.warmup.Seconds(), Rounds: cfg.rounds,
			Scenarios: cfg.scenarios.String(), Sizes: cfg.articles,
		},
	}
	n := 0
	for _, sc := range scaleScenarios("") {
		if cfg.scenarios.MatchString(sc.name) {
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("no scale scenario (list, list-tag, feed) matches -scenarios %q", cfg.scenarios)
	}

	log.step("starting PostgreSQL on %s", cfg.dataDir)
	emb, err := db.StartEmbedded(ctx, db.EmbeddedConfig{
		Dir: cfg.dataDir, Database: benchDatabase,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	defer func() {
		if err := emb.Stop(); err != nil {
			log.step("stop postgres: %v", err)
		}
	}()
	for _, size := range cfg.articles {
		d, err := openScale(ctx, emb.URL(), size, log)
		if err != nil {
			return err
		}
		runs, sz, err := measureSize(ctx, d, cfg, log)
		if err != nil {
			return fmt.Errorf("%d articles: %w", size, err)
		}
		res.Sizes = append(res.Sizes, sz)
		res.Machine.PostgreSQL = d.pgVer
		res.Runs = append(res.Runs, runs...)
	}
	res.finish()
	if err := res.write(cfg.outDir); err != nil {
		return err
	}
	fmt.Fprintln(stderr)
	fmt.Fprint(stderr, res.markdown())
	log.step("done in %s; results in %s", time.Since(res.Started).Round(time.Second), filepath.Join(cfg.outDir, "scaling.md"))
	return nil
}

// measureSize starts the floor and Conduit on d's database, checks that
// the floor answers as Conduit does, and runs each scale scenario.
func measureSize(ctx context.Context, d *scaleData, cfg config, log *progress) ([]scaleRun, scaleSize, error) {
	sz := scaleSize{Articles: d.articles, Database: d.database, Seeded: d.seeded, SeedSeconds: d.seedTime.Round(100 * time.Millisecond).Seconds()}
	sys, err := startSystems(ctx, d.url, cfg, log)
	if err != nil {
		return nil, sz, err
	}
	defer sys.stop(log)
	token, err := conduit.NewTokens([]byte(jwtSecret), 24*time.Hour).Sign(conduit.Viewer{UserID: d.feedUserID})
	if err != nil {
		return nil, sz, err
	}
	e := &env{
		sys: sys, conns: cfg.conns, client: &http.Client{Timeout: 30 * time.Second},
		cpu:    cpuMeter{pids: []int{os.Getpid(), sys.ours.pid(), sys.floor.pid()}, pgDataDir: cfg.dataDir},
		tokens: []string{token}, feedToken: token,
	}
	var tags struct{ Tags []string }
	body, err := e.get(ctx, sysLegacy, "/api/tags", "")
	if err != nil {
		return nil, sz, err
	}
	if err := json.Unmarshal(body, &tags); err != nil || len(tags.Tags) == 0 {
		return nil, sz, fmt.Errorf("GET /api/tags: no tags in %.200s", body)
	}
	sz.TopTag = tags.Tags[0]
	if err := checkScaleFloor(ctx, e, sz.TopTag); err != nil {
		return nil, sz, err
	}
	var runs []scaleRun
	k := 0
	for _, sc := range scaleScenarios(sz.TopTag) {
		if !cfg.scenarios.MatchString(sc.name) {
			continue
		}
		measured, err := runScenario(ctx, e, cfg, sc, k%2 == 1, log)
		if err != nil {
			return nil, sz, fmt.Errorf("%s: %w", sc.name, err)
		}
		for _, r := range measured {
			logRun(log, r)
			runs = append(runs, scaleRun{Articles: d.articles, Title: sc.title, runResult: r})
		}
		k++
	}
	return runs, sz, nil
}

// checkScaleFloor fails unless the floor's bodies are Conduit's, byte for
// byte, for the requests the scale scenarios send and a page further on.
func checkScaleFloor(ctx context.Context, e *env, topTag string) error {
	for _, r := range []struct{ path, token string }{
		{"/api/articles?limit=20", ""},
		{"/api/articles?limit=20&offset=80", e.feedToken},
		{"/api/articles?tag=" + topTag + "&limit=20", ""},
		{"/api/articles/feed?limit=20", e.feedToken},
	} {
		floor, err := e.get(ctx, sysFloor, r.path, r.token)
		if err != nil {
			return err
		}
		ours, err := e.get(ctx, sysLegacy, r.path, r.token)
		if err != nil {
			return err
		}
		if !bytes.Equal(floor, ours) {
			return fmt.Errorf("the floor's answer to GET %s differs from Conduit's: %s", r.path, firstDifference(ours, floor))
		}
	}
	return nil
}

// scaleResults is what a run with -articles found; it is written as
// scaling.json.
type scaleResults struct {
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished"`
	Machine  machine     `json:"machine"`
	Config   scaleConfig `json:"config"`
	Sizes    []scaleSize `json:"sizes"`
	Runs     []scaleRun  `json:"runs"`
	Targets  []target    `json:"targets"`
}

type scaleConfig struct {
	Conns       int     `json:"conns"`
	DurationSec float64 `json:"durationSeconds"`
	WarmupSec   float64 `json:"warmupSeconds"`
	Rounds      int     `json:"rounds"`
	Scenarios   string  `json:"scenarios"`
	Sizes       []int   `json:"sizes"`
}

// scaleSize is one size's database.
type scaleSize struct {
	Articles    int     `json:"articles"`
	Database    string  `json:"database"`
	Seeded      bool    `json:"seeded"` // false: reused
	SeedSeconds float64 `json:"seedSeconds,omitempty"`
	TopTag      string  `json:"topTag"` // the tag filter's
}

// scaleRun is one scenario measured on one system at one size.
type scaleRun struct {
	Articles int    `json:"articles"`
	Title    string `json:"title"`
	runResult
	// VsSmallest is ReqPerSec ÷ that of the same scenario and system at
	// the smallest size.
	VsSmallest float64 `json:"vsSmallest"`
}

// run returns the result of scenario on system at size n, if it ran.
func (r *scaleResults) run(scenario, system string, n int) (scaleRun, bool) {
	for _, x := range r.Runs {
		if x.Scenario == scenario && x.System == system && x.Articles == n {
			return x, true
		}
	}
	return scaleRun{}, false
}

// finish computes each run's ratio to the smallest size and judges the
// targets.
func (r *scaleResults) finish() {
	r.Finished = time.Now()
	r.Machine.LoadAfter = readTrim("/proc/loadavg")
	small, large := r.Config.Sizes[0], r.Config.Sizes[len(r.Config.Sizes)-1]
	for i, x := range r.Runs {
		if base, ok := r.run(x.Scenario, x.System, small); ok && base.ReqPerSec > 0 {
			r.Runs[i].VsSmallest = x.ReqPerSec / base.ReqPerSec
		}
	}
	a, ok1 := r.run("list", sysLegacy, large)
	b, ok2 := r.run("list", sysLegacy, small)
	if ok1 && ok2 && large != small && b.ReqPerSec > 0 {
		v := a.ReqPerSec / b.ReqPerSec
		r.Targets = append(r.Targets, target{fmt.Sprintf("legacy list at %s articles vs legacy list at %s (req/s)", grouped(large), grouped(small)),
			"≥ 0.80", fmt.Sprintf("%.2f", v), v >= 0.8})
	}
	f, ok3 := r.run("list", sysFloor, small)
	if ok2 && ok3 && f.ReqPerSec > 0 {
		v := b.ReqPerSec / f.ReqPerSec
		r.Targets = append(r.Targets, target{fmt.Sprintf("legacy list vs the floor at %s articles (req/s)", grouped(small)),
			"≥ 1.50", fmt.Sprintf("%.2f", v), v >= 1.5})
	}
	errs := 0
	for _, x := range r.Runs {
		errs += x.Errors
	}
	r.Targets = append(r.Targets, target{"errors, every run", "0", fmt.Sprint(errs), errs == 0})
}

// write saves scaling.json and scaling.md in dir.
func (r *scaleResults) write(dir string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	return writeFiles(dir, map[string][]byte{"scaling.json": append(js, '\n'), "scaling.md": []byte(r.markdown())})
}

// markdown renders the sizes, a table per scenario and the targets.
func (r *scaleResults) markdown() string {
	var b strings.Builder
	m, c := r.Machine, r.Config
	small := grouped(c.Sizes[0])
	fmt.Fprintf(&b, "Scaling run of %s: %d× %s, %d MiB, Linux %s, Go %s, PostgreSQL %s; load average before %s, after %s.\n",
		r.Started.UTC().Format(time.RFC3339), m.CPUs, m.CPUModel, m.MemoryMiB, m.Kernel, strings.TrimPrefix(m.Go, "go"), m.PostgreSQL,
		firstField(m.LoadBefore, 3), firstField(m.LoadAfter, 3))
	fmt.Fprintf(&b, "%d connections; per scenario, size and system %gs measured in %d rounds (systems in A B C, C B A order), each after %gs of warm-up. "+
		"The sizes ran one after the other, each on a database of its own (500 users, 50 tags, the feed user following 150) with the floor and Conduit started on it. "+
		"\"÷ %s\" is req/s ÷ those of the same scenario and system at %s articles.\n\n", c.Conns, c.DurationSec, c.Rounds, c.WarmupSec, small, small)
	b.WriteString("| articles | database | seed | most used tag |\n|--:|---|---|---|\n")
	for _, s := range r.Sizes {
		seed := "reused"
		if s.Seeded {
			seed = fmt.Sprintf("seeded in %.1f s", s.SeedSeconds)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", grouped(s.Articles), s.Database, seed, s.TopTag)
	}
	var names []string
	for _, x := range r.Runs {
		if !slices.Contains(names, x.Scenario) {
			names = append(names, x.Scenario)
		}
	}
	for _, name := range names {
		title := ""
		for _, x := range r.Runs {
			if x.Scenario == name {
				title = x.Title
			}
		}
		fmt.Fprintf(&b, "\n%s: %s\n\n", name, title)
		fmt.Fprintf(&b, "| system | articles | req/s | p50 ms | p99 ms | ÷ %s | errors | SQL/req | other CPU |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n", small)
		for _, sys := range []string{sysFloor, sysLegacy, sysGraphQL} {
			for _, n := range c.Sizes {
				x, ok := r.run(name, sys, n)
				if !ok {
					continue
				}
				fmt.Fprintf(&b, "| %s | %s | %.0f | %.2f | %.2f | %.2f | %d | %.2f | %.0f%% |\n",
					sys, grouped(n), x.ReqPerSec, x.P50Ms, x.P99Ms, x.VsSmallest, x.Errors, x.SQLPerReq, x.OtherCPUPct)
			}
		}
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

// grouped writes n with thousands separated by commas: 1,000,000.
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// checkScaleFlags refuses what -articles does not combine with.
func checkScaleFlags(c config) error {
	if c.oldURL != "" || c.baseline != "" || c.tracing || c.pprof {
		return errors.New("-articles runs the scaling measurement alone: not with -old, -baseline, -tracing or -pprof")
	}
	return nil
}
