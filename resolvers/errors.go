package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
	"github.com/conduit-dev/conduit/web"
)

// errorCodes is the one table from the domain's error codes to GraphQL's:
// the extensions.code of a top-level error, and the code of a UserError
// when a mutation reports the error in its payload instead. Every mutation
// reports Invalid and Conflict there (userCodes); only login reports
// Unauthenticated, which for it means wrong credentials.
var errorCodes = map[conduit.Code]struct {
	extension string
	user      graph.UserErrorCode
}{
	conduit.Invalid:         {"BAD_USER_INPUT", graph.UserErrorCodeInvalid},
	conduit.Conflict:        {"CONFLICT", graph.UserErrorCodeConflict},
	conduit.Unauthenticated: {"UNAUTHENTICATED", graph.UserErrorCodeInvalidCredentials},
	conduit.Forbidden:       {"FORBIDDEN", ""},
	conduit.NotFound:        {"NOT_FOUND", ""},
	conduit.RateLimited:     {"RATE_LIMITED", ""},
	conduit.Unavailable:     {"SERVICE_UNAVAILABLE", ""},
	conduit.Canceled:        {"CANCELED", ""},
	conduit.TooSlow:         {"TOO_SLOW", ""},
	conduit.Internal:        {"INTERNAL_SERVER_ERROR", ""},
}

// internalMessage is all a client learns of an internal error.
const internalMessage = "internal server error"

// presentError turns the errors of resolvers into GraphQL errors: a domain
// error gets the extensions.code of its Code and a message made from its
// Fields; an internal error, or any error of unknown kind, is logged with
// the request id and reaches the client as "internal server error" with
// that id. Errors gqlgen made itself (parsing, validation, limits) pass as
// they are.
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var domain *conduit.Error
		switch {
		case errors.As(err, &domain):
		case gqlErr.Err == nil:
			return gqlErr
		default:
			domain = conduit.InternalError(err)
		}
		presented := *gqlErr
		presented.Err = nil
		presented.Message = domainMessage(domain)
		presented.Extensions = map[string]any{"code": errorCodes[domain.Code].extension}
		if domain.RetryAfter > 0 {
			presented.Extensions["retryAfter"] = int(domain.RetryAfter.Round(time.Second) / time.Second)
		}
		if domain.Code == conduit.Internal {
			id := web.RequestIDFromContext(ctx)
			presented.Message = internalMessage
			presented.Extensions["requestId"] = id
			logger.ErrorContext(ctx, "graphql: internal error",
				slog.String("request_id", id),
				slog.String("path", gqlErr.Path.String()),
				slog.Any("error", err),
			)
		}
		return &presented
	}
}

// recoverPanic turns a panic in a resolver into an internal error, which
// presentError logs and masks; the stack goes into the logged cause.
func recoverPanic(_ context.Context, v any) error {
	return conduit.InternalError(fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
}

// domainMessage writes the Fields of e as one sentence per message.
func domainMessage(e *conduit.Error) string {
	var msgs []string
	for _, f := range e.FieldNames() {
		for _, m := range e.Fields[f] {
			if f != conduit.NoField {
				m = fieldMessage(f, m)
			}
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		return strings.ReplaceAll(string(e.Code), "_", " ")
	}
	return strings.Join(msgs, "; ")
}

// fieldMessage puts the field name in front of a message about it, as in
// "title can't be blank", unless the message names its field already
// ("token expired").
func fieldMessage(field, message string) string {
	if strings.Contains(strings.ToLower(message), strings.ToLower(field)) {
		return message
	}
	return field + " " + message
}
