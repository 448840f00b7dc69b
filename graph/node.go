package graph

// Node is what Query.node returns: *conduit.User, *conduit.Profile,
// *conduit.Article or *conduit.Comment. The domain types know nothing of
// GraphQL, so the interface asks nothing of them; the executor tells them
// apart by their Go type.
type Node any
