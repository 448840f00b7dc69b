package db

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/conduit-dev/conduit/conduit"
)

// usernameKeysVersion is the migration that makes usernames unique by
// conduit.UsernameKey. It is written in Go because the key (NFKC and
// Unicode case folding) must be computed exactly as the service computes
// it, which PostgreSQL's lower() and collations do not promise.
const usernameKeysVersion = 4

// usernameKeys returns the migration that adds users.username_key, fills it
// for the existing users and makes it unique. Existing accounts whose names
// share a key are not renamed: the oldest keeps the key, the others keep
// their names with no key (so no new account can take a name like theirs)
// and are reported to logger, for an operator to settle with their owners.
func usernameKeys(logger *slog.Logger) *goose.Migration {
	up := func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE users ADD COLUMN username_key text`); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, username FROM users ORDER BY id`)
		if err != nil {
			return err
		}
		type user struct {
			id   int64
			name string
		}
		owner := map[string]user{}
		clashes := map[string][]user{}
		var ids []int64
		var keys []string
		for rows.Next() {
			var u user
			if err := rows.Scan(&u.id, &u.name); err != nil {
				rows.Close()
				return err
			}
			key := conduit.UsernameKey(u.name)
			if _, taken := owner[key]; taken {
				clashes[key] = append(clashes[key], u)
				continue
			}
			owner[key] = u
			ids = append(ids, u.id)
			keys = append(keys, key)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) > 0 {
			// One statement for every user (pgx's database/sql driver
			// sends slices as arrays).
			if _, err := tx.ExecContext(ctx, `
				UPDATE users u SET username_key = k.key
				FROM unnest($1::bigint[], $2::text[]) AS k(id, key)
				WHERE u.id = k.id`, ids, keys); err != nil {
				return fmt.Errorf("fill username keys: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE UNIQUE INDEX users_username_fold_key ON users (username_key)`); err != nil {
			return err
		}
		for key, others := range clashes {
			names := make([]string, len(others))
			for i, u := range others {
				names[i] = fmt.Sprintf("%q (id %d)", u.name, u.id)
			}
			first := owner[key]
			logger.Warn("usernames that differ only by case or Unicode form: the oldest keeps the name, the others keep theirs but should be renamed",
				slog.String("kept", fmt.Sprintf("%q (id %d)", first.name, first.id)),
				slog.String("clashing", strings.Join(names, ", ")))
		}
		return nil
	}
	down := func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `ALTER TABLE users DROP COLUMN username_key`)
		return err
	}
	return goose.NewGoMigration(usernameKeysVersion, &goose.GoFunc{RunTx: up}, &goose.GoFunc{RunTx: down})
}
