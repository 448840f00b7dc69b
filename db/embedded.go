package db

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// EmbeddedConfig tunes StartEmbedded.
type EmbeddedConfig struct {
	// Dir is the data directory, created and initialized on first use and
	// kept afterwards; ".data/postgres" when empty.
	Dir string
	// Logger receives start and stop messages. Nil discards.
	Logger *slog.Logger
	// Fast gives up durability for speed (fsync, synchronous_commit and
	// full_page_writes off): for tests, whose data is thrown away.
	Fast bool
	// Database is the database URL points at, created if missing;
	// "conduit" when empty.
	Database string
}

// Embedded is a private PostgreSQL server run from the PostgreSQL binaries
// installed on the machine, reachable only through a unix socket: the
// database of development and tests when no DATABASE_URL is given.
type Embedded struct {
	dir        string
	socketDir  string
	tempSocket bool // socketDir is ours to remove
	url        string
	logger     *slog.Logger
	log        *os.File
	logPath    string
	logStart   int64 // where this run's server log begins
	cmd        *exec.Cmd
	exited     chan struct{} // closed once the server has exited
	exitErr    error         // why it exited; read after exited is closed
	// attached is set when another process (a `conduit serve` already
	// running on the same directory) owns the server: it is used, and
	// left running by Stop.
	attached bool

	stopOnce sync.Once
	stopErr  error
}

// embeddedPort only names the socket file: the server listens on no TCP port.
const embeddedPort = 5432

// Bounds on how long the server may take to come up and to go down.
const (
	startTimeout    = 60 * time.Second
	fastStopTimeout = 30 * time.Second
	quitStopTimeout = 10 * time.Second
)

// errNoServer is returned when no PostgreSQL server binaries can be found.
var errNoServer = errors.New("PostgreSQL server binaries (postgres, initdb) not found: install PostgreSQL (e.g. apt-get install postgresql) or set DATABASE_URL to a running server")

// StartEmbedded starts a PostgreSQL server on cfg.Dir, initializing the
// directory first if it holds no cluster yet, and waits until the database
// accepts connections. When a server already runs on cfg.Dir (`make run`
// is up while `make seed` runs), it uses that one and leaves it running.
// When the process runs as root, the server runs as the unprivileged
// account postgres (or nobody), which then owns the directory; if that
// account cannot reach cfg.Dir, the cluster lives in a directory of its own
// (see reachableDataDir) and cfg.Dir links to it: no directory of the
// user's has its permissions changed. The server runs in its own process
// group, so that a Ctrl-C at the terminal reaches only the caller, which
// drains and then calls Stop.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	cfg.Dir = cmp.Or(cfg.Dir, filepath.Join(".data", "postgres"))
	cfg.Database = cmp.Or(cfg.Database, "conduit")
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	postgres, initdb, err := findServer()
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	if dir, err = reachableDataDir(dir, acct, logger); err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	attachCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	e, err := attach(attachCtx, dir, cfg.Database, logger)
	cancel()
	if e != nil || err != nil {
		return e, err
	}
	if err := prepareDataDir(dir, acct); err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	if err := removeStaleLock(dir, logger); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		logger.Info("initializing PostgreSQL cluster", "dir", dir)
		if err := runInitdb(ctx, initdb, dir, acct, cfg.Fast); err != nil {
			return nil, err
		}
	}

	e = &Embedded{dir: dir, socketDir: dir, logger: logger, exited: make(chan struct{})}
	if err := e.start(postgres, acct, cfg.Fast); err != nil {
		return nil, err
	}
	if err := e.waitReady(ctx); err != nil {
		_ = e.Stop()
		return nil, err
	}
	if err := e.createDatabase(ctx, cfg.Database); err != nil {
		_ = e.Stop()
		return nil, err
	}
	e.url = e.urlFor(cfg.Database)
	logger.Info("PostgreSQL started", "dir", dir, "pid", e.cmd.Process.Pid, "url", e.url)
	return e, nil
}

// URL returns the connection URL of the database, over the unix socket.
func (e *Embedded) URL() string { return e.url }

// Stop shuts the server down: a fast shutdown (clients disconnected,
// changes checkpointed), then an immediate one if that takes too long, and
// a kill as the last resort. Calling it again returns the first result.
func (e *Embedded) Stop() error {
	if e.attached {
		return nil // not ours to stop
	}
	e.stopOnce.Do(func() { e.stopErr = e.stop() })
	return e.stopErr
}

func (e *Embedded) stop() error {
	defer func() {
		e.log.Close()
		if e.tempSocket {
			os.RemoveAll(e.socketDir)
		}
	}()
	pid := e.cmd.Process.Pid
	for _, step := range []struct {
		sig  os.Signal
		wait time.Duration
	}{{syscall.SIGINT, fastStopTimeout}, {syscall.SIGQUIT, quitStopTimeout}} {
		if err := e.cmd.Process.Signal(step.sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("stop postgres: %w", err)
		}
		select {
		case <-e.exited:
			e.logger.Info("PostgreSQL stopped", "dir", e.dir)
			return nil
		case <-time.After(step.wait):
			e.logger.Warn("PostgreSQL is slow to stop", "pid", pid, "signal", step.sig)
		}
	}
	killGroup(pid)
	<-e.exited
	return fmt.Errorf("stop postgres: killed pid %d after it ignored SIGINT and SIGQUIT", pid)
}

// start launches the server on e.dir as a child process.
func (e *Embedded) start(postgres string, acct *account, fast bool) (err error) {
	defer func() {
		if err == nil {
			return
		}
		if e.log != nil {
			e.log.Close()
		}
		if e.tempSocket {
			os.RemoveAll(e.socketDir)
		}
	}()
	if len(filepath.Join(e.dir, fmt.Sprintf(".s.PGSQL.%d", embeddedPort))) >= 100 {
		// A unix socket path must fit in about 104 bytes.
		dir, err := os.MkdirTemp("/tmp", "conduit-pg-")
		if err != nil {
			return fmt.Errorf("embedded postgres: socket directory: %w", err)
		}
		e.socketDir, e.tempSocket = dir, true
		if err := handOver(dir, acct); err != nil {
			return fmt.Errorf("embedded postgres: %w", err)
		}
	}
	e.logPath = filepath.Join(e.dir, "postgres.log")
	if e.log, err = os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if err := handOver(e.logPath, acct); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if st, err := e.log.Stat(); err == nil {
		e.logStart = st.Size()
	}

	args := []string{
		"-D", e.dir,
		"-k", e.socketDir,
		"-c", "listen_addresses=",
		"-p", strconv.Itoa(embeddedPort),
	}
	if fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	// Not CommandContext: the server lives until Stop, whatever becomes of
	// the context it was started with.
	e.cmd = exec.Command(postgres, args...)
	e.cmd.Dir = e.dir // the server's account may not be able to enter ours
	e.cmd.Stdout, e.cmd.Stderr = e.log, e.log
	e.cmd.SysProcAttr = serverProcAttr(acct)
	if err := e.cmd.Start(); err != nil {
		return fmt.Errorf("embedded postgres: start %s: %w", postgres, err)
	}
	go func() {
		e.exitErr = e.cmd.Wait()
		close(e.exited)
	}()
	return nil
}

// waitReady waits until the server accepts connections, or fails with the
// server's log if it exits or takes too long.
func (e *Embedded) waitReady(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(e.urlFor("postgres"))
	if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	cfg.ConnectTimeout = 2 * time.Second
	deadline := time.After(startTimeout)
	for {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-e.exited:
			return fmt.Errorf("embedded postgres on %s exited while starting (%v); its log says:\n%s", e.dir, e.exitErr, e.logTail())
		case <-deadline:
			return fmt.Errorf("embedded postgres on %s did not accept connections within %s (%v); its log says:\n%s", e.dir, startTimeout, err, e.logTail())
		case <-ctx.Done():
			return fmt.Errorf("embedded postgres: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// createDatabase creates the database name unless it exists.
func (e *Embedded) createDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, e.urlFor("postgres"))
	if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("embedded postgres: find database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("embedded postgres: create database %s: %w", name, err)
	}
	e.logger.Info("created database", "name", name)
	return nil
}

// urlFor returns the URL of database on the server's socket.
func (e *Embedded) urlFor(database string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.User("postgres"),
		Path:   "/" + database,
		RawQuery: url.Values{
			"host":    {e.socketDir},
			"port":    {strconv.Itoa(embeddedPort)},
			"sslmode": {"disable"},
		}.Encode(),
	}
	return u.String()
}

// logTail returns the end of what the server logged since it was started.
func (e *Embedded) logTail() string {
	b, err := os.ReadFile(e.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", e.logPath, err)
	}
	if int64(len(b)) >= e.logStart {
		b = b[e.logStart:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// debianRoot is where Debian installs each PostgreSQL version; a variable so
// that tests can point it elsewhere.
var debianRoot = "/usr/lib/postgresql"

// findServer looks for the postgres and initdb binaries on PATH, then in
// pg_config's bindir, then in Debian's /usr/lib/postgresql/<version>/bin,
// newest version first.
func findServer() (postgres, initdb string, err error) {
	if p, err := exec.LookPath("postgres"); err == nil {
		if i, err := exec.LookPath("initdb"); err == nil {
			return p, i, nil
		}
	}
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	versioned, _ := filepath.Glob(filepath.Join(debianRoot, "*", "bin"))
	slices.SortFunc(versioned, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	dirs = append(dirs, versioned...)
	for _, dir := range dirs {
		p, i := filepath.Join(dir, "postgres"), filepath.Join(dir, "initdb")
		if isExecutable(p) && isExecutable(i) {
			return p, i, nil
		}
	}
	return "", "", errNoServer
}

// compareVersions orders dotted version numbers such as "9.6" and "15".
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// runInitdb creates a cluster in dir whose superuser postgres may connect
// through the socket without a password: only processes that can reach the
// socket in the data directory can.
func runInitdb(ctx context.Context, initdb, dir string, acct *account, fast bool) error {
	args := []string{"-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"}
	if fast {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, initdb, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = serverProcAttr(acct)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("embedded postgres: initdb %s: %w\n%s", dir, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// runningServer returns the pid and socket directory of the PostgreSQL
// server that runs on dir, from its lock file, or pid 0 if none does.
func runningServer(dir string) (pid int, socketDir string, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("embedded postgres: %w", err)
	}
	// The lock file's lines: pid, data directory, start time, port, socket
	// directory, listen address, shared memory key, status.
	lines := strings.Split(string(b), "\n")
	pid, err = strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 || !postgresRunning(pid) {
		return 0, "", nil
	}
	if len(lines) > 4 {
		socketDir = strings.TrimSpace(lines[4])
	}
	return pid, cmp.Or(socketDir, dir), nil
}

// attach returns the server already running on dir, made ready to serve
// database, or nil if none runs there.
func attach(ctx context.Context, dir, database string, logger *slog.Logger) (*Embedded, error) {
	pid, socketDir, err := runningServer(dir)
	if err != nil || pid == 0 {
		return nil, err
	}
	e := &Embedded{dir: dir, socketDir: socketDir, logger: logger, exited: make(chan struct{}), attached: true}
	if err := e.waitReady(ctx); err != nil {
		return nil, fmt.Errorf("embedded postgres: a server (pid %d) runs on %s but does not answer: %w", pid, dir, err)
	}
	if err := e.createDatabase(ctx, database); err != nil {
		return nil, err
	}
	e.url = e.urlFor(database)
	logger.Info("using the PostgreSQL server already running on the data directory", "dir", dir, "pid", pid)
	return e, nil
}

// removeStaleLock removes the lock file that a server which died without
// cleaning up left behind (attach has found no live server).
func removeStaleLock(dir string, logger *slog.Logger) error {
	pidFile := filepath.Join(dir, "postmaster.pid")
	if _, err := os.Stat(pidFile); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	logger.Warn("removing stale PostgreSQL lock file", "file", pidFile)
	if err := os.Remove(pidFile); err != nil {
		return fmt.Errorf("embedded postgres: remove stale lock file: %w", err)
	}
	return nil
}

// account is the unprivileged user the server runs as when we are root.
type account struct {
	name     string
	uid, gid int
}
