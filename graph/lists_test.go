package graph

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// nodesOf returns the selection of the innermost `nodes` field of query,
// validated against the schema: the selection a list of its elements is
// marshalled with.
func nodesOf(t *testing.T, query string) ast.SelectionSet {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(NewExecutableSchema(Config{}).Schema(), query, nil)
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	var nodes ast.SelectionSet
	var find func(ast.SelectionSet)
	find = func(sel ast.SelectionSet) {
		for _, s := range sel {
			switch s := s.(type) {
			case *ast.Field:
				if s.Name == "nodes" {
					nodes = s.SelectionSet
				}
				find(s.SelectionSet)
			case *ast.InlineFragment:
				find(s.SelectionSet)
			case *ast.FragmentSpread:
				find(s.Definition.SelectionSet)
			}
		}
	}
	find(doc.Operations[0].SelectionSet)
	if nodes == nil {
		t.Fatalf("%s: no nodes", query)
	}
	return nodes
}

func TestWaits(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        bool
	}{
		{"PlainFields", `{ articles(first: 2) { nodes { __typename id slug tagList author { username following } } } }`, false},
		{"BatchResolver", `{ articles(first: 2) { nodes { slug comments(first: 1) { totalCount } } } }`, false},
		{"Resolver", `{ article(slug: "a") { comments(first: 2) { nodes { body article { slug } } } } }`, true},
		{"Aliased", `{ article(slug: "a") { comments(first: 2) { nodes { on: article { slug } } } } }`, true},
		{"Deep", `{ articles(first: 2) { nodes { author { articles(first: 1) { totalCount } } } } }`, true},
		{"InlineFragment", `{ article(slug: "a") { comments(first: 2) { nodes { ... on Comment { article { slug } } } } } }`, true},
		{"NamedFragment", `query { article(slug: "a") { comments(first: 2) { nodes { ...c } } } } fragment c on Comment { article { slug } }`, true},
		{"PlainFragment", `query { article(slug: "a") { comments(first: 2) { nodes { ...c } } } } fragment c on Comment { body }`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := waits(nodesOf(t, tc.query)); got != tc.want {
				t.Errorf("waits = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("WithoutDefinitions", func(t *testing.T) {
		// What the validator did not resolve counts as waiting.
		if !waits(ast.SelectionSet{&ast.Field{Name: "body"}}) {
			t.Error("a field without its type: waits = false")
		}
		if !waits(ast.SelectionSet{&ast.FragmentSpread{Name: "c"}}) {
			t.Error("a fragment without its definition: waits = false")
		}
	})
}

// TestMarshalListInOrder marshals a list in order and proves that a panic
// of one element is what gqlgen's concurrent marshaling makes of it: that
// element null, an error at its path, the others written.
func TestMarshalListInOrder(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
		func(ctx context.Context, err any) error { return errors.New("internal system error") })
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "nodes"}}})
	sel := nodesOf(t, `{ articles(first: 3) { nodes { slug } } }`)
	var order []int
	list := marshalList(ctx, sel, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		order = append(order, i) // no lock: in order means on this goroutine
		if i == 1 {
			panic("element 1")
		}
		return graphql.MarshalInt(i)
	})
	var b strings.Builder
	list.MarshalGQL(&b)
	if got, want := b.String(), "[0,null,2]"; got != want {
		t.Errorf("list = %s, want %s", got, want)
	}
	if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Errorf("elements marshalled in order %v, want [0 1 2]", order)
	}
	errs := graphql.GetErrors(ctx)
	if len(errs) != 1 || errs[0].Message != "internal system error" || errs[0].Path.String() != "nodes[1]" {
		t.Errorf("errors = %v, want one internal system error at nodes[1]", errs)
	}
}
