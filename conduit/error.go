package conduit

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Code classifies an Error. Each surface maps a code to its own wire form in
// exactly one table.
type Code string

// The error codes.
const (
	Invalid         Code = "invalid"
	Conflict        Code = "conflict"
	Unauthenticated Code = "unauthenticated"
	Forbidden       Code = "forbidden"
	NotFound        Code = "not_found"
	// RateLimited: the caller tried too often; Error.RetryAfter says when
	// to try again.
	RateLimited Code = "rate_limited"
	// Unavailable: a dependency (the database) is down or too slow, or the
	// replica is too busy; nothing was done and the same call may succeed
	// after Error.RetryAfter.
	Unavailable Code = "unavailable"
	// TooSlow: the caller did not keep up with what it asked for (a live
	// subscription whose events it did not read in time), so it was ended;
	// asking again starts afresh, and what was missed must be read anew.
	TooSlow Code = "too_slow"
	// Canceled: the caller went away before the work was done. Nobody reads
	// the answer; it is not a failure of the server.
	Canceled Code = "canceled"
	Internal Code = "internal"
)

// NoField is the Fields key of messages that concern no one input field.
// Each surface decides how to show them (the legacy envelope files them
// under "body", GraphQL points them at no field).
const NoField = ""

// Error is the one error type of the domain. Fields holds user-facing
// messages keyed by the input field they concern (NoField for none); Err
// is the cause, for logs only.
type Error struct {
	Code   Code
	Fields map[string][]string
	Err    error
	// RetryAfter, for RateLimited and Unavailable, is how long the caller
	// should wait before trying again.
	RetryAfter time.Duration
}

// Error describes the error for logs.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	for _, f := range e.FieldNames() {
		if f == NoField {
			fmt.Fprintf(&b, "; %s", strings.Join(e.Fields[f], ", "))
			continue
		}
		fmt.Fprintf(&b, "; %s: %s", f, strings.Join(e.Fields[f], ", "))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// FieldNames returns the keys of Fields in a stable order, NoField first.
func (e *Error) FieldNames() []string {
	return slices.Sorted(maps.Keys(e.Fields))
}

// Errorf returns an Error with code whose message belongs to no field.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Fields: map[string][]string{NoField: {fmt.Sprintf(format, args...)}}}
}

// FieldError returns an Error with code and one message on field.
func FieldError(code Code, field, message string) *Error {
	return &Error{Code: code, Fields: map[string][]string{field: {message}}}
}

// InternalError wraps a failure the client cannot do anything about. Its
// text is never shown to a client.
func InternalError(err error) *Error {
	return &Error{Code: Internal, Err: err}
}

// The things a NotFound error can be about.
const (
	ThingUser    = "user"
	ThingProfile = "profile"
	ThingArticle = "article"
	ThingComment = "comment"
)

// NotFoundError says that the thing (ThingArticle, …) does not exist.
// Adapters name the thing; the domain words the message.
func NotFoundError(thing string, cause error) *Error {
	return &Error{Code: NotFound, Fields: map[string][]string{NoField: {thing + " not found"}}, Err: cause}
}

// TakenError is the Conflict of values that belong to someone else: each
// of fields is "already taken".
func TakenError(cause error, fields ...string) *Error {
	e := &Error{Code: Conflict, Fields: make(map[string][]string, len(fields)), Err: cause}
	for _, f := range fields {
		e.Fields[f] = []string{"has already been taken"}
	}
	return e
}

// ErrUserGone is the answer to a valid token whose user no longer exists.
func ErrUserGone(cause error) *Error {
	return &Error{Code: Unauthenticated, Fields: map[string][]string{"token": {"the token's user does not exist"}}, Err: cause}
}

// unavailableRetry is how long a client should wait after Unavailable: the
// database usually returns within seconds, and a restart takes a few.
const unavailableRetry = 2 * time.Second

// UnavailableError wraps a failure of a dependency that is down or too
// slow (cause says which, for logs).
func UnavailableError(cause error) *Error {
	return &Error{
		Code:       Unavailable,
		Fields:     map[string][]string{NoField: {"the service is temporarily unavailable; try again shortly"}},
		Err:        cause,
		RetryAfter: unavailableRetry,
	}
}

// CanceledError wraps the cancellation of a call whose caller went away.
func CanceledError(cause error) *Error {
	return &Error{Code: Canceled, Fields: map[string][]string{NoField: {"the request was canceled"}}, Err: cause}
}

// ErrorCode returns the code of err: the Code of an *Error in its chain,
// Internal for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// AsError returns err as an *Error, wrapping errors of unknown kind as
// Internal ones. It returns nil for nil.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return InternalError(err)
}

// problems collects validation messages by field.
type problems map[string][]string

func (p problems) add(field, message string) { p[field] = append(p[field], message) }

// err returns an Invalid error listing every problem, or nil if there is none.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Fields: p}
}
