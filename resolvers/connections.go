package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

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

// articleConnection encodes a page of articles fetched for p, or passes err
// on, for the connection field of ctx.
func articleConnection(ctx context.Context, list conduit.ArticlePage, p conduit.Page, err error) (*graph.ArticleConnection, error) {
	if err != nil {
		return nil, err
	}
	nodes, cursors, info := connection(list.Articles, p, list.HasMore, selected(ctx, "ArticleConnection"))
	var edges []*graph.ArticleEdge
	if cursors != nil {
		edges = make([]*graph.ArticleEdge, len(nodes))
		for i, n := range nodes {
			edges[i] = &graph.ArticleEdge{Cursor: cursors[i], Node: n}
		}
	}
	return &graph.ArticleConnection{Edges: edges, Nodes: nodes, PageInfo: info, TotalCount: list.Total}, nil
}

// commentConnection encodes a page of comments fetched for p, or passes err
// on, for the connection field of ctx.
func commentConnection(ctx context.Context, list conduit.CommentPage, p conduit.Page, err error) (*graph.CommentConnection, error) {
	if err != nil {
		return nil, err
	}
	nodes, cursors, info := connection(list.Comments, p, list.HasMore, selected(ctx, "CommentConnection"))
	var edges []*graph.CommentEdge
	if cursors != nil {
		edges = make([]*graph.CommentEdge, len(nodes))
		for i, n := range nodes {
			edges[i] = &graph.CommentEdge{Cursor: cursors[i], Node: n}
		}
	}
	return &graph.CommentConnection{Edges: edges, Nodes: nodes, PageInfo: info, TotalCount: list.Total}, nil
}

// selection is what a connection field selects of the two parts that cost
// more than their nodes: the edges (one object and one encoded cursor per
// node) and the page info's cursors.
type selection struct{ edges, pageInfo bool }

// selected tells what the connection field of ctx, of type typ, selects.
// The lists of the frontend read nodes and totalCount alone: for them no
// edge is made and no cursor encoded. Without a field (not the executor's
// call), it says everything.
func selected(ctx context.Context, typ string) selection {
	if graphql.GetFieldContext(ctx) == nil {
		return selection{edges: true, pageInfo: true}
	}
	var s selection
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{typ}) {
		switch f.Name {
		case "edges":
			s.edges = true
		case "pageInfo":
			s.pageInfo = true
		}
	}
	return s
}

// connection returns what every connection holds: its nodes, their
// cursors, and the page info. Rows come newest first in both directions;
// hasMore tells whether rows lie beyond the page in the direction of
// paging. The other direction is answered from the cursor alone, as the
// Relay specification allows: a page that starts after a cursor has rows
// before it.
//
// The cursors of every node come only when sel has the edges; otherwise
// cursors is nil. The page info's cursors come only when sel has the page
// info: its flags are always there, as they cost nothing.
func connection[T interface{ Cursor() conduit.Cursor }](items []T, p conduit.Page, hasMore bool, sel selection) ([]*T, []string, *graph.PageInfo) {
	nodes := make([]*T, len(items))
	for i := range items {
		nodes[i] = &items[i]
	}
	var cursors []string
	if sel.edges {
		cursors = make([]string, len(items))
		for i := range items {
			cursors[i] = encodeCursor(items[i].Cursor())
		}
	}
	info := &graph.PageInfo{HasNextPage: hasMore, HasPreviousPage: p.After != nil}
	if p.FromEnd {
		info.HasNextPage, info.HasPreviousPage = p.Before != nil, hasMore
	}
	if n := len(items); n > 0 && sel.pageInfo {
		if cursors != nil {
			info.StartCursor, info.EndCursor = &cursors[0], &cursors[n-1]
		} else {
			start, end := encodeCursor(items[0].Cursor()), encodeCursor(items[n-1].Cursor())
			info.StartCursor, info.EndCursor = &start, &end
		}
	}
	return nodes, cursors, info
}
