package resolvers

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"weak"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// costLimit refuses operations that cost more than max, before anything
// runs. The cost of a field is what the schema's complexity functions say
// (complexity() in limits.go), or 1 plus the cost of its selections; the
// introspection fields cost a flat price each (schemaCost, typeCost).
//
// It replaces gqlgen's extension.FixedComplexityLimit, which walks a
// fragment again at every spread: a chain of fragments each spreading the
// next twice doubles the walk per fragment, and 40 of them (1.6 KB) never
// finish. Here a fragment's cost is computed once per operation and reused
// at every spread; the fragment's fields are typed by its type condition
// and the variables are the operation's, so the cost does not depend on
// where it is spread. The walk is bounded anyway: it visits at most
// maxNodes selections, stops when the request is cancelled, and the sums
// saturate rather than overflow, so no document measures as cheap by
// wrapping around.
//
// It runs after validation, which has resolved each field's definition and
// ruled out unknown fragments and cycles of fragments.
//
// The cost of an operation is kept with it while gqlgen's cache of parsed
// documents keeps the operation (see costs), unless a priced argument of
// it is a variable: the walk cost about 3% of the server's CPU on one
// article by slug under load, to find the same number every time.
type costLimit struct {
	max, maxNodes int
	es            graphql.ExecutableSchema
	// costs maps an operation, weakly, to its cost: the same document
	// parsed again is another operation, and one that gqlgen has dropped
	// is collected, and its entry with it.
	costs sync.Map // weak.Pointer[ast.OperationDefinition] → int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &costLimit{}

// ExtensionName names the extension in gqlgen's list.
func (*costLimit) ExtensionName() string { return "CostLimit" }

// Validate keeps the schema, whose Complexity method prices the fields.
func (c *costLimit) Validate(es graphql.ExecutableSchema) error {
	if es == nil {
		return errors.New("cost limit: no schema")
	}
	c.es = es
	return nil
}

// MutateOperationContext prices the operation about to run. It sets no
// entry in gqlgen's stats (extension.FixedComplexityLimit sets one, for
// tracers that read it): nothing here reads it, and it cost two
// allocations per operation.
func (c *costLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	cost, err := c.price(ctx, opCtx)
	switch {
	case err != nil:
		return limitError("COMPLEXITY_LIMIT_EXCEEDED", nil, "the operation's cost could not be measured: %v", err)
	case cost > c.max:
		return limitError("COMPLEXITY_LIMIT_EXCEEDED", nil, "operation has complexity %d, which exceeds the limit of %d", cost, c.max)
	}
	return nil
}

// price returns the cost of the operation of opCtx, kept or measured.
func (c *costLimit) price(ctx context.Context, opCtx *graphql.OperationContext) (int, error) {
	op := weak.Make(opCtx.Operation)
	if v, ok := c.costs.Load(op); ok {
		return v.(int), nil
	}
	m := costMeter{
		ctx:       ctx,
		es:        c.es,
		vars:      opCtx.Variables,
		nodesLeft: c.maxNodes,
	}
	cost, err := m.set(opCtx.Operation.SelectionSet), m.err
	if err == nil && !m.variable {
		c.keep(opCtx.Operation, op, cost)
	}
	return cost, err
}

// keep remembers the cost of operation o (weakly, as w) until o is
// collected.
func (c *costLimit) keep(o *ast.OperationDefinition, w weak.Pointer[ast.OperationDefinition], cost int) {
	if _, loaded := c.costs.LoadOrStore(w, cost); !loaded {
		runtime.AddCleanup(o, func(w weak.Pointer[ast.OperationDefinition]) { c.costs.Delete(w) }, w)
	}
}

// errTooManyNodes stops a walk that has visited its budget of selections.
var errTooManyNodes = errors.New("it has too many selections")

// fragmentCost is the cost of a fragment, once known.
type fragmentCost struct {
	measuring, done bool
	cost            int
}

type costMeter struct {
	ctx       context.Context
	es        graphql.ExecutableSchema
	vars      map[string]any
	nodesLeft int
	fragments map[string]*fragmentCost
	err       error
	// variable says that the cost read a variable: a priced argument
	// (pricedArguments) was one, or held one.
	variable bool
}

// set returns the cost of a selection set; once the walk has failed, it
// returns maxCount for anything.
func (m *costMeter) set(set ast.SelectionSet) int {
	cost := 0
	for _, sel := range set {
		if m.err != nil {
			return maxCount
		}
		if m.nodesLeft--; m.nodesLeft < 0 {
			m.err = errTooManyNodes
			return maxCount
		}
		// Checking the context costs a little; once in 64 selections is
		// often enough to notice a client gone while measuring.
		if m.nodesLeft%64 == 0 && m.ctx.Err() != nil {
			m.err = m.ctx.Err()
			return maxCount
		}
		switch s := sel.(type) {
		case *ast.Field:
			cost = satAdd(cost, m.field(s))
		case *ast.InlineFragment:
			cost = satAdd(cost, m.set(s.SelectionSet))
		case *ast.FragmentSpread:
			cost = satAdd(cost, m.fragment(s))
		}
	}
	return cost
}

func (m *costMeter) fragment(s *ast.FragmentSpread) int {
	if s.Definition == nil {
		return 0
	}
	fc := m.fragments[s.Name]
	if fc == nil {
		if m.fragments == nil {
			m.fragments = map[string]*fragmentCost{}
		}
		fc = &fragmentCost{}
		m.fragments[s.Name] = fc
	}
	switch {
	case fc.done:
		return fc.cost
	case fc.measuring:
		return 0
	}
	fc.measuring = true
	fc.cost = m.set(s.Definition.SelectionSet)
	fc.measuring, fc.done = false, true
	return fc.cost
}

func (m *costMeter) field(f *ast.Field) int {
	switch f.Name {
	case "__schema":
		return schemaCost
	case "__type":
		return typeCost
	}
	if f.Definition == nil || f.ObjectDefinition == nil {
		return 1
	}
	child := 0
	if def := m.es.Schema().Types[f.Definition.Type.Name()]; def != nil {
		switch def.Kind {
		case ast.Object, ast.Interface, ast.Union:
			child = m.set(f.SelectionSet)
		}
	}
	// A field without arguments has none to price it by: the map would
	// be empty, and made for every such field of every request.
	var args map[string]any
	if len(f.Definition.Arguments) > 0 {
		args = f.ArgumentMap(m.vars)
		for _, a := range f.Arguments {
			m.variable = m.variable || pricedArguments[a.Name] && holdsVariable(a.Value)
		}
	}
	if f.ObjectDefinition.Kind != ast.Interface {
		return m.price(f.ObjectDefinition.Name, f.Name, child, args)
	}
	// A field of an interface costs what it costs on the dearest type
	// that implements it.
	cost := 0
	for _, t := range m.es.Schema().GetPossibleTypes(f.ObjectDefinition) {
		cost = max(cost, m.price(t.Name, f.Name, child, args))
	}
	return cost
}

// price asks the schema's complexity functions for the cost of a field of
// a type; a field without one costs 1 plus its selections.
func (m *costMeter) price(typeName, field string, child int, args map[string]any) int {
	if c, ok := m.es.Complexity(m.ctx, typeName, field, child, args); ok && c >= 1 {
		return min(c, maxCount)
	}
	return satAdd(1, child)
}

// holdsVariable says whether v is a variable or a list or object with one
// in it.
func holdsVariable(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return true
	}
	for _, c := range v.Children {
		if holdsVariable(c.Value) {
			return true
		}
	}
	return false
}
