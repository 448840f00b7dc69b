package db

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/conduit-dev/conduit/conduit"
)

// SQLSTATEs the store acts on: a broken unique constraint, and the two
// aborts after which a transaction may simply run again.
const (
	uniqueViolation      = "23505"
	deadlockDetected     = "40P01"
	serializationFailure = "40001"
)

// uniqueFields names the input field each unique constraint guards.
var uniqueFields = map[string]string{
	"users_username_key": "username",
	"users_email_key":    "email",
	"articles_slug_key":  "slug",
}

// takenMessage is what a client reads about a value someone else has.
const takenMessage = "has already been taken"

// storeError translates err, met while doing op, into a domain error: no
// rows becomes NotFound saying notFound, a unique violation becomes Conflict
// on the field its constraint guards, and anything else is Internal.
// Domain errors pass through unchanged, so that a transaction's callback can
// return them.
func storeError(op, notFound string, err error) error {
	if err == nil {
		return nil
	}
	var de *conduit.Error
	if errors.As(err, &de) {
		return err
	}
	if notFound != "" && errors.Is(err, pgx.ErrNoRows) {
		return &conduit.Error{
			Code:   conduit.NotFound,
			Fields: map[string][]string{conduit.GeneralField: {notFound}},
			Err:    fmt.Errorf("%s: %w", op, err),
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		if field, ok := uniqueFields[pgErr.ConstraintName]; ok {
			return &conduit.Error{
				Code:   conduit.Conflict,
				Fields: map[string][]string{field: {takenMessage}},
				Err:    fmt.Errorf("%s: %w", op, err),
			}
		}
	}
	return conduit.InternalError(fmt.Errorf("%s: %w", op, err))
}

// notFound is the NotFound error of a lookup that found nothing without
// the database raising an error (an update or delete of no rows).
func notFound(message string) error {
	return conduit.Errorf(conduit.NotFound, "%s", message)
}

// conflict is the Conflict error listing every field whose value is taken.
func conflict(fields ...string) error {
	e := &conduit.Error{Code: conduit.Conflict, Fields: map[string][]string{}}
	for _, f := range fields {
		e.Fields[f] = []string{takenMessage}
	}
	return e
}
