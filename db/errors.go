package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/conduit-dev/conduit/conduit"
)

// SQLSTATEs the store acts on.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	deadlockDetected     = "40P01"
	serializationFailure = "40001"
	// Text PostgreSQL cannot store: a NUL byte, or bytes that are not UTF-8.
	characterNotInRepertoire = "22021"
	untranslatableCharacter  = "22P05"
	// The server ran out of time for the statement (statement_timeout) or
	// was asked to cancel it.
	queryCanceled = "57014"
	// The server is going away or is not there yet: shutting down, crashed,
	// starting up, or out of connection slots.
	adminShutdown      = "57P01"
	crashShutdown      = "57P02"
	cannotConnectNow   = "57P03"
	tooManyConnections = "53300"
)

// uniqueFields names the input field each unique constraint guards.
var uniqueFields = map[string]string{
	"users_username_key":      "username",
	"users_username_fold_key": "username",
	"users_email_key":         "email",
	"articles_slug_key":       "slug",
}

// foreignKeys says what has gone missing when a foreign key breaks: a row
// that a write refers to was deleted while it ran (an article deleted while
// someone comments on it, a user deleted while their token is in use).
var foreignKeys = map[string]func(cause error) *conduit.Error{
	"comments_article_id_fkey":     articleGone,
	"favorites_article_id_fkey":    articleGone,
	"article_tags_article_id_fkey": articleGone,
	"follows_followee_id_fkey":     func(cause error) *conduit.Error { return conduit.NotFoundError(conduit.ThingProfile, cause) },
	"comments_author_id_fkey":      conduit.ErrUserGone,
	"articles_author_id_fkey":      conduit.ErrUserGone,
	"favorites_user_id_fkey":       conduit.ErrUserGone,
	"follows_follower_id_fkey":     conduit.ErrUserGone,
}

func articleGone(cause error) *conduit.Error {
	return conduit.NotFoundError(conduit.ThingArticle, cause)
}

// storeError translates err, met while doing op, into a domain error; it is
// the one place that knows SQLSTATEs. No rows becomes NotFound about thing
// (when thing is set), a unique violation Conflict on the field its
// constraint guards, a broken foreign key NotFound or Unauthenticated
// (whatever went missing), text PostgreSQL cannot store Invalid, an
// unreachable or too slow database Unavailable, a caller that went away
// Canceled, and anything else Internal. Domain errors pass through
// unchanged, so that a transaction's callback can return them.
func (d *DB) storeError(op, thing string, err error) error {
	if err == nil {
		return nil
	}
	var de *conduit.Error
	if errors.As(err, &de) {
		return err
	}
	cause := fmt.Errorf("%s: %w", op, err)
	if thing != "" && errors.Is(err, pgx.ErrNoRows) {
		return conduit.NotFoundError(thing, cause)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case uniqueViolation:
			if field, ok := uniqueFields[pgErr.ConstraintName]; ok {
				return conduit.TakenError(cause, field)
			}
		case foreignKeyViolation:
			if gone, ok := foreignKeys[pgErr.ConstraintName]; ok {
				return gone(cause)
			}
		case characterNotInRepertoire, untranslatableCharacter:
			// The service refuses such text before it gets here; this
			// keeps a missed input a client mistake all the same.
			return &conduit.Error{Code: conduit.Invalid, Fields: map[string][]string{conduit.NoField: {"text must be valid UTF-8 without NUL characters"}}, Err: cause}
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return conduit.CanceledError(cause)
	case unavailable(err):
		d.outage(cause)
		return conduit.UnavailableError(cause)
	}
	return conduit.InternalError(cause)
}

// unavailable tells whether err says that the database could not be
// reached or did not answer in time, rather than that the statement was
// wrong: then the same statement may well succeed a moment later.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case queryCanceled, adminShutdown, crashShutdown, cannotConnectNow, tooManyConnections,
			deadlockDetected, serializationFailure: // still aborted after inTx's attempts
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection exceptions
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) ||
		errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, pgconn.ErrConnClosed) // a connection that broke under an earlier statement
}

// outage notes that the database is unavailable. It is logged once per
// outage, not once per failed request: the first failure says so, and the
// first statement to succeed afterwards (see tracer) says it is over.
func (d *DB) outage(cause error) {
	if d.down.CompareAndSwap(false, true) {
		d.logger.Error("database unavailable: requests fail with 503 until it answers again", slog.Any("error", cause))
	}
}

// recovered notes a statement that succeeded, which ends an outage.
func (d *DB) recovered() {
	if d.down.Load() && d.down.CompareAndSwap(true, false) {
		d.logger.Info("database available again")
	}
}
