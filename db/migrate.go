package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// migrations are the numbered goose SQL files that build the schema. A file
// once released is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockID is the advisory lock that serializes processes migrating
// the same database (two replicas starting at once).
const migrationLockID int64 = 0x636f6e6475697401 // "conduit" and a 1

// Migrate applies the migrations that the database has not seen yet. It is
// safe to call from several processes at once: they take turns on an
// advisory lock, and the later ones find nothing left to do.
func (d *DB) Migrate(ctx context.Context) error {
	p, done, err := d.migrations()
	if err != nil {
		return err
	}
	defer done()
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		d.logger.Info("applied migration", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// migrations returns goose's provider of the embedded migrations over the
// pool, and what releases it.
func (d *DB) migrations() (*goose.Provider, func(), error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(d.pool)
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys,
		goose.WithSessionLocker(advisoryLocker{}),
		goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(usernameKeys(d.logger)),
	)
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	return p, func() { sqlDB.Close() }, nil
}

// MigrationsDigest returns a short digest of the embedded migrations: two
// builds with the same digest create the same schema. db/dbtest names its
// template database after it.
func MigrationsDigest() string {
	h := sha256.New()
	// fs.WalkDir visits files in lexical order, so the digest is stable.
	err := fs.WalkDir(migrations, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := migrations.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	// The Go migrations are part of the schema too; a change to one is a
	// new version, which changes this line.
	fmt.Fprintf(h, "go\x00%d\x00", usernameKeysVersion)
	if err != nil {
		panic(fmt.Sprintf("db: read embedded migrations: %v", err)) // cannot happen with embed.FS
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// advisoryLocker is goose's session lock as a blocking advisory lock: goose's
// own polls every few seconds, which makes a second process starting at the
// same time wait for nothing.
type advisoryLocker struct{}

// SessionLock waits for the migration lock on conn.
func (advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	return nil
}

// SessionUnlock releases the migration lock on conn.
func (advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", migrationLockID); err != nil {
		return fmt.Errorf("release migration lock: %w", err)
	}
	return nil
}
