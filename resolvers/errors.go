package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
	"github.com/conduit-dev/conduit/web"
)

// errorCodes is the one table from the domain's error codes to GraphQL's:
// the extensions.code of a top-level error, and the code of a UserError
// when a mutation reports the error in its payload instead.
var errorCodes = map[conduit.Code]struct {
	extension string
	user      graph.UserErrorCode
}{
	conduit.Invalid:         {"BAD_USER_INPUT", graph.UserErrorCodeInvalid},
	conduit.Conflict:        {"CONFLICT", graph.UserErrorCodeConflict},
	conduit.Unauthenticated: {"UNAUTHENTICATED", graph.UserErrorCodeInvalidCredentials},
	conduit.Forbidden:       {"FORBIDDEN", ""},
	conduit.NotFound:        {"NOT_FOUND", ""},
	conduit.Internal:        {"INTERNAL_SERVER_ERROR", ""},
}

// userCodes are the codes of the mistakes every mutation reports in its
// payload: the user can correct them and try again.
var userCodes = []conduit.Code{conduit.Invalid, conduit.Conflict}

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
			if f != conduit.GeneralField {
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

// outcome sorts the result of the service call behind a mutation: on
// success the value; for a mistake the user can fix (userCodes and the
// extra codes the mutation names) no value and the user errors; for
// anything else the error, which goes to the top level. The user errors
// are an empty list, not null, on success.
func outcome[T any](ctx context.Context, v T, err error, extra ...conduit.Code) (*T, []*graph.UserError, error) {
	if err == nil {
		return &v, []*graph.UserError{}, nil
	}
	var e *conduit.Error
	if !errors.As(err, &e) || !(slices.Contains(userCodes, e.Code) || slices.Contains(extra, e.Code)) {
		return nil, nil, err
	}
	input := inputFields(ctx)
	var out []*graph.UserError
	for _, f := range e.FieldNames() {
		// The domain's general key is also the name of a real input field
		// (an article's or a comment's body); the input decides which it is.
		var path []string
		if input[f] {
			path = []string{"input", f}
		}
		for _, m := range e.Fields[f] {
			if path != nil || f != conduit.GeneralField {
				m = fieldMessage(f, m)
			}
			out = append(out, &graph.UserError{Field: path, Message: m, Code: errorCodes[e.Code].user})
		}
	}
	return nil, out, nil
}

// inputFields returns the names of the fields of the input object that the
// current mutation takes as its argument "input". The domain names its
// error fields after the same words, so a message about one of them can
// point at it; a message about anything else (a slug the title led to, the
// pair "email or password") points at no field.
func inputFields(ctx context.Context) map[string]bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Definition == nil {
		return nil
	}
	arg := fc.Field.Definition.Arguments.ForName("input")
	if arg == nil {
		return nil
	}
	def := schema.Types[arg.Type.Name()]
	if def == nil || def.Kind != ast.InputObject {
		return nil
	}
	names := make(map[string]bool, len(def.Fields))
	for _, f := range def.Fields {
		names[f.Name] = true
	}
	return names
}

// schema is the parsed schema, for the names of input fields.
var schema = graph.NewExecutableSchema(graph.Config{}).Schema()
