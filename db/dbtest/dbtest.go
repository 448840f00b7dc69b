// Package dbtest gives every test a fresh, migrated PostgreSQL database of
// its own, cloned from a template, so that tests run in parallel against the
// real database and a failing test's database is kept for inspection.
//
// The server is the one TEST_DATABASE_URL names (its user needs CREATEDB),
// or else a private cluster that the test binary starts from the PostgreSQL
// binaries on the machine and removes when it exits. Every package that uses
// dbtest runs its tests through Main:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
package dbtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/conduit-dev/conduit/db"
)

// maxConns bounds the pool of each test database: enough for the
// concurrency tests to race for real, few enough for parallel tests to
// share one server.
const maxConns = 10

var (
	mainCalled atomic.Bool
	kept       atomic.Bool // a failed test left its database behind

	mu       sync.Mutex
	shared   *server // nil until the first test asks for a database
	setupErr error   // why shared could not be set up; not retried
)

// server is where the test databases are created.
type server struct {
	embedded *db.Embedded // nil when TEST_DATABASE_URL is used
	dataDir  string       // the embedded cluster's temporary directory
	url      string       // of the database that administrative statements run in
	admin    *pgxpool.Pool
	template string
}

// Main runs the tests of m, then stops the embedded cluster, if one was
// started, and removes it, then exits with the tests' status. Call it from
// TestMain.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// New returns a connection pool on a fresh database that holds the whole
// schema and no rows. The pool is closed and the database dropped when the
// test ends, unless it failed: then the database is kept and its name logged.
func New(tb testing.TB) *db.DB {
	tb.Helper()
	d, _ := NewWithURL(tb)
	return d
}

// NewWithURL is New that also returns the database's URL, for tests that
// look at the rows themselves (see Exec and QueryInt).
func NewWithURL(tb testing.TB) (*db.DB, string) {
	tb.Helper()
	return NewWithOptions(tb, db.Options{})
}

// NewWithOptions is NewWithURL with the pool opened with opts, such as a
// tracer provider; MaxConns defaults to the pool size of New.
func NewWithOptions(tb testing.TB, opts db.Options) (*db.DB, string) {
	tb.Helper()
	u := NewURL(tb)
	if opts.MaxConns == 0 {
		opts.MaxConns = maxConns
	}
	d, err := db.Open(context.Background(), u, opts)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	tb.Cleanup(d.Close)
	return d, u
}

// Exec runs one statement in the database at url, for a test that must
// put it in a state the store cannot (a user deleted while their token is
// in use, rows as an older release wrote them).
func Exec(tb testing.TB, url, sql string, args ...any) {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatalf("dbtest: connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		tb.Fatalf("dbtest: %s: %v", sql, err)
	}
}

// QueryInt returns the one number the query selects, such as a count(*),
// for a test to check what was written (and that nothing was).
func QueryInt(tb testing.TB, url, sql string, args ...any) int64 {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatalf("dbtest: connect: %v", err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("dbtest: %s: %v", sql, err)
	}
	return n
}

// NewURL is New for tests that open their own pool, such as end-to-end tests
// of the server: it returns the URL of a fresh database. Whatever is still
// connected to it when the test ends is disconnected.
func NewURL(tb testing.TB) string {
	tb.Helper()
	if !mainCalled.Load() {
		tb.Fatal("dbtest: call dbtest.Main(m) from TestMain, which stops the database server when the tests end")
	}
	s, err := setup()
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	ctx := context.Background()
	name := databaseName(tb.Name())
	_, err = s.admin.Exec(ctx, `CREATE DATABASE `+ident(name)+` TEMPLATE `+ident(s.template))
	if err != nil {
		tb.Fatalf("dbtest: create database %s: %v", name, err)
	}
	u := withDatabase(s.url, name)
	tb.Cleanup(func() {
		if tb.Failed() {
			kept.Store(true)
			tb.Logf("dbtest: kept database %s for inspection: %s", name, u)
			return
		}
		if _, err := s.admin.Exec(ctx, `DROP DATABASE `+ident(name)+` WITH (FORCE)`); err != nil {
			tb.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	return u
}

// setup finds or starts the server and makes sure the template exists, once
// per test binary.
func setup() (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil || setupErr != nil {
		return shared, setupErr
	}
	s, err := newServer(context.Background())
	if err != nil {
		setupErr = err
		return nil, err
	}
	shared = s
	return s, nil
}

func newServer(ctx context.Context) (s *server, err error) {
	s = &server{url: os.Getenv("TEST_DATABASE_URL")}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.close())
		}
	}()
	if s.url == "" {
		if s.dataDir, err = os.MkdirTemp("", "conduit-dbtest-"); err != nil {
			return s, err
		}
		s.embedded, err = db.StartEmbedded(ctx, db.EmbeddedConfig{Dir: s.dataDir, Fast: true, Database: "postgres"})
		if err != nil {
			return s, err
		}
		s.url = s.embedded.URL()
	}
	if s.admin, err = pgxpool.New(ctx, s.url); err != nil {
		return s, fmt.Errorf("connect to %s: %w", s.url, err)
	}
	if s.template, err = s.ensureTemplate(ctx); err != nil {
		return s, err
	}
	return s, nil
}

// ensureTemplate returns the name of the template database that holds the
// schema of this build's migrations, creating it if it does not exist yet.
// The name carries a digest of the migrations, so that test binaries of
// different versions sharing one server do not use each other's schema, and
// several binaries of the same version build it only once.
func (s *server) ensureTemplate(ctx context.Context) (string, error) {
	name := "conduit_template_" + db.MigrationsDigest()
	conn, err := s.admin.Acquire(ctx)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", s.url, err)
	}
	defer conn.Release()
	h := fnv.New64a()
	h.Write([]byte(name))
	lock := int64(h.Sum64())
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
		return "", fmt.Errorf("lock template: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lock)

	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("find template: %w", err)
	}
	if exists {
		return name, nil
	}
	// Built under another name and renamed when complete, so that a binary
	// that dies half way leaves nothing that looks finished.
	building := name + "_building"
	for _, sql := range []string{
		`DROP DATABASE IF EXISTS ` + ident(building) + ` WITH (FORCE)`,
		`CREATE DATABASE ` + ident(building),
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return "", fmt.Errorf("build template: %w", err)
		}
	}
	d, err := db.Open(ctx, withDatabase(s.url, building), db.Options{MaxConns: 1})
	if err != nil {
		return "", fmt.Errorf("build template: %w", err)
	}
	err = d.Migrate(ctx)
	d.Close()
	if err != nil {
		return "", fmt.Errorf("build template: %w", err)
	}
	// A closed connection's server process lingers for a moment, and a
	// database cannot be renamed while anyone is connected to it.
	if err := waitDisconnected(ctx, conn, building); err != nil {
		return "", err
	}
	for _, sql := range []string{
		`ALTER DATABASE ` + ident(building) + ` RENAME TO ` + ident(name),
		// Nobody may connect to a template: CREATE DATABASE would refuse to copy it.
		`ALTER DATABASE ` + ident(name) + ` WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return "", fmt.Errorf("build template: %w", err)
		}
	}
	return name, nil
}

func waitDisconnected(ctx context.Context, conn *pgxpool.Conn, database string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1`, database).Scan(&n)
		if err != nil {
			return fmt.Errorf("wait for %s to be left: %w", database, err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for %s to be left: %d connections remain", database, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shutdown stops what setup started.
func shutdown() error {
	mu.Lock()
	defer mu.Unlock()
	if shared == nil {
		return nil
	}
	s := shared
	shared, setupErr = nil, errors.New("dbtest: the tests are over")
	return s.close()
}

// close stops the embedded cluster and removes it, unless a failed test
// kept its database there.
func (s *server) close() error {
	if s.admin != nil {
		s.admin.Close()
	}
	var err error
	if s.embedded != nil {
		err = s.embedded.Stop()
	}
	if s.dataDir == "" {
		return err
	}
	if kept.Load() {
		fmt.Fprintf(os.Stderr, "dbtest: the databases of failed tests are kept in the PostgreSQL cluster at %s (run postgres -D on it to look inside; remove it when done)\n", s.dataDir)
		return err
	}
	return errors.Join(err, os.RemoveAll(s.dataDir))
}

// databaseName returns a new database name that tells which test it is for.
func databaseName(test string) string {
	var b strings.Builder
	b.WriteString("test_")
	underscore := true
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			underscore = false
		} else if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	if !underscore {
		b.WriteByte('_')
	}
	// Random, so that names stay unique among test binaries sharing a server
	// and the databases earlier runs kept.
	b.WriteString(strings.ToLower(rand.Text()[:10]))
	return b.String()
}

// withDatabase returns the connection string u pointing at database name.
func withDatabase(u, name string) string {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		parsed, err := url.Parse(u)
		if err == nil {
			parsed.Path = "/" + name
			parsed.RawPath = ""
			q := parsed.Query()
			if q.Has("dbname") || q.Has("database") {
				q.Del("dbname")
				q.Del("database")
				parsed.RawQuery = q.Encode()
			}
			return parsed.String()
		}
	}
	// A keyword/value string: the last setting of a keyword wins.
	return u + " dbname='" + name + "'"
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
