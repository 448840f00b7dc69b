package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// marshalList marshals the elements of a list of objects. gqlgen's
// generated code calls graphql.MarshalSliceConcurrently for every such
// list, which starts one goroutine per element whatever the element's
// fields do; go generate rewrites those calls to this one (graph/gen).
//
// A goroutine per element pays for itself only when an element waits:
// a field that runs a resolver of its own (a loader collecting keys,
// a statement) goes on while its siblings start theirs. A list whose
// selection holds no such field, at any depth, only copies fields out of
// structs: on its own goroutine each element also grows a new stack
// through gqlgen's deep calls, which cost 10% of the CPU of a page of 20
// comments, and more in scheduling. So such a list is marshalled in order,
// on the caller's goroutine, with the same per-element field context and
// panic handling as gqlgen's.
func marshalList(ctx context.Context, sel ast.SelectionSet, length int, workerLimit int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	if length < 2 || waits(sel) {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	ret := make(graphql.Array, length)
	for i := range length {
		ret[i] = marshalInOrder(graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i}), i, omitPanicHandler, marshalElement)
	}
	return ret
}

// marshalInOrder marshals element i, recovering a panic as
// graphql.MarshalSliceConcurrently does: an error at the element's path
// and a null in its place.
func marshalInOrder(ctx context.Context, i int, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) (ret graphql.Marshaler) {
	if !omitPanicHandler {
		defer func() {
			if r := recover(); r != nil {
				graphql.AddError(ctx, graphql.Recover(ctx, r))
				ret = graphql.Null
			}
		}()
	}
	return marshalElement(ctx, i)
}

// fieldKey names a field of a type: the type is the one the field is
// selected on, so an interface's name for a field selected through it.
type fieldKey struct{ typ, field string }

// waits tells whether sel selects, at any depth, a field that gqlgen runs
// concurrently (concurrentFields, generated from the schema's
// configuration). It errs towards yes: a field or fragment the validator
// left without its definition counts as one.
func waits(sel ast.SelectionSet) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.ObjectDefinition == nil {
				return true
			}
			if _, ok := concurrentFields[fieldKey{s.ObjectDefinition.Name, s.Name}]; ok {
				return true
			}
			if waits(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if waits(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || waits(s.Definition.SelectionSet) {
				return true
			}
		default:
			return true
		}
	}
	return false
}
