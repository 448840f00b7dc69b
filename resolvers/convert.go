package resolvers

import (
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
