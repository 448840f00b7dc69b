package resolvers

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
)

// orNull turns the NotFound of a lookup into null: asking for a thing that
// does not exist is not an error in this API.
func orNull[T any](v T, err error) (*T, error) {
	if errors.Is(err, dataloadgen.ErrNotFound) || conduit.ErrorCode(err) == conduit.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// asNode returns v as a Node, keeping a missing v an untyped nil (a typed
// nil pointer in an interface would not read as null).
func asNode[T any](v *T, err error) (graph.Node, error) {
	if v == nil {
		return nil, err
	}
	return v, nil
}

// value returns *p, or the zero T for nil.
func value[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// optional converts an input field that may be left out or null into a
// partial update: absent stays unset, and null becomes the zero value,
// which the service judges like any other (a blank username is refused).
func optional[T any](o graphql.Omittable[*T]) conduit.Optional[T] {
	p, set := o.ValueOK()
	return conduit.Optional[T]{Value: value(p), Set: set}
}

// nullable converts an input field whose null means "clear it".
func nullable[T any](o graphql.Omittable[T]) conduit.Optional[T] {
	v, set := o.ValueOK()
	return conduit.Optional[T]{Value: v, Set: set}
}

// updateUserInput converts the input of updateViewer.
func updateUserInput(in graph.UpdateViewerInput) conduit.UpdateUserInput {
	return conduit.UpdateUserInput{
		Username: optional(in.Username),
		Email:    optional(in.Email),
		Password: optional(in.Password),
		Bio:      nullable(in.Bio),
		Image:    nullable(in.Image),
	}
}

// updateArticleInput converts the input of updateArticle.
func updateArticleInput(in graph.UpdateArticleInput) conduit.UpdateArticleInput {
	return conduit.UpdateArticleInput{
		Title:       optional(in.Title),
		Description: optional(in.Description),
		Body:        optional(in.Body),
		TagList:     nullable(in.TagList),
	}
}

// session splits the result of a sign-in like outcome does, into the
// account and its token.
func session(ctx context.Context, s conduit.Session, err error, extra ...conduit.Code) (*conduit.User, *string, []*graph.UserError, error) {
	v, userErrors, err := outcome(ctx, s, err, extra...)
	if v == nil {
		return nil, nil, userErrors, err
	}
	return &v.User, &v.Token, userErrors, nil
}

// viewer returns the viewer's account, nil for an anonymous request, or the
// error of a refused token.
func (r *Resolver) viewer(ctx context.Context) (*conduit.User, error) {
	if _, ok := conduit.ViewerFromContext(ctx); !ok {
		return nil, conduit.AuthErrorFromContext(ctx)
	}
	u, err := r.Service.Viewer(ctx)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// node finds the object a global id names; malformed ids, ids of unknown
// types and ids of things that do not exist give null. A User is the
// viewer's private account, so a User id finds only the viewer's own; the
// public view of any user is their Profile.
func (r *Resolver) node(ctx context.Context, gid string) (graph.Node, error) {
	typ, id, ok := parseGlobalID(gid)
	if !ok {
		return nil, nil
	}
	l := loadersFor(ctx)
	switch typ {
	case articleType:
		return asNode(orNull(l.article.Load(ctx, id)))
	case commentType:
		return asNode(orNull(l.comment.Load(ctx, id)))
	case profileType:
		return asNode(orNull(l.profile.Load(ctx, id)))
	case userType:
		u, err := r.viewer(ctx)
		if err != nil || u == nil || u.ID != id {
			return nil, err
		}
		return u, nil
	}
	return nil, nil
}

// deleteArticle deletes the article with the slug and returns the global id
// it had. The service's DeleteArticle returns nothing, so the article is
// looked up first.
func (r *Resolver) deleteArticle(ctx context.Context, slug string) (string, error) {
	a, err := r.Service.Article(ctx, slug)
	if err != nil {
		return "", err
	}
	return globalID(articleType, a.ID), r.Service.DeleteArticle(ctx, slug)
}
