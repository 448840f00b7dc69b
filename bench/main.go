// Command bench measures Conduit under closed-loop load on this machine and
// compares it with a floor: the least a Go server can do to give the same
// answers (bench/floor, one SQL statement per request).
//
// It starts a private PostgreSQL cluster in its own data directory, seeds a
// deterministic dataset through conduit.Service (or reuses the one seeded
// before), builds and starts the Conduit server and the floor as child
// processes on loopback ports, checks that the floor's bodies are byte for
// byte Conduit's and that a page costs the same statements at any size,
// then drives each scenario against each system that serves it (floor,
// legacy REST, GraphQL) and writes the results: latest.json, latest.md (the
// tables of BENCHMARKS.md) and latest.svg.
//
// Each system's measured time is split into rounds, the systems taking
// turns in A B C, C B A order, so that a machine whose speed drifts during a
// scenario weighs on all of them alike; each round follows a warm-up.
//
// -baseline REV compares this build with an earlier one in the same run:
// the commit's tree (git archive REV) is unpacked into a temporary
// directory, its server built there with go build, started on the same
// database, and measured as the systems legacy@<short commit> and
// graphql@<short commit> in the same rounds as legacy and graphql; the
// tables give this build's req/s ÷ the baseline's. The database may hold
// migrations the older server does not know: goose applies none of its
// own (they are all there) and ignores the newer ones, so it starts as it
// is; a baseline that refuses ends the run with its log. -baseline-env
// KEY=VALUE sets the baseline's environment: with -baseline HEAD, the same
// build with one setting changed, to measure what the setting costs.
//
// The subscriptions scenario is of another kind: two more replicas of this
// build (A and B) on the same database, -subscribers anonymous
// graphql-transport-ws subscribers spread evenly over them, watching
// commentAdded on -sub-articles articles of their own, while comments are
// written at -sub-rate per second through the server that serves the other
// scenarios (C). It reports the time from each write to each delivery,
// deliveries lost, repeated or out of order, and the memory of an idle
// subscriber (VmRSS of each replica before and after they connect).
//
// -old URL adds the old REST backend (the API root, ending in /api) as the
// system old: not a process of ours, but a deployment elsewhere. When it is
// empty the harness seeds the same dataset into it through its own REST
// API (register, follow, publish, favorite, comment), 16 requests at a
// time; the marker user, registered last, tells a finished seed on later
// runs, and anything else (articles but no marker) stops the run as a
// partial seed. The old backend's slugs and tokens are its own: the harness
// records what it answered (and, when reusing, lists its articles and
// logs in again) and asks it for those. It runs the REST scenarios in the
// same rounds as legacy and graphql, its answers must be 200 (2xx for a
// write) and JSON, and the tables give legacy ÷ old and graphql ÷ old;
// what needs our process (SQL statements, RSS, CPU) is n/a for it.
//
// -dataset small or tiny seeds less (1,000 or 100 articles), each size in
// a cluster of its own, for quick runs.
//
// -articles 10000,100000,1000000 measures, instead of the scenarios, how
// the list, the tag filter and the feed scale with the number of articles:
// each size gets a database of its own in the cluster (conduit_scale_<N>),
// seeded with COPY rather than through the service (and reused by later
// runs), and the floor and Conduit are started on each in turn and measured
// in the same rounds; the results go to scaling.json and scaling.md.
//
// Run it from the repository root:
//
//	go run ./bench [-conns 64] [-duration 10s] [-rounds 4] [-warmup 1s] [-scenarios regexp]
//	               [-out bench/results] [-data .data/bench] [-dataset full|small|tiny] [-pprof]
//	               [-pool N] [-tracing] [-baseline REV] [-old URL] [-subscribers 1000]
//	               [-sub-articles 50] [-sub-rate 200] [-articles N,N,...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is what the flags ask for.
type config struct {
	conns     int
	duration  time.Duration
	warmup    time.Duration
	rounds    int
	scenarios *regexp.Regexp
	outDir    string
	dataDir   string
	pprof     bool
	poolSize  int    // connections of each server's pool; 0 keeps pgx's default
	tracing   bool   // also measure a traced Conduit (systems legacy-traced, graphql-traced)
	baseline  string // a git revision whose server runs as legacy@<rev> and graphql@<rev>
	// baselineEnv is set in the baseline server's environment on top of
	// ours: with -baseline HEAD, it compares a setting's cost in one run.
	baselineEnv map[string]string
	oldURL      string          // the old backend's API root, measured as the system old
	dataset     datasetSize     // how much is seeded (-dataset)
	articles    []int           // -articles: the sizes of the scaling measurement, increasing
	sub         subConfig       // the subscriptions scenario
	profiles    []profileTarget // what -pprof profiles
	timeout     time.Duration
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.conns, "conns", 64, "concurrent connections, each looping request → response")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time per scenario and system")
	// Four rounds of 2.5 s, each after 1 s of warm-up, take as long as two
	// of 5 s after 2 s did, and weigh a drift of the machine on every system
	// more evenly: its speed moved by a third within minutes (BENCHMARKS.md,
	// round eight).
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured load before each round")
	fs.IntVar(&c.rounds, "rounds", 4, "rounds the duration is split into; each round runs the systems in turn, the next in reverse order")
	filter := fs.String("scenarios", "", "regular expression: run only the scenarios whose names match")
	fs.StringVar(&c.outDir, "out", "bench/results", "directory for latest.json, latest.md, latest.svg (and cpu.pprof)")
	fs.StringVar(&c.dataDir, "data", ".data/bench", "data directory of the benchmark's PostgreSQL cluster (with -dataset small or tiny, .data/bench-<size> unless set)")
	size := fs.String("dataset", "full", "how much to seed: full (500 users, 10,000 articles: the published tables), small (100, 1,000) or tiny (20, 100: a check that everything runs)")
	fs.IntVar(&c.poolSize, "pool", 0, "database connections of each server's pool (pool_max_conns); 0 keeps pgx's default, max(4, CPUs)")
	fs.BoolVar(&c.pprof, "pprof", false, "serve pprof from the Conduit server and save a 10s CPU profile of each -pprof-of scenario (an extra, unmeasured run) to <out>")
	profileOf := fs.String("pprof-of", "list/legacy", "with -pprof, the scenario/system pairs to profile, comma-separated; list/legacy goes to cpu.pprof, others to cpu-<scenario>-<system>.pprof")
	fs.BoolVar(&c.tracing, "tracing", false, "also run Conduit with OpenTelemetry tracing on, every request sampled and exported over OTLP/HTTP to a sink in the harness, as the systems legacy-traced and graphql-traced beside legacy and graphql")
	fs.Func("baseline-env", "KEY=VALUE set for the -baseline server only (repeatable): with -baseline HEAD, the same build with a setting changed, e.g. -baseline-env LEGACY_USAGE=off measures what the legacy usage accounting costs", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("want KEY=VALUE, got %q", v)
		}
		if c.baselineEnv == nil {
			c.baselineEnv = map[string]string{}
		}
		c.baselineEnv[k] = val
		return nil
	})
	fs.StringVar(&c.baseline, "baseline", "", "a git revision (commit, tag, branch) whose server is built and run too, as the systems legacy@<short commit> and graphql@<short commit> beside legacy and graphql; the tables give this build's req/s ÷ its")
	fs.IntVar(&c.sub.subscribers, "subscribers", 1000, "subscriptions scenario: WebSocket subscribers, spread evenly over two extra replicas")
	fs.IntVar(&c.sub.articles, "sub-articles", 50, "subscriptions scenario: articles the subscribers watch (each event goes to subscribers ÷ this of them)")
	fs.Float64Var(&c.sub.rate, "sub-rate", 200, "subscriptions scenario: comments written per second, for -duration")
	fs.StringVar(&c.oldURL, "old", "", "the old backend's API root (http://host:port/api): seeded through its REST API when empty, then measured as the system old beside legacy and graphql; the tables give new ÷ old")
	articles := fs.String("articles", "", "article counts, comma-separated (e.g. 10000,100000,1000000): instead of the scenarios, measure how list, list-tag and feed scale, each size on a database of its own seeded with COPY; results in <out>/scaling.json and scaling.md")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "give up after this long, whatever is running")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.conns < 1 || c.duration <= 0 || c.warmup < 0 || c.rounds < 1 {
		return c, errors.New("-conns, -duration and -rounds must be positive, -warmup not negative")
	}
	if c.sub.subscribers < 2 || c.sub.articles < 1 || c.sub.articles > c.sub.subscribers/2 || c.sub.rate <= 0 {
		return c, errors.New("-subscribers must be at least 2, -sub-articles between 1 and half of them, -sub-rate positive")
	}
	var ok bool
	if c.dataset, ok = datasetSizes[*size]; !ok {
		return c, fmt.Errorf("-dataset %q: want full, small or tiny", *size)
	}
	dataSet := false
	fs.Visit(func(f *flag.Flag) { dataSet = dataSet || f.Name == "data" })
	if !dataSet && c.dataset.name != "full" {
		// Each size keeps its own cluster, so that switching sizes reseeds neither.
		c.dataDir += "-" + c.dataset.name
	}
	var err error
	if c.oldURL != "" {
		if c.oldURL, err = oldAPIRoot(c.oldURL); err != nil {
			return c, fmt.Errorf("-old: %w", err)
		}
	}
	if *articles != "" {
		if c.articles, err = parseSizes(*articles); err != nil {
			return c, fmt.Errorf("-articles: %w", err)
		}
		if err := checkScaleFlags(c); err != nil {
			return c, err
		}
	}
	if c.scenarios, err = regexp.Compile(*filter); err != nil {
		return c, fmt.Errorf("-scenarios: %w", err)
	}
	if c.profiles, err = parseProfileTargets(*profileOf); err != nil {
		return c, fmt.Errorf("-pprof-of: %w", err)
	}
	return c, nil
}

// run is the whole benchmark.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the repository root (go run ./bench, or make bench)")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	if len(cfg.articles) > 0 {
		return runScaling(ctx, cfg, stderr)
	}
	log := newProgress(stderr)
	started := time.Now()

	set := newDataset(cfg.dataset)
	data, err := openData(ctx, cfg.dataDir, set, log)
	if err != nil {
		return err
	}
	defer data.close(log)

	var old *oldBackend
	if cfg.oldURL != "" {
		if old, err = openOld(ctx, cfg.oldURL, set, log); err != nil {
			return err
		}
	}

	systems, err := startSystems(ctx, data.url, cfg, log)
	if err != nil {
		return err
	}
	defer systems.stop(log)

	env, err := newEnv(ctx, data, systems, old, cfg.conns)
	if err != nil {
		return err
	}
	log.step("checking that the floor answers byte for byte as Conduit does")
	checks, err := runChecks(ctx, env, log)
	if err != nil {
		return err
	}
	res := newResults(cfg, data, systems, old, started, checks)
	if err := runScenarios(ctx, env, cfg, res, log); err != nil {
		return err
	}
	if cfg.tracing {
		if res.Tracing, err = systems.checkExport(ctx, log); err != nil {
			return err
		}
	}
	res.finish(time.Now())
	if err := res.write(cfg.outDir); err != nil {
		return err
	}
	fmt.Fprintln(stderr)
	fmt.Fprint(stderr, res.markdown())
	log.step("done in %s; results in %s", time.Since(started).Round(time.Second), cfg.outDir)
	return nil
}

// progress prints what the benchmark is doing, with the time since it began.
type progress struct {
	w     io.Writer
	start time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w, start: time.Now()} }

func (p *progress) step(format string, args ...any) {
	fmt.Fprintf(p.w, "[%6.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}
