package resolvers

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
)

// The cost of fields beyond the default (1 plus the cost of what they select).
const (
	// mutationCost is what any write adds: a transaction.
	mutationCost = 50
	// passwordCost is what a mutation that hashes or checks a password adds:
	// bcrypt is slow on purpose.
	passwordCost = 1000
)

// complexity prices the fields whose cost the default rule (one per field)
// gets wrong: a connection costs its page size times what each item selects,
// so `articles(first: 100) { nodes { comments(first: 100) { ... } } }` is as
// expensive as the rows it could touch; mutations cost what they write.
func complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	c.Query.Articles = func(child int, first *int, _ *string, last *int, _ *string, _ *conduit.ArticleFilter) int {
		return connectionCost(child, first, last)
	}
	c.Query.Feed = func(child int, first *int, _ *string) int { return connectionCost(child, first, nil) }
	c.Profile.Articles = func(child int, first *int, _ *string) int { return connectionCost(child, first, nil) }
	c.Article.Comments = func(child int, first *int, _ *string) int { return connectionCost(child, first, nil) }

	c.Mutation.Login = func(child int, _ conduit.LoginInput) int { return child + passwordCost }
	c.Mutation.Register = func(child int, _ conduit.RegisterInput) int { return child + passwordCost }
	c.Mutation.UpdateViewer = func(child int, _ graph.UpdateViewerInput) int { return child + passwordCost }
	c.Mutation.FollowProfile = func(child int, _ graph.FollowProfileInput) int { return child + mutationCost }
	c.Mutation.UnfollowProfile = func(child int, _ graph.UnfollowProfileInput) int { return child + mutationCost }
	c.Mutation.CreateArticle = func(child int, _ conduit.CreateArticleInput) int { return child + mutationCost }
	c.Mutation.UpdateArticle = func(child int, _ graph.UpdateArticleInput) int { return child + mutationCost }
	c.Mutation.DeleteArticle = func(child int, _ graph.DeleteArticleInput) int { return child + mutationCost }
	c.Mutation.FavoriteArticle = func(child int, _ graph.FavoriteArticleInput) int { return child + mutationCost }
	c.Mutation.UnfavoriteArticle = func(child int, _ graph.UnfavoriteArticleInput) int { return child + mutationCost }
	c.Mutation.AddComment = func(child int, _ graph.AddCommentInput) int { return child + mutationCost }
	c.Mutation.DeleteComment = func(child int, _ graph.DeleteCommentInput) int { return child + mutationCost }
	return c
}

// connectionCost is the cost of a connection field: one for the field,
// plus its children once per item of the largest page it may return.
func connectionCost(child int, first, last *int) int {
	n := conduit.DefaultPageSize
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	n = min(max(n, 1), conduit.MaxPageSize)
	return 1 + n*child
}

// depthLimit refuses operations whose selections nest deeper than max
// fields, before anything runs. Introspection fields are not counted:
// GraphiQL's introspection query is deep by nature, and gqlparser bounds it
// with its own rule.
type depthLimit struct {
	max int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

// ExtensionName names the extension in gqlgen's list.
func (depthLimit) ExtensionName() string { return "DepthLimit" }

// Validate accepts any schema.
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext measures the operation about to run.
func (d depthLimit) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	m := depthMeter{fragments: map[string]int{}}
	if depth := m.depth(opCtx.Operation.SelectionSet); depth > d.max {
		err := gqlerror.Errorf("operation is %d fields deep, which exceeds the limit of %d", depth, d.max)
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

// depthMeter measures how deeply selections nest, fragments included. It
// remembers the depth of each named fragment, so fragments spread many
// times are measured once (validation has already ruled out cycles).
type depthMeter struct {
	fragments map[string]int
}

func (m depthMeter) depth(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			d = 1 + m.depth(s.SelectionSet)
		case *ast.InlineFragment:
			d = m.depth(s.SelectionSet)
		case *ast.FragmentSpread:
			known, ok := m.fragments[s.Name]
			if !ok && s.Definition != nil {
				known = m.depth(s.Definition.SelectionSet)
				m.fragments[s.Name] = known
			}
			d = known
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// noIntrospection refuses operations that ask for __schema or __type, as a
// request error before anything runs, when introspection is switched off.
// (gqlgen's own switch fails the field at run time with an error of no
// known kind, which the error presenter would have to mask.)
type noIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noIntrospection{}

// ExtensionName names the extension in gqlgen's list.
func (noIntrospection) ExtensionName() string { return "NoIntrospection" }

// Validate accepts any schema.
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext looks for introspection among the root fields;
// __schema and __type exist on the query type only.
func (noIntrospection) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if asksIntrospection(opCtx.Operation.SelectionSet) {
		err := gqlerror.Errorf("introspection is disabled on this server")
		err.Extensions = map[string]any{"code": "INTROSPECTION_DISABLED"}
		return err
	}
	return nil
}

func asksIntrospection(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if asksIntrospection(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && asksIntrospection(s.Definition.SelectionSet) {
				return true
			}
		}
	}
	return false
}
