package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
)

// articleTypes are the types whose fields an Article's selection holds.
var articleTypes = []string{"Article", "Node"}

// commentsAhead returns the page of comments that the selection of the
// Article field of ctx asks for, read from its arguments with the
// operation's variables as Article.comments will read them, when it asks
// for exactly one page: then the article and that page can be fetched
// together. It reports false when the selection has no comments field,
// fields of different pages (aliases), or a page it cannot read, which
// the comments field then reports itself. alone tells that the selection
// wants nothing of the article but that page and what its slug gives (see
// leanArticleFields), so that the article's own columns need not be read.
func commentsAhead(ctx context.Context) (page conduit.Page, alone, ok bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !mentions(fc.Field.Selections, "comments") {
		return conduit.Page{}, false, false
	}
	vars := graphql.GetOperationContext(ctx).Variables
	alone = true
	for _, f := range graphql.CollectFieldsCtx(ctx, articleTypes) {
		if f.Name != "comments" {
			alone = alone && leanArticleFields[f.Name]
			continue
		}
		p, err := commentsPage(f.ArgumentMap(vars))
		if err != nil || ok && newPageKey(p) != newPageKey(page) {
			return conduit.Page{}, false, false
		}
		page, ok = p, true
	}
	return page, alone && ok, ok
}

// mentions tells whether sel, or a fragment in it, holds a field called
// name: when it does not, no collection of its fields can yield one, and
// the selection of one article, the commonest, is not collected twice
// (here and by its object) just to learn that.
func mentions(sel ast.SelectionSet, name string) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == name {
				return true
			}
		case *ast.InlineFragment:
			if mentions(s.SelectionSet, name) {
				return true
			}
		case *ast.FragmentSpread:
			// Validation resolved the definition and refused cycles.
			if s.Definition == nil || mentions(s.Definition.SelectionSet, name) {
				return true
			}
		}
	}
	return false
}

// leanArticleFields are the fields of an Article, beside comments, that an
// article known only by its id and slug answers: conduit.Article's ID and
// Slug are all they read.
var leanArticleFields = map[string]bool{"id": true, "slug": true, "__typename": true}

// commentsPage reads the arguments of Article.comments into a page.
func commentsPage(args map[string]any) (conduit.Page, error) {
	var first *int
	if v := args["first"]; v != nil {
		n, err := graph.UnmarshalInt(v)
		if err != nil {
			return conduit.Page{}, err
		}
		first = &n
	}
	var after *string
	if v := args["after"]; v != nil {
		s, err := graphql.UnmarshalString(v)
		if err != nil {
			return conduit.Page{}, err
		}
		after = &s
	}
	return newPage(first, after, nil, nil)
}
