package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
)

const userColumns = `id, username, email, password_hash, bio, image, token_version, created_at, updated_at`

// profileColumns selects the user u as viewer $1 sees them.
const profileColumns = `u.id, u.username, u.bio, u.image,
	EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = $1 AND fo.followee_id = u.id) AS following`

// CreateUser inserts u. Returns Conflict on "username" and/or "email" when
// they are taken; emails compare case-insensitively.
func (d *DB) CreateUser(ctx context.Context, u conduit.User) (conduit.User, error) {
	var created conduit.User
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkTaken(ctx, tx, 0, conduit.Some(u.Username), conduit.Some(u.Email)); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `
			INSERT INTO users (username, username_key, email, password_hash, bio, image)
			VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING `+userColumns,
			u.Username, conduit.UsernameKey(u.Username), u.Email, u.PasswordHash, u.Bio, u.Image)
		var err error
		created, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[conduit.User])
		return err
	})
	return created, d.storeError("insert user", "", err)
}

// UserByID returns NotFound if there is no such user.
func (d *DB) UserByID(ctx context.Context, id int64) (conduit.User, error) {
	rows, _ := d.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[conduit.User])
	return u, d.storeError("select user", conduit.ThingUser, err)
}

// TokenVersion returns the token version of user id. Returns NotFound.
func (d *DB) TokenVersion(ctx context.Context, id int64) (int64, error) {
	var v int64
	err := d.pool.QueryRow(ctx, `SELECT token_version FROM users WHERE id = $1`, id).Scan(&v)
	return v, d.storeError("select token version", conduit.ThingUser, err)
}

// UserByEmail matches case-insensitively. Returns NotFound.
func (d *DB) UserByEmail(ctx context.Context, email string) (conduit.User, error) {
	rows, _ := d.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1::text)`, email)
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[conduit.User])
	return u, d.storeError("select user by email", conduit.ThingUser, err)
}

// UpdateUser applies the set fields of ch to user id and moves UpdatedAt;
// a new password hash moves the token version on. Returns NotFound, or
// Conflict like CreateUser; the user's own username and email are no clash.
func (d *DB) UpdateUser(ctx context.Context, id int64, ch conduit.UserChanges) (conduit.User, error) {
	sets := []string{"updated_at = now()"}
	args := []any{id}
	set := func(column string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", column, len(args)))
	}
	if ch.Username.Set {
		set("username", ch.Username.Value)
		set("username_key", conduit.UsernameKey(ch.Username.Value))
	}
	if ch.Email.Set {
		set("email", ch.Email.Value)
	}
	if ch.PasswordHash.Set {
		set("password_hash", ch.PasswordHash.Value)
		sets = append(sets, "token_version = token_version + 1")
	}
	if ch.Bio.Set {
		set("bio", ch.Bio.Value)
	}
	if ch.Image.Set {
		set("image", ch.Image.Value)
	}
	var updated conduit.User
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		if ch.Username.Set || ch.Email.Set {
			if err := checkTaken(ctx, tx, id, ch.Username, ch.Email); err != nil {
				return err
			}
		}
		rows, _ := tx.Query(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+
			` WHERE id = $1 RETURNING `+userColumns, args...)
		var err error
		updated, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[conduit.User])
		return err
	})
	return updated, d.storeError("update user", conduit.ThingUser, err)
}

// checkTaken returns Conflict naming each of username and email (when set)
// that belongs to a user other than id, so that a client learns about both
// at once. The unique constraints still guard against a racing insert, which
// storeError translates.
func checkTaken(ctx context.Context, q querier, id int64, username, email conduit.Optional[string]) error {
	var u, e *string
	if username.Set {
		key := conduit.UsernameKey(username.Value)
		u = &key
	}
	if email.Set {
		e = &email.Value
	}
	var usernameTaken, emailTaken bool
	err := q.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM users WHERE username_key = $2 AND id <> $1),
		       EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($3::text) AND id <> $1)`,
		id, u, e).Scan(&usernameTaken, &emailTaken)
	if err != nil {
		return fmt.Errorf("check username and email: %w", err)
	}
	var taken []string
	if usernameTaken {
		taken = append(taken, "username")
	}
	if emailTaken {
		taken = append(taken, "email")
	}
	if len(taken) > 0 {
		return conduit.TakenError(nil, taken...)
	}
	return nil
}

// ProfileByUsername returns NotFound if no user has the username.
func (d *DB) ProfileByUsername(ctx context.Context, viewerID int64, username string) (conduit.Profile, error) {
	rows, _ := d.pool.Query(ctx, `SELECT `+profileColumns+` FROM users u WHERE u.username = $2`, viewerID, username)
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[conduit.Profile])
	return p, d.storeError("select profile", conduit.ThingProfile, err)
}

// ProfilesByID returns the profiles of the users that exist, in any order.
func (d *DB) ProfilesByID(ctx context.Context, viewerID int64, ids []int64) ([]conduit.Profile, error) {
	rows, _ := d.pool.Query(ctx, `SELECT `+profileColumns+` FROM users u WHERE u.id = ANY($2)`, viewerID, ids)
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByName[conduit.Profile])
	if err != nil {
		return nil, d.storeError("select profiles", "", err)
	}
	return ps, nil
}

// Follow makes follower follow followee; doing it twice is not an error.
func (d *DB) Follow(ctx context.Context, followerID, followeeID int64) error {
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, followerID, followeeID)
		return err
	})
	return d.storeError("insert follow", "", err)
}

// Unfollow undoes Follow; undoing what is not there is not an error.
func (d *DB) Unfollow(ctx context.Context, followerID, followeeID int64) error {
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2`, followerID, followeeID)
		return err
	})
	return d.storeError("delete follow", "", err)
}

// FollowersAmong returns those of the candidate user ids that follow
// authorID, in ascending order, read from the index on (followee_id,
// follower_id).
func (d *DB) FollowersAmong(ctx context.Context, authorID int64, candidates []int64) ([]int64, error) {
	if len(candidates) == 0 {
		return []int64{}, nil
	}
	rows, _ := d.pool.Query(ctx, `
		SELECT follower_id FROM follows
		WHERE followee_id = $1 AND follower_id = ANY($2)
		ORDER BY follower_id`, authorID, candidates)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, d.storeError("select followers", "", err)
	}
	return ids, nil
}
