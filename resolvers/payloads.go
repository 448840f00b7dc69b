package resolvers

import (
	"context"
	"errors"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
)

// userCodes are the codes of the mistakes every mutation reports in its
// payload: the user can correct them and try again.
var userCodes = []conduit.Code{conduit.Invalid, conduit.Conflict}

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
		var path []string
		if input[f] {
			path = []string{"input", f}
		}
		for _, m := range e.Fields[f] {
			if f != conduit.NoField {
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

// session splits the result of a sign-in like outcome does, into the
// account and its token.
func session(ctx context.Context, s conduit.Session, err error, extra ...conduit.Code) (*conduit.User, *string, []*graph.UserError, error) {
	v, userErrors, err := outcome(ctx, s, err, extra...)
	if v == nil {
		return nil, nil, userErrors, err
	}
	return &v.User, &v.Token, userErrors, nil
}
