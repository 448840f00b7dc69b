package conduit

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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
	Internal        Code = "internal"
)

// GeneralField is the Fields key of messages that belong to no one field.
const GeneralField = "body"

// Error is the one error type of the domain. Fields holds user-facing
// messages keyed by the input field they concern; Err is the cause, for logs
// only.
type Error struct {
	Code   Code
	Fields map[string][]string
	Err    error
}

// Error describes the error for logs.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	for _, f := range e.FieldNames() {
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

// FieldNames returns the keys of Fields in a stable order.
func (e *Error) FieldNames() []string {
	return slices.Sorted(maps.Keys(e.Fields))
}

// Errorf returns an Error with code whose message belongs to no field.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Fields: map[string][]string{GeneralField: {fmt.Sprintf(format, args...)}}}
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
