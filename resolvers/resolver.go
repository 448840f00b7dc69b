// Package resolvers is the GraphQL surface of Conduit: the resolvers of the
// schema in graph/, the dataloaders that batch them, the error presenter, and
// the HTTP handler that serves it all (GraphQL over HTTP, subscriptions over
// WebSocket and SSE, limits, GraphiQL).
//
// A resolver decodes its arguments, calls one method of the conduit.Service,
// and encodes the result; every rule lives in the service.
package resolvers

//go:generate go run ../graph/gen
//go:generate sh -c "cd .. && go run . schema > schema.graphql"

import (
	"context"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
)

// Resolver is the root resolver and the only point where dependencies come in.
type Resolver struct {
	Service *conduit.Service
	// loads shares the loading of subscriptions' events (nil: none shared).
	loads *eventLoads
}

// viewer returns the viewer's account, nil for an anonymous request, or the
// error of a refused token.
func (r *Resolver) viewer(ctx context.Context) (*conduit.User, error) {
	return r.Service.OptionalViewer(ctx)
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
		return asNode(orNull(l.articleLoader().Load(ctx, id)))
	case commentType:
		return asNode(orNull(l.commentLoader().Load(ctx, id)))
	case profileType:
		return asNode(orNull(l.profileLoader().Load(ctx, id)))
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
// it had.
func (r *Resolver) deleteArticle(ctx context.Context, slug string) (string, error) {
	a, err := r.Service.DeleteArticle(ctx, slug)
	if err != nil {
		return "", err
	}
	return globalID(articleType, a.ID), nil
}
