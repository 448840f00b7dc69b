package resolvers

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// GraphQL's Int is a signed 32-bit integer, and the specification wants a
// value out of that range refused as a request error: in the document by
// validation, in the variables before execution. gqlparser checks neither
// (it reads Int literals and variables as 64-bit), and graph.UnmarshalInt,
// which does, runs only when the field does, where its error would be a
// field error beside partial data. So the handler checks both up front:
// validationRules adds a rule for literals, and int32Variables checks the
// variables of each request.

// int32LiteralsRule refuses Int literals (arguments, list items, input
// object fields, variable defaults) that do not fit in 32 bits. The
// walker has typed each value by then.
var int32LiteralsRule = core.Rule{
	Name: "Int32Literals",
	RuleFunc: func(observers *core.Events, addError core.AddErrFunc) {
		observers.OnValue(func(_ *core.Walker, v *ast.Value) {
			if v.Kind != ast.IntValue || v.Definition == nil || v.Definition.Name != "Int" {
				return
			}
			if _, err := strconv.ParseInt(v.Raw, 10, 32); err != nil {
				addError(core.Message("Int cannot represent non 32-bit signed integer value: %s", v.Raw), core.At(v.Position))
			}
		})
	},
}

// validationRules returns gqlparser's rules and ours.
func validationRules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.AddRule(int32LiteralsRule.Name, int32LiteralsRule.RuleFunc)
	return r
}

// int32Variables refuses requests whose variables give an Int a value
// that does not fit in 32 bits, as gqlgen refuses variables of the wrong
// type: a request error with code GRAPHQL_VALIDATION_FAILED.
type int32Variables struct {
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &int32Variables{}

// ExtensionName names the extension in gqlgen's list.
func (*int32Variables) ExtensionName() string { return "Int32Variables" }

// Validate keeps the schema, which types the fields of input objects.
func (c *int32Variables) Validate(es graphql.ExecutableSchema) error {
	c.schema = es.Schema()
	return nil
}

// MutateOperationContext checks the variables, once gqlgen has coerced them.
func (c *int32Variables) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	for _, def := range opCtx.Operation.VariableDefinitions {
		v, ok := opCtx.Variables[def.Variable]
		if !ok {
			continue
		}
		if name := def.Type.Name(); name != "Int" {
			// A variable of another scalar or of an enum holds no Int,
			// and needs no walk (nor the path made for it).
			if d := c.schema.Types[name]; d == nil || d.Kind != ast.InputObject {
				continue
			}
		}
		path := ast.Path{ast.PathName("variable"), ast.PathName(def.Variable)}
		if bad, at := c.find(def.Type, v, path); bad != nil {
			err := gqlerror.ErrorPathf(at, "Variable \"$%s\" got invalid value %v; Int cannot represent non 32-bit signed integer value: %v", def.Variable, bad, bad)
			errcode.Set(err, errcode.ValidationFailed)
			return err
		}
	}
	return nil
}

// find returns the first value under v, of type t, that is an Int out of
// range, and its path; nil when there is none.
func (c *int32Variables) find(t *ast.Type, v any, path ast.Path) (any, ast.Path) {
	if v == nil {
		return nil, nil
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			// A single value where a list is expected stands for a list of one.
			return c.find(t.Elem, v, path)
		}
		for i, item := range list {
			if bad, at := c.find(t.Elem, item, append(path[:len(path):len(path)], ast.PathIndex(i))); bad != nil {
				return bad, at
			}
		}
		return nil, nil
	}
	if t.NamedType == "Int" {
		if !fitsInt32(v) {
			return v, path
		}
		return nil, nil
	}
	def := c.schema.Types[t.NamedType]
	obj, ok := v.(map[string]any)
	if def == nil || def.Kind != ast.InputObject || !ok {
		return nil, nil
	}
	for _, f := range def.Fields {
		if fv, ok := obj[f.Name]; ok {
			if bad, at := c.find(f.Type, fv, append(path[:len(path):len(path)], ast.PathName(f.Name))); bad != nil {
				return bad, at
			}
		}
	}
	return nil, nil
}

// fitsInt32 tells whether v, a variable's value for an Int as gqlgen has
// coerced it (whatever survived its checks: Go integers, json.Number,
// whole float64s, numeric strings), lies in the 32-bit range. Values that
// are not numbers at all are left to gqlgen, which has judged them.
func fitsInt32(v any) bool {
	switch n := v.(type) {
	case int:
		return n >= math.MinInt32 && n <= math.MaxInt32
	case int64:
		return n >= math.MinInt32 && n <= math.MaxInt32
	case int32:
		return true
	case float64:
		return n >= math.MinInt32 && n <= math.MaxInt32
	case json.Number:
		return fitsInt32String(string(n))
	case string:
		return fitsInt32String(n)
	}
	return true
}

// fitsInt32String refuses only integers too big: text that is no integer
// at all is gqlgen's to judge.
func fitsInt32String(s string) bool {
	_, err := strconv.ParseInt(s, 10, 32)
	return !errors.Is(err, strconv.ErrRange)
}
