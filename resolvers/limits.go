package resolvers

import (
	"context"
	"fmt"

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
	// statementCost is the least a root field that runs an SQL statement
	// costs, itself included. The answers of lookups are kept for the rest
	// of the request (see loaders.go), so aliases of one lookup run it once,
	// but each still costs this much: it is what keeps a few thousand
	// aliased copies from being cheap to ask for and to answer.
	statementCost = 10
)

// The flat costs of introspection, whatever they select: gqlgen's rule
// counted __schema as free, so 1,000 aliased copies answered 4.6 MB at no
// cost. They are sized to the most they answer, at the rate of the rest of
// the schema: a page of 20 articles costs 281 (501 with edges and ids) and
// answers 7.3 KB (10.4 KB), 21 to 26 bytes per unit of cost. GraphiQL's
// introspection query answers 66.8 KB of this schema, some 2,600 units at
// 26 bytes; __type with GraphiQL's FullType fragment answers 3.4 KB for
// Article and 6.6 KB for Mutation, the largest type, some 250 units. So
// GraphiQL's query passes the default limit, as would a second copy, but
// not a third, let alone hundreds. (The answers grow with the schema; these
// prices must be measured again when it grows much.)
const (
	schemaCost = 2500
	typeCost   = 250
)

// pricedArguments names every argument that a price of complexity reads.
// An operation's cost depends on its variables through these alone, so
// costLimit keeps the cost of an operation in which none of them is a
// variable, whatever its other variables (a slug, a cursor). A price that
// reads another argument must name it here; TestPricedArguments lists the
// arguments of priced fields that are not, to be looked at when one is
// added.
var pricedArguments = map[string]bool{"first": true, "last": true}

// complexity prices the fields whose cost the default rule (one per field)
// gets wrong: a connection costs its page size times what each item selects,
// so `articles(first: 100) { nodes { comments(first: 100) { ... } } }` is as
// expensive as the rows it could touch; a root field costs at least the
// statement it runs; mutations cost what they write.
func complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	c.Query.Viewer = lookupCost
	c.Query.Profile = func(child int, _ string) int { return lookupCost(child) }
	c.Query.Article = func(child int, _ string) int { return lookupCost(child) }
	c.Query.Node = func(child int, _ string) int { return lookupCost(child) }
	c.Query.Tags = lookupCost
	c.Query.Articles = func(child int, first *int, _ *string, last *int, _ *string, _ *conduit.ArticleFilter) int {
		return max(statementCost, connectionCost(child, first, last))
	}
	c.Query.Feed = func(child int, first *int, _ *string) int {
		return max(statementCost, connectionCost(child, first, nil))
	}
	c.Profile.Articles = func(child int, first *int, _ *string) int { return connectionCost(child, first, nil) }
	c.Article.Comments = func(child int, first *int, _ *string) int { return connectionCost(child, first, nil) }

	c.Mutation.Login = func(child int, _ conduit.LoginInput) int { return satAdd(child, passwordCost) }
	c.Mutation.Register = func(child int, _ conduit.RegisterInput) int { return satAdd(child, passwordCost) }
	c.Mutation.UpdateViewer = func(child int, _ graph.UpdateViewerInput) int { return satAdd(child, passwordCost) }
	c.Mutation.FollowProfile = func(child int, _ graph.FollowProfileInput) int { return satAdd(child, mutationCost) }
	c.Mutation.UnfollowProfile = func(child int, _ graph.UnfollowProfileInput) int { return satAdd(child, mutationCost) }
	c.Mutation.CreateArticle = func(child int, _ conduit.CreateArticleInput) int { return satAdd(child, mutationCost) }
	c.Mutation.UpdateArticle = func(child int, _ graph.UpdateArticleInput) int { return satAdd(child, mutationCost) }
	c.Mutation.DeleteArticle = func(child int, _ graph.DeleteArticleInput) int { return satAdd(child, mutationCost) }
	c.Mutation.FavoriteArticle = func(child int, _ graph.FavoriteArticleInput) int { return satAdd(child, mutationCost) }
	c.Mutation.UnfavoriteArticle = func(child int, _ graph.UnfavoriteArticleInput) int { return satAdd(child, mutationCost) }
	c.Mutation.AddComment = func(child int, _ graph.AddCommentInput) int { return satAdd(child, mutationCost) }
	c.Mutation.DeleteComment = func(child int, _ graph.DeleteCommentInput) int { return satAdd(child, mutationCost) }
	return c
}

// lookupCost is the cost of a root field that looks one thing up with a
// statement: the statement, then what is selected of the thing.
func lookupCost(child int) int { return satAdd(statementCost, child) }

// connectionCost is the cost of a connection field: one for the field,
// plus its children once per item of the largest page it may return. At
// the root, a connection costs at least a statement: a page of one cheap
// item is still a query of the database (nested connections are fetched
// for all their parents at once, see loaders.go).
func connectionCost(child int, first, last *int) int {
	n := conduit.DefaultPageSize
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	n = min(max(n, 1), conduit.MaxPageSize)
	return satAdd(1, satMul(n, child))
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

// asksIntrospection looks through set and the fragments it spreads, each
// fragment once.
func asksIntrospection(set ast.SelectionSet) bool {
	return introspectionFinder{}.find(set)
}

// introspectionFinder remembers the fragments already looked into, so that
// a fragment spread many times, or within itself, is looked into once.
type introspectionFinder map[string]bool

func (seen introspectionFinder) find(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if seen.find(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				if seen.find(s.Definition.SelectionSet) {
					return true
				}
			}
		}
	}
	return false
}

// errorLimit keeps at most max errors in a response, and says in one more
// how many it left out. A small document can make many errors (3,000
// unknown directives in 9 KB made 878 KB of them), and nobody reads past
// the first few. As a ResponseInterceptor it sees every response: of
// operations that ran, and of requests refused before (DispatchError).
type errorLimit struct {
	max int
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = errorLimit{}

// ExtensionName names the extension in gqlgen's list.
func (errorLimit) ExtensionName() string { return "ErrorLimit" }

// Validate accepts any schema.
func (errorLimit) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse trims the errors of the response.
func (l errorLimit) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || len(resp.Errors) <= l.max {
		return resp
	}
	dropped := len(resp.Errors) - l.max
	msg := fmt.Sprintf("%d more errors were left out: a response keeps the first %d", dropped, l.max)
	if dropped == 1 {
		msg = fmt.Sprintf("1 more error was left out: a response keeps the first %d", l.max)
	}
	kept := make(gqlerror.List, l.max, l.max+1)
	copy(kept, resp.Errors)
	resp.Errors = append(kept, &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "TOO_MANY_ERRORS"}})
	return resp
}
