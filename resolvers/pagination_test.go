package resolvers_test

import (
	"fmt"
	"testing"
)

// page is a connection as the tests read it.
type page struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	Edges []struct {
		Cursor string
		Node   struct{ Title, Body string }
	}
	Nodes []struct{ Title, Body string }
}

const pageSel = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { title } } nodes { title }`

// titles returns the titles of the page's nodes, checking that edges and
// nodes agree and that the page info's cursors are those of the edges.
func (p page) titles(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for i, e := range p.Edges {
		if p.Nodes[i].Title != e.Node.Title {
			tb.Fatalf("nodes[%d] = %q, edges[%d].node = %q", i, p.Nodes[i].Title, i, e.Node.Title)
		}
		out = append(out, e.Node.Title)
	}
	if len(p.Edges) == 0 {
		if p.PageInfo.StartCursor != nil || p.PageInfo.EndCursor != nil {
			tb.Fatalf("empty page has cursors %v %v", p.PageInfo.StartCursor, p.PageInfo.EndCursor)
		}
		return out
	}
	if *p.PageInfo.StartCursor != p.Edges[0].Cursor || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
		tb.Fatalf("page info cursors do not match the edges")
	}
	return out
}

func wantPage(tb testing.TB, p page, titles []string, total int, hasNext, hasPrevious bool) {
	tb.Helper()
	if got := p.titles(tb); fmt.Sprint(got) != fmt.Sprint(titles) {
		tb.Fatalf("titles = %v, want %v", got, titles)
	}
	if p.TotalCount != total {
		tb.Fatalf("totalCount = %d, want %d", p.TotalCount, total)
	}
	if p.PageInfo.HasNextPage != hasNext || p.PageInfo.HasPreviousPage != hasPrevious {
		tb.Fatalf("hasNextPage, hasPreviousPage = %v, %v, want %v, %v",
			p.PageInfo.HasNextPage, p.PageInfo.HasPreviousPage, hasNext, hasPrevious)
	}
}

func TestArticlesPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	for i := 1; i <= 5; i++ {
		e.mustArticle(t, alice, fmt.Sprintf("A%d", i))
	}
	const q = `query($first: Int, $after: String, $last: Int, $before: String) {
		articles(first: $first, after: $after, last: $last, before: $before) { ` + pageSel + ` } }`
	get := func(t *testing.T, vars map[string]any) page {
		t.Helper()
		return mustData[struct{ Articles page }](t, e, request{query: q, variables: vars}).Articles
	}

	t.Run("Forward", func(t *testing.T) {
		p1 := get(t, map[string]any{"first": 2})
		wantPage(t, p1, []string{"A5", "A4"}, 5, true, false)
		p2 := get(t, map[string]any{"first": 2, "after": *p1.PageInfo.EndCursor})
		wantPage(t, p2, []string{"A3", "A2"}, 5, true, true)
		p3 := get(t, map[string]any{"first": 2, "after": *p2.PageInfo.EndCursor})
		wantPage(t, p3, []string{"A1"}, 5, false, true)
		p4 := get(t, map[string]any{"first": 2, "after": *p3.PageInfo.EndCursor})
		wantPage(t, p4, nil, 5, false, true)
	})
	t.Run("Backward", func(t *testing.T) {
		p1 := get(t, map[string]any{"last": 2})
		wantPage(t, p1, []string{"A2", "A1"}, 5, false, true)
		p2 := get(t, map[string]any{"last": 2, "before": *p1.PageInfo.StartCursor})
		wantPage(t, p2, []string{"A4", "A3"}, 5, true, true)
		p3 := get(t, map[string]any{"last": 2, "before": *p2.PageInfo.StartCursor})
		wantPage(t, p3, []string{"A5"}, 5, true, false)
	})
	t.Run("BetweenCursors", func(t *testing.T) {
		all := get(t, map[string]any{"first": 5})
		p := get(t, map[string]any{"first": 10, "after": all.Edges[0].Cursor, "before": all.Edges[4].Cursor})
		wantPage(t, p, []string{"A4", "A3", "A2"}, 5, false, true)
	})
	t.Run("Default", func(t *testing.T) {
		wantPage(t, get(t, nil), []string{"A5", "A4", "A3", "A2", "A1"}, 5, false, false)
	})
	t.Run("Zero", func(t *testing.T) {
		// Relay: more items than first exist after the (empty) page.
		wantPage(t, get(t, map[string]any{"first": 0}), nil, 5, true, false)
	})
	for _, tc := range []struct {
		name, message string
		vars          map[string]any
	}{
		{"ErrNegativeFirst", "first must not be negative", map[string]any{"first": -1}},
		{"ErrNegativeLast", "last must not be negative", map[string]any{"last": -1}},
		{"ErrFirstAndLast", "last cannot be combined with first", map[string]any{"first": 1, "last": 1}},
		{"ErrBadAfter", "after is not a cursor this API gave out", map[string]any{"after": "bogus"}},
		{"ErrBadBefore", "before is not a cursor this API gave out", map[string]any{"last": 1, "before": "QmFkfDE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.post(t, request{query: q, variables: tc.vars})
			wantErrorCodes(t, res, "BAD_USER_INPUT")
			if res.Errors[0].Message != tc.message {
				t.Fatalf("message = %q, want %q", res.Errors[0].Message, tc.message)
			}
			wantJSON(t, res.Data, `null`)
		})
	}
}

func TestCommentsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	a := e.mustArticle(t, alice, "Talked about")
	for i := 1; i <= 3; i++ {
		e.mustComment(t, alice, a.Slug, fmt.Sprintf("C%d", i))
	}
	const q = `query($slug: String!, $first: Int, $after: String) { article(slug: $slug) {
		comments(first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
			edges { cursor node { title: body } } nodes { title: body } } } }`
	get := func(t *testing.T, vars map[string]any) page {
		t.Helper()
		vars["slug"] = a.Slug
		return mustData[struct{ Article struct{ Comments page } }](t, e, request{query: q, variables: vars}).Article.Comments
	}

	p1 := get(t, map[string]any{"first": 2})
	wantPage(t, p1, []string{"C3", "C2"}, 3, true, false)
	p2 := get(t, map[string]any{"first": 2, "after": *p1.PageInfo.EndCursor})
	wantPage(t, p2, []string{"C1"}, 3, false, true)
}

func TestProfileArticles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	e.mustArticle(t, alice, "A1")
	e.mustArticle(t, bob, "B1")
	e.mustArticle(t, alice, "A2")
	const q = `query($after: String) { profile(username: "alice") { articles(first: 1, after: $after) { ` + pageSel + ` } } }`
	get := func(t *testing.T, vars map[string]any) page {
		t.Helper()
		return mustData[struct{ Profile struct{ Articles page } }](t, e, request{query: q, variables: vars}).Profile.Articles
	}

	p1 := get(t, nil)
	wantPage(t, p1, []string{"A2"}, 2, true, false)
	p2 := get(t, map[string]any{"after": *p1.PageInfo.EndCursor})
	wantPage(t, p2, []string{"A1"}, 2, false, true)
}

// TestEdgesSelectedAnyWay proves that the edges of a connection are there
// however the document selects them: in a fragment, merged from a field of
// the same name, under @include; and that the page info's cursors are
// there however it is selected, with or without the edges.
func TestEdgesSelectedAnyWay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob, carol := e.mustUser(t, "bob"), e.mustUser(t, "carol")
	for i := range 3 {
		a := e.mustArticle(t, bob, fmt.Sprintf("Article %d", i))
		e.mustComment(t, carol, a.Slug, fmt.Sprintf("Comment %d", i))
	}
	want := mustData[struct{ Articles page }](t, e, request{query: `{ articles(first: 2) { ` + pageSel + ` } }`}).Articles
	if len(want.Edges) != 2 || want.PageInfo.StartCursor == nil {
		t.Fatalf("page = %+v, want 2 edges and cursors", want)
	}
	for _, tc := range []struct{ name, query string }{
		{"Fragment", `{ articles(first: 2) { nodes { title } ...E } } fragment E on ArticleConnection { edges { cursor node { title } } }`},
		{"InlineFragment", `{ articles(first: 2) { nodes { title } ... on ArticleConnection { edges { cursor node { title } } } } }`},
		{"Merged", `{ articles(first: 2) { nodes { title } } articles(first: 2) { edges { cursor node { title } } } }`},
		{"Included", `query($yes: Boolean = true) { articles(first: 2) { nodes { title } edges @include(if: $yes) { cursor node { title } } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustData[struct{ Articles page }](t, e, request{query: tc.query}).Articles
			if len(got.Edges) != 2 {
				t.Fatalf("%d edges, want 2", len(got.Edges))
			}
			for i := range got.Edges {
				if got.Edges[i].Cursor != want.Edges[i].Cursor || got.Edges[i].Node.Title != want.Edges[i].Node.Title {
					t.Fatalf("edges[%d] = %+v, want %+v", i, got.Edges[i], want.Edges[i])
				}
			}
		})
	}
	// The page info's cursors are encoded only when it is selected: check
	// that they are there however it is.
	for _, tc := range []struct{ name, query string }{
		{"PageInfoWithoutEdges", `{ articles(first: 2) { nodes { title } pageInfo { startCursor endCursor } } }`},
		{"PageInfoInFragment", `{ articles(first: 2) { nodes { title } ...P } } fragment P on ArticleConnection { pageInfo { startCursor endCursor } }`},
		{"PageInfoInInlineFragment", `{ articles(first: 2) { nodes { title } ... on ArticleConnection { pageInfo { startCursor endCursor } } } }`},
		{"PageInfoMerged", `{ articles(first: 2) { nodes { title } } articles(first: 2) { pageInfo { startCursor endCursor } } }`},
		{"PageInfoIncluded", `query($yes: Boolean = true) { articles(first: 2) { nodes { title } pageInfo @include(if: $yes) { startCursor endCursor } } }`},
		{"PageInfoAliased", `{ articles(first: 2) { nodes { title } pageInfo: pageInfo { startCursor endCursor } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustData[struct{ Articles page }](t, e, request{query: tc.query}).Articles
			if got.PageInfo.StartCursor == nil || *got.PageInfo.StartCursor != *want.PageInfo.StartCursor ||
				got.PageInfo.EndCursor == nil || *got.PageInfo.EndCursor != *want.PageInfo.EndCursor {
				t.Fatalf("page info = %v %v, want %v %v", got.PageInfo.StartCursor, got.PageInfo.EndCursor, *want.PageInfo.StartCursor, *want.PageInfo.EndCursor)
			}
		})
	}
	t.Run("CommentsPageInfo", func(t *testing.T) {
		type comments struct {
			Comments struct {
				PageInfo struct{ StartCursor, EndCursor *string }
				Edges    []struct{ Cursor string }
			}
		}
		got := mustData[struct{ Articles struct{ Nodes []comments } }](t, e, request{query: `{ articles(first: 2) {
			nodes { comments { edges { cursor } } } nodes { comments { ...P } } } }
			fragment P on CommentConnection { pageInfo { startCursor endCursor } }`})
		for _, n := range got.Articles.Nodes {
			c := n.Comments
			if len(c.Edges) != 1 || c.PageInfo.StartCursor == nil || *c.PageInfo.StartCursor != c.Edges[0].Cursor ||
				c.PageInfo.EndCursor == nil || *c.PageInfo.EndCursor != c.Edges[0].Cursor {
				t.Fatalf("comments = %+v, want the edge's cursor as both page info's", c)
			}
		}
	})
	t.Run("Comments", func(t *testing.T) {
		type comments struct {
			Comments struct {
				Edges []struct{ Cursor string }
			}
		}
		got := mustData[struct{ Articles struct{ Nodes []comments } }](t, e, request{query: `{ articles(first: 2) { nodes { comments { ...C } } } }
			fragment C on CommentConnection { edges { cursor } }`})
		for _, n := range got.Articles.Nodes {
			if len(n.Comments.Edges) != 1 || n.Comments.Edges[0].Cursor == "" {
				t.Fatalf("comments = %+v, want one edge with a cursor", n.Comments)
			}
		}
	})
}
