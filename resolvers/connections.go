package resolvers

import (
	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
)

// newPage reads the Relay arguments of a connection field. first and after
// page forward; last and before take the end of the window instead; with
// none of them the page is the newest DefaultPageSize rows. Sizes above
// conduit.MaxPageSize are capped by the service.
func newPage(first *int, after *string, last *int, before *string) (conduit.Page, error) {
	p := conduit.Page{Limit: conduit.DefaultPageSize}
	switch {
	case first != nil && last != nil:
		return p, conduit.FieldError(conduit.Invalid, "last", "cannot be combined with first")
	case first != nil:
		p.Limit = *first
	case last != nil:
		p.Limit, p.FromEnd = *last, true
	}
	// The Relay specification asks for an error, not an empty page.
	if p.Limit < 0 {
		arg := "first"
		if p.FromEnd {
			arg = "last"
		}
		return p, conduit.FieldError(conduit.Invalid, arg, "must not be negative")
	}
	var err error
	if p.After, err = cursorArg("after", after); err != nil {
		return p, err
	}
	if p.Before, err = cursorArg("before", before); err != nil {
		return p, err
	}
	return p, nil
}

// cursorArg decodes the cursor argument arg, which may be absent.
func cursorArg(arg string, s *string) (*conduit.Cursor, error) {
	if s == nil {
		return nil, nil
	}
	c, ok := decodeCursor(*s)
	if !ok {
		return nil, conduit.FieldError(conduit.Invalid, arg, "is not a cursor this API gave out")
	}
	return &c, nil
}

// articleConnection encodes a page of articles fetched for p, or passes err on.
func articleConnection(list conduit.ArticlePage, p conduit.Page, err error) (*graph.ArticleConnection, error) {
	if err != nil {
		return nil, err
	}
	nodes, cursors, info := connection(list.Articles, p, list.HasMore)
	edges := make([]*graph.ArticleEdge, len(nodes))
	for i, n := range nodes {
		edges[i] = &graph.ArticleEdge{Cursor: cursors[i], Node: n}
	}
	return &graph.ArticleConnection{Edges: edges, Nodes: nodes, PageInfo: info, TotalCount: list.Total}, nil
}

// commentConnection encodes a page of comments fetched for p, or passes err on.
func commentConnection(list conduit.CommentPage, p conduit.Page, err error) (*graph.CommentConnection, error) {
	if err != nil {
		return nil, err
	}
	nodes, cursors, info := connection(list.Comments, p, list.HasMore)
	edges := make([]*graph.CommentEdge, len(nodes))
	for i, n := range nodes {
		edges[i] = &graph.CommentEdge{Cursor: cursors[i], Node: n}
	}
	return &graph.CommentConnection{Edges: edges, Nodes: nodes, PageInfo: info, TotalCount: list.Total}, nil
}

// connection returns what every connection holds: its nodes, their
// cursors, and the page info. Rows come newest first in both directions;
// hasMore tells whether rows lie beyond the page in the direction of
// paging. The other direction is answered from the cursor alone, as the
// Relay specification allows: a page that starts after a cursor has rows
// before it.
func connection[T interface{ Cursor() conduit.Cursor }](items []T, p conduit.Page, hasMore bool) ([]*T, []string, *graph.PageInfo) {
	nodes := make([]*T, len(items))
	cursors := make([]string, len(items))
	for i := range items {
		nodes[i] = &items[i]
		cursors[i] = encodeCursor(items[i].Cursor())
	}
	info := &graph.PageInfo{HasNextPage: hasMore, HasPreviousPage: p.After != nil}
	if p.FromEnd {
		info.HasNextPage, info.HasPreviousPage = p.Before != nil, hasMore
	}
	if len(cursors) > 0 {
		info.StartCursor, info.EndCursor = &cursors[0], &cursors[len(cursors)-1]
	}
	return nodes, cursors, info
}
