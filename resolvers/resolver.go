// Package resolvers is the GraphQL surface of Conduit: the resolvers of the
// schema in graph/, the dataloaders that batch them, the error presenter, and
// the HTTP handler that serves it all (GraphQL over HTTP, limits, GraphiQL).
//
// A resolver decodes its arguments, calls one method of the conduit.Service,
// and encodes the result; every rule lives in the service.
package resolvers

//go:generate go tool gqlgen generate

import "github.com/conduit-dev/conduit/conduit"

// Resolver is the root resolver and the only point where dependencies come in.
type Resolver struct {
	Service *conduit.Service
}
