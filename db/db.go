// Package db is the PostgreSQL adapter of the Conduit domain and the only
// place SQL lives: the connection pool, the embedded migrations, the store
// (one file per aggregate), the translation of database errors into domain
// errors, and the private development cluster started when no DATABASE_URL
// is given. Package db/dbtest builds fresh databases for tests.
package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/conduit-dev/conduit/conduit"
)

var _ conduit.Store = (*DB)(nil)

// Options tunes Open.
type Options struct {
	// MaxConns bounds the pool; 0 keeps pgxpool's default.
	MaxConns int
	// StatementTimeout is the server-side bound on one statement
	// (PostgreSQL's statement_timeout, also applied to a transaction left
	// idle): a backstop for the context deadlines the callers pass, which
	// a hung network could leave unheard. 0 leaves the server's setting.
	StatementTimeout time.Duration
	// ConnectTimeout bounds opening a connection; DefaultConnectTimeout
	// when 0. A request's deadline bounds it too.
	ConnectTimeout time.Duration
	// Logger receives migration progress and, at debug level, every
	// statement with its duration. Nil discards.
	Logger *slog.Logger
	// TracerProvider, when set, makes a client span of every SQL statement
	// sent on behalf of a traced request, a child of the span in the
	// statement's context. Nil makes none, at no cost.
	TracerProvider trace.TracerProvider
}

// DB is the Conduit store on a PostgreSQL connection pool. It is safe for
// concurrent use.
type DB struct {
	pool       *pgxpool.Pool
	logger     *slog.Logger
	statements atomic.Int64
	down       atomic.Bool // between the first failure of an outage and the first success after it
}

// DefaultConnectTimeout is Options.ConnectTimeout's default: a healthy
// server on the same network answers in milliseconds.
const DefaultConnectTimeout = 5 * time.Second

// Open connects to the database at url (a postgres:// URL or a keyword/value
// connection string) and checks that it answers.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(opts.MaxConns)
	}
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if ms := opts.StatementTimeout.Milliseconds(); ms > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(ms, 10)
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(ms, 10)
	}
	d := &DB{logger: opts.Logger}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	cfg.ConnConfig.Tracer = newTracer(d, opts.TracerProvider)
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		// The domain promises UTC times; pgx would scan them in time.Local.
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	d.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := d.Ping(ctx); err != nil {
		d.pool.Close()
		return nil, err
	}
	return d, nil
}

// Close closes every connection, waiting for those in use to be released.
func (d *DB) Close() { d.pool.Close() }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	d.recovered()
	return nil
}

// Statements returns how many SQL statements have been sent through d,
// transaction control included. Tests use it to prove that a page costs the
// same number of statements whatever its size.
func (d *DB) Statements() int64 { return d.statements.Load() }

// Stat returns the statistics of the connection pool, for /metrics.
func (d *DB) Stat() *pgxpool.Stat { return d.pool.Stat() }

// txAttempts bounds how often inTx runs a transaction that PostgreSQL
// aborted to break a deadlock or a serialization conflict.
const txAttempts = 3

// inTx runs fn in a transaction, committed when fn returns nil. A
// transaction that PostgreSQL aborts as a deadlock victim or for a
// serialization failure has written nothing, so it is run again: such
// aborts are the database's way of ordering concurrent writers, not errors
// a client should see. fn must only assign, never accumulate, what it
// returns through its closure.
func (d *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	var err error
	for range txAttempts {
		if err = pgx.BeginFunc(ctx, d.pool, fn); !isRetryable(err) {
			return err
		}
	}
	return err
}

// isRetryable reports whether err is PostgreSQL aborting a write to break
// a deadlock or a serialization conflict, having written nothing.
func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == deadlockDetected || pgErr.Code == serializationFailure)
}

// querier is what the store's helpers need, satisfied both by the pool and
// by a transaction, so that a read can run alone or inside a write.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var (
	_ querier = (*pgxpool.Pool)(nil)
	_ querier = pgx.Tx(nil)
)

// newTracer returns what pgx calls around each statement: the tracer that
// counts and logs them, and, with a tracer provider, otelpgx's, which makes
// a span of each. pgx takes one tracer, so the two go through pgx's
// multitracer. Only the statement hooks are given to otelpgx, not those of
// connecting, preparing and acquiring a connection: a trace then holds one
// span per statement, and its shape does not depend on the state of the
// pool (which /metrics shows).
func newTracer(d *DB, tp trace.TracerProvider) pgx.QueryTracer {
	counter := &tracer{db: d}
	if tp == nil {
		return counter
	}
	spans := otelpgx.NewTracer(
		otelpgx.WithTracerProvider(tp),
		// Statement metrics are Prometheus's business here (/metrics).
		otelpgx.WithMeterProvider(noop.NewMeterProvider()),
	)
	return &multitracer.Tracer{
		QueryTracers: []pgx.QueryTracer{counter, spans},
		BatchTracers: []pgx.BatchTracer{counter, spans},
	}
}

// tracer counts the statements of a DB and logs them at debug level.
type tracer struct {
	db *DB
}

type traceStartKey struct{}

type traceStart struct {
	sql string
	at  time.Time
}

// TraceQueryStart counts a statement sent with Query, QueryRow or Exec.
func (t *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	t.db.statements.Add(1)
	if !t.db.logger.Enabled(ctx, slog.LevelDebug) {
		return ctx
	}
	return context.WithValue(ctx, traceStartKey{}, traceStart{sql: data.SQL, at: time.Now()})
}

// TraceQueryEnd logs the statement that TraceQueryStart saw begin, and
// notes that the database answers when it succeeded.
func (t *tracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	if data.Err == nil {
		t.db.recovered()
	}
	if s, ok := ctx.Value(traceStartKey{}).(traceStart); ok {
		t.db.logger.LogAttrs(ctx, slog.LevelDebug, "sql",
			slog.String("sql", s.sql), slog.Duration("duration", time.Since(s.at)), slog.Any("err", data.Err))
	}
}

// TraceBatchStart does nothing: each query of a batch is counted on its own.
func (t *tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery counts one statement of a batch.
func (t *tracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	t.db.statements.Add(1)
	t.db.logger.LogAttrs(ctx, slog.LevelDebug, "sql", slog.String("sql", data.SQL), slog.Any("err", data.Err))
}

// TraceBatchEnd does nothing.
func (t *tracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
