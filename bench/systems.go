package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// jwtSecret signs the tokens of the benchmark, on both servers.
const jwtSecret = "bench-secret-of-at-least-thirty-two-bytes"

// The systems a scenario runs against.
const (
	sysFloor   = "floor"
	sysLegacy  = "legacy"
	sysGraphQL = "graphql"
	// With -tracing, the same two surfaces on a second Conduit process that
	// traces every request and exports the spans to the harness's sink.
	sysLegacyTraced  = "legacy-traced"
	sysGraphQLTraced = "graphql-traced"
)

// untraced names the system a traced one is compared with.
var untraced = map[string]string{sysLegacyTraced: sysLegacy, sysGraphQLTraced: sysGraphQL}

// tracedOf names the traced twin of a system.
var tracedOf = map[string]string{sysLegacy: sysLegacyTraced, sysGraphQL: sysGraphQLTraced}

// server is one child process serving HTTP on a loopback port.
type server struct {
	name string
	base string // http://127.0.0.1:port
	// metricsBase serves /metrics: base for the floor, Conduit's own
	// operator listener (METRICS_ADDR), which also serves pprof.
	metricsBase string
	cmd         *exec.Cmd
	logPath     string
	exited      chan struct{}
	waitErr     error
}

// systems are the servers under test: Conduit, which serves both the
// legacy and the GraphQL system, and the floor; with -tracing, also a
// traced Conduit and the sink it exports to; with -baseline, the server
// of an earlier commit.
type systems struct {
	tmp    string
	ours   *server
	floor  *server
	traced *server   // nil without -tracing
	sink   *otlpSink // nil without -tracing
	// baseline serves legacy@<rev> and graphql@<rev>; nil without -baseline.
	baseline    *server
	baselineRev revision
	// bin and env start more replicas of ours (the subscriptions scenario).
	bin string
	env map[string]string
	// tracedStatements is the traced server's statement count once it was
	// ready: those of its migrations, which run outside any request and
	// make no span.
	tracedStatements int64
}

// startSystems builds both servers and starts them on the database url.
func startSystems(ctx context.Context, url string, cfg config, log *progress) (*systems, error) {
	tmp, err := os.MkdirTemp("", "conduit-bench-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	s := &systems{tmp: tmp}
	log.step("building the Conduit server and the floor")
	ours, floor := filepath.Join(tmp, "conduit"), filepath.Join(tmp, "floor")
	for _, b := range [][2]string{{ours, "."}, {floor, "./bench/floor"}} {
		if err := goBuild(ctx, b[0], b[1]); err != nil {
			s.stop(log)
			return nil, err
		}
	}
	var baseline string
	if cfg.baseline != "" {
		if s.baselineRev, err = resolveRevision(ctx, cfg.baseline); err != nil {
			s.stop(log)
			return nil, err
		}
		log.step("building the server of %s (-baseline %s)", s.baselineRev.short, cfg.baseline)
		baseline = filepath.Join(tmp, "conduit-"+s.baselineRev.short)
		if err := buildRevision(ctx, s.baselineRev, tmp, baseline); err != nil {
			s.stop(log)
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.outDir, 0o755); err != nil {
		s.stop(log)
		return nil, fmt.Errorf("create %s: %w", cfg.outDir, err)
	}
	if cfg.poolSize > 0 {
		// Both servers size their pgx pools from the URL, so one knob sets both.
		url = withParam(url, "pool_max_conns", strconv.Itoa(cfg.poolSize))
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		s.stop(log)
		return nil, err
	}
	env := map[string]string{"DATABASE_URL": url, "JWT_SECRET": jwtSecret, "LOG_LEVEL": "warn", "METRICS_ADDR": metricsAddr}
	if s.ours, err = startServer(ctx, "conduit", ours, cfg.outDir, env); err != nil {
		s.stop(log)
		return nil, err
	}
	s.ours.metricsBase = "http://" + metricsAddr
	s.bin, s.env = ours, env
	if baseline != "" {
		// The database may hold migrations the baseline does not know: goose
		// then finds nothing to apply and it starts; one that refuses fails
		// here, with its log.
		if s.baseline, err = s.startReplica(ctx, "conduit-"+s.baselineRev.short, baseline, cfg.outDir, cfg.baselineEnv); err != nil {
			s.stop(log)
			return nil, fmt.Errorf("baseline %s: %w", s.baselineRev.short, err)
		}
		log.step("baseline %s on %s (pid %d)", s.baselineRev.short, s.baseline.base, s.baseline.pid())
	}
	if cfg.tracing {
		if err := s.startTraced(ctx, ours, cfg.outDir, env); err != nil {
			s.stop(log)
			return nil, err
		}
		log.step("traced Conduit on %s (pid %d), exporting every request's spans to %s", s.traced.base, s.traced.pid(), s.sink.url)
	}
	floorEnv := map[string]string{"DATABASE_URL": url, "JWT_SECRET": jwtSecret}
	if s.floor, err = startServer(ctx, "floor", floor, cfg.outDir, floorEnv); err != nil {
		s.stop(log)
		return nil, err
	}
	log.step("Conduit on %s (pid %d), floor on %s (pid %d)", s.ours.base, s.ours.pid(), s.floor.base, s.floor.pid())
	return s, nil
}

// startTraced starts the traced Conduit: the same binary and environment
// as the untraced one, its own metrics address, and the standard OTel
// variables pointing at a fresh sink, sampling every request. The rest of
// the SDK's settings keep their defaults (batches of up to 512 spans, a
// queue of 2,048), as a deployment would have them.
func (s *systems) startTraced(ctx context.Context, bin, logDir string, base map[string]string) error {
	sink, err := startOTLPSink()
	if err != nil {
		return err
	}
	s.sink = sink
	metricsAddr, err := freeAddr()
	if err != nil {
		return err
	}
	env := map[string]string{
		"METRICS_ADDR":                metricsAddr,
		"OTEL_EXPORTER_OTLP_ENDPOINT": sink.url,
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_TRACES_SAMPLER":         "always_on",
		"OTEL_SERVICE_NAME":           "conduit-bench",
	}
	for k, v := range base {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
	if s.traced, err = startServer(ctx, "conduit-traced", bin, logDir, env); err != nil {
		return err
	}
	s.traced.metricsBase = "http://" + metricsAddr
	s.tracedStatements, err = s.traced.statements(ctx)
	return err
}

// startReplica starts bin, a Conduit server, as name with the environment
// of ours and a metrics address of its own.
func (s *systems) startReplica(ctx context.Context, name, bin, logDir string, extra map[string]string) (*server, error) {
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := map[string]string{"METRICS_ADDR": metricsAddr}
	for k, v := range extra {
		env[k] = v
	}
	for k, v := range s.env {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
	srv, err := startServer(ctx, name, bin, logDir, env)
	if err != nil {
		return nil, err
	}
	srv.metricsBase = "http://" + metricsAddr
	return srv, nil
}

// stop stops the servers and the sink, and removes the binaries.
func (s *systems) stop(log *progress) {
	if s.sink != nil {
		defer s.sink.close() // after the traced server's last export
	}
	for _, srv := range []*server{s.ours, s.traced, s.baseline, s.floor} {
		if srv == nil {
			continue
		}
		if err := srv.stop(); err != nil {
			log.step("stop %s: %v (its log: %s)", srv.name, err, srv.logPath)
		}
	}
	os.RemoveAll(s.tmp)
}

func goBuild(ctx context.Context, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, buf.String())
	}
	return nil
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer runs bin with the environment of this process plus env and
// ADDR, logging to <logDir>/<name>.log, and waits until it is ready.
func startServer(ctx context.Context, name, bin, logDir string, env map[string]string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{name: name, base: "http://" + addr, logPath: filepath.Join(logDir, name+".log"), exited: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(), "ADDR="+addr)
	for k, v := range env {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = childProcAttr()
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		_ = s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// waitReady polls /readyz until it answers 200.
func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited while starting (%v); see %s", s.name, s.waitErr, s.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after 60s; see %s", s.name, s.logPath)
		}
	}
}

// alive fails if the server has exited.
func (s *server) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("%s exited (%v); see %s", s.name, s.waitErr, s.logPath)
	default:
		return nil
	}
}

// stop asks the server to drain and waits, killing it after 20 seconds.
func (s *server) stop() error {
	if err := s.alive(); err != nil {
		return nil // already gone
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("killed after ignoring SIGTERM for 20s")
	}
}

// statements scrapes conduit_sql_statements_total from /metrics.
func (s *server) statements(ctx context.Context) (int64, error) {
	n, found, err := s.metricSum(ctx, "conduit_sql_statements_total")
	if err == nil && !found {
		err = fmt.Errorf("scrape %s: no conduit_sql_statements_total in /metrics", s.name)
	}
	return n, err
}

// metricSum scrapes /metrics and adds up the samples of the metric name,
// whatever their labels (a histogram's name_count, say); found is false
// when there is none.
func (s *server) metricSum(ctx context.Context, name string) (sum int64, found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cmp.Or(s.metricsBase, s.base)+"/metrics", nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("scrape %s: %w", s.name, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var total float64
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		if rest[0] == '{' {
			_, rest, _ = strings.Cut(rest, "} ")
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			return 0, false, fmt.Errorf("scrape %s: %s: %w", s.name, name, err)
		}
		total += f
		found = true
	}
	if err := sc.Err(); err != nil {
		return 0, false, fmt.Errorf("scrape %s: %w", s.name, err)
	}
	return int64(total), found, nil
}

// resetPeakRSS restarts the kernel's record of the process's peak resident
// set, so that the next peakRSS is the peak of one run. It returns false
// where the kernel does not allow it; the peak is then the lifetime one.
func (s *server) resetPeakRSS() bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.pid()), []byte("5"), 0) == nil
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func (s *server) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return 0, fmt.Errorf("peak RSS of %s: %w", s.name, err)
	}
	defer f.Close()
	return parseVmHWM(f)
}

func parseVmHWM(r io.Reader) (int64, error) {
	kb, err := parseStatusKB(r, "VmHWM")
	return kb << 10, err
}

// rssKB returns the process's resident set size now (VmRSS), in KiB.
func (s *server) rssKB() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return 0, fmt.Errorf("RSS of %s: %w", s.name, err)
	}
	defer f.Close()
	return parseStatusKB(f, "VmRSS")
}

// parseStatusKB reads the field of /proc/<pid>/status, in kB.
func parseStatusKB(r io.Reader, field string) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s %q: %w", field, v, err)
			}
			return kb, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/<pid>/status", field)
}
