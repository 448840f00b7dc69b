package resolvers_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestBatching proves that a page of articles costs the same number of SQL
// statements whatever its size, with everything a list shows selected:
// authors as the viewer sees them, tags, favorites, and a page of comments
// per article with their authors.
func TestBatching(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, carol := e.mustUser(t, "alice"), e.mustUser(t, "bob"), e.mustUser(t, "carol")
	e.mustFollow(t, alice, bob)
	for i := range 50 {
		a := e.mustArticle(t, bob, fmt.Sprintf("Article %d", i), "tag", fmt.Sprintf("t%d", i%7))
		if i%3 == 0 {
			e.mustFavorite(t, alice, a.Slug)
		}
		e.mustComment(t, carol, a.Slug, "first")
		if i%10 == 0 {
			for range 3 {
				e.mustComment(t, alice, a.Slug, "more")
			}
		}
	}

	const item = `title tagList favorited favoritesCount author { username following }
		comments(first: 3) { totalCount nodes { body author { username } } }`
	for _, tc := range []struct {
		name  string
		query string
	}{
		{"Articles", `query($first: Int!) { articles(first: $first) { nodes { ` + item + ` } } }`},
		{"ArticlesEdges", `query($first: Int!) { articles(first: $first) { edges { node { ` + item + ` } } nodes { title } } }`},
		{"ArticlesEdgesAliasedAndNodes", `query($first: Int!) { articles(first: $first) {
			edges { a: node { ` + item + ` } b: node { ` + item + ` } } nodes { ` + item + ` } } }`},
		{"Feed", `query($first: Int!) { feed(first: $first) { nodes { ` + item + ` } } }`},
		{"ProfileArticles", `query($first: Int!) { profile(username: "bob") { articles(first: $first) { nodes { ` + item + ` } } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			count := func(first int) int64 {
				t.Helper()
				before := e.db.Statements()
				res := e.post(t, request{query: tc.query, variables: map[string]any{"first": first}, token: alice.token})
				after := e.db.Statements()
				wantErrorCodes(t, res)
				var data struct {
					Articles, Feed struct {
						Nodes []struct{ Comments struct{ Nodes []struct{} } }
					}
					Profile struct {
						Articles struct {
							Nodes []struct{ Comments struct{ Nodes []struct{} } }
						}
					}
				}
				mustUnmarshal(t, res.Data, &data)
				nodes := append(append(data.Articles.Nodes, data.Feed.Nodes...), data.Profile.Articles.Nodes...)
				if len(nodes) != first {
					t.Fatalf("%d articles, want %d", len(nodes), first)
				}
				return after - before
			}
			one, fifty := count(1), count(50)
			t.Logf("statements: first 1: %d, first 50: %d", one, fifty)
			if one != fifty {
				t.Fatalf("first: 50 ran %d statements, first: 1 ran %d; want the same", fifty, one)
			}
		})
	}

	t.Run("CommentsAreRight", func(t *testing.T) {
		res := e.post(t, request{query: `{ articles(first: 50) { nodes { title comments(first: 3) { totalCount nodes { body } } } } }`})
		wantErrorCodes(t, res)
		var data struct {
			Articles struct {
				Nodes []struct {
					Title    string
					Comments struct {
						TotalCount int
						Nodes      []struct{ Body string }
					}
				}
			}
		}
		mustUnmarshal(t, res.Data, &data)
		for _, n := range data.Articles.Nodes {
			var i int
			if _, err := fmt.Sscanf(n.Title, "Article %d", &i); err != nil {
				t.Fatal(err)
			}
			want, shown := 1, 1
			if i%10 == 0 {
				want, shown = 4, 3
			}
			if n.Comments.TotalCount != want || len(n.Comments.Nodes) != shown {
				t.Fatalf("%s: %d comments of %d, want %d of %d", n.Title, len(n.Comments.Nodes), n.Comments.TotalCount, shown, want)
			}
		}
	})
}

// TestCommentsOfOneArticle proves that the comments of an article asked
// for by slug come with it in its one statement, that asking for the same
// page twice does not fetch it twice, and that two different pages cost
// one statement each beside the article's.
func TestCommentsOfOneArticle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob, carol := e.mustUser(t, "bob"), e.mustUser(t, "carol")
	a := e.mustArticle(t, bob, "Alone", "tag")
	for range 4 {
		e.mustComment(t, carol, a.Slug, "hello")
	}
	count := func(t *testing.T, query string) int64 {
		t.Helper()
		before := e.db.Statements()
		res := e.post(t, request{query: query, variables: map[string]any{"slug": a.Slug}})
		after := e.db.Statements()
		wantErrorCodes(t, res)
		return after - before
	}
	none := count(t, `query($slug: String!) { article(slug: $slug) { title } }`)
	one := count(t, `query($slug: String!) { article(slug: $slug) { comments(first: 3) { totalCount nodes { body } } } }`)
	twice := count(t, `query($slug: String!) { article(slug: $slug) {
		a: comments(first: 3) { totalCount nodes { body } } b: comments(first: 3) { nodes { body author { username } } } } }`)
	two := count(t, `query($slug: String!) { article(slug: $slug) {
		a: comments(first: 3) { totalCount nodes { body } } b: comments(first: 2) { nodes { body } } } }`)
	t.Logf("statements: no comments %d, one page %d, the same page twice %d, two pages %d", none, one, twice, two)
	if none != 1 || one != 1 || twice != 1 || two != 3 {
		t.Fatalf("no comments ran %d statements, one page %d, the same page twice %d, two pages %d; want 1, 1, 1, 3", none, one, twice, two)
	}
}

// TestArticleWithComments proves that article(slug) { comments } answers
// in one statement what the two of the general path answer (an article by
// id, then its page of comments, as node(id) reaches them), for every
// page, and that a slug no article has is still null without errors.
func TestArticleWithComments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, carol := e.mustUser(t, "alice"), e.mustUser(t, "bob"), e.mustUser(t, "carol")
	e.mustFollow(t, alice, bob)
	a := e.mustArticle(t, bob, "With comments", "b", "a")
	e.mustFavorite(t, alice, a.Slug)
	quiet := e.mustArticle(t, bob, "Quiet")
	for i := range 7 {
		author := carol
		if i%2 == 0 {
			author = bob
		}
		e.mustComment(t, author, a.Slug, fmt.Sprintf("comment %d", i))
	}
	// cursors[i] points at comment i.
	var edges struct {
		Article struct {
			Comments struct{ Edges []struct{ Cursor string } }
		}
	}
	mustUnmarshal(t, e.post(t, request{query: `{ article(slug: "` + a.Slug + `") { comments { edges { cursor } } } }`}).Data, &edges)
	cursors := make([]string, 7)
	for i, edge := range edges.Article.Comments.Edges {
		cursors[6-i] = edge.Cursor
	}

	const page = `comments(first: $first, after: $after) { totalCount
			edges { cursor node { id body createdAt updatedAt author { id username bio image following } } }
			nodes { id body } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }`
	// sel asks for the article and its comments; lean for the comments and
	// nothing of the article that its id and slug do not give, which reads
	// the comments alone.
	const sel = `id slug title tagList favorited favoritesCount author { id username following } ` + page
	const lean = `__typename id ... on Node { id } slug ` + page
	const bySlug = `query($slug: String!, $first: Int, $after: String) { article(slug: $slug) { ` + sel + ` } }`
	const byID = `query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Article { ` + sel + ` } } }`
	const leanBySlug = `query($slug: String!, $first: Int, $after: String) { article(slug: $slug) { ` + lean + ` } }`
	const leanByID = `query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Article { ` + lean + ` } } }`
	for _, tc := range []struct {
		name  string
		slug  string
		id    int64
		first any
		after any
	}{
		{"Default", a.Slug, a.ID, nil, nil},
		{"First20", a.Slug, a.ID, 20, nil},
		{"First3", a.Slug, a.ID, 3, nil},
		{"After", a.Slug, a.ID, 3, cursors[4]},
		{"AfterTheLast", a.Slug, a.ID, 3, cursors[0]},
		{"Zero", a.Slug, a.ID, 0, nil},
		{"OverTheMaximum", a.Slug, a.ID, 1000, nil},
		{"NoComments", quiet.Slug, quiet.ID, 20, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, token := range []string{"", alice.token} {
				for _, q := range [][2]string{{bySlug, byID}, {leanBySlug, leanByID}} {
					before := e.db.Statements()
					got := e.post(t, request{query: q[0], token: token,
						variables: map[string]any{"slug": tc.slug, "first": tc.first, "after": tc.after}})
					statements := e.db.Statements() - before
					wantErrorCodes(t, got)
					want := e.post(t, request{query: q[1], token: token,
						variables: map[string]any{"id": gid("Article", tc.id), "first": tc.first, "after": tc.after}})
					wantErrorCodes(t, want)
					var g, w map[string]json.RawMessage
					mustUnmarshal(t, got.Data, &g)
					mustUnmarshal(t, want.Data, &w)
					wantJSON(t, g["article"], string(w["node"]))
					if statements != 1 {
						t.Fatalf("article with comments ran %d statements, want 1", statements)
					}
				}
			}
		})
	}
	t.Run("Literals", func(t *testing.T) {
		before := e.db.Statements()
		res := e.post(t, request{query: `{ article(slug: "` + a.Slug + `") { comments(first: 2, after: "` + cursors[6] + `") { nodes { body } } } }`})
		statements := e.db.Statements() - before
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"article": {"comments": {"nodes": [{"body": "comment 5"}, {"body": "comment 4"}]}}}`)
		if statements != 1 {
			t.Fatalf("%d statements, want 1", statements)
		}
	})
	t.Run("Fragments", func(t *testing.T) {
		// The page is found inside fragments, named and inline, at any depth.
		for _, q := range []string{
			`query { article(slug: "` + a.Slug + `") { title ...Page } } fragment Page on Article { ...Inner } fragment Inner on Article { comments(first: 2) { nodes { body } } }`,
			`query { article(slug: "` + a.Slug + `") { title ... on Article { ... { comments(first: 2) { nodes { body } } } } } }`,
		} {
			before := e.db.Statements()
			res := e.post(t, request{query: q})
			statements := e.db.Statements() - before
			wantErrorCodes(t, res)
			wantJSON(t, res.Data, `{"article": {"title": "`+a.Title+`", "comments": {"nodes": [{"body": "comment 6"}, {"body": "comment 5"}]}}}`)
			if statements != 1 {
				t.Errorf("%s: %d statements, want 1", q, statements)
			}
		}
	})
	t.Run("UnknownSlug", func(t *testing.T) {
		for _, q := range []string{bySlug, leanBySlug} {
			before := e.db.Statements()
			res := e.post(t, request{query: q, variables: map[string]any{"slug": "no-such-article", "first": 20}})
			statements := e.db.Statements() - before
			wantErrorCodes(t, res)
			wantJSON(t, res.Data, `{"article": null}`)
			if statements != 1 {
				t.Fatalf("%d statements, want 1", statements)
			}
		}
	})
	t.Run("BadPage", func(t *testing.T) {
		for _, q := range []string{bySlug, leanBySlug} {
			res := e.post(t, request{query: q, variables: map[string]any{"slug": a.Slug, "first": -1}})
			wantErrorCodes(t, res, "BAD_USER_INPUT")
			if got, want := fmt.Sprint(res.Errors[0].Path), "[article comments]"; got != want {
				t.Fatalf("error path = %s, want %s", got, want)
			}
		}
	})
	// One alias reads the comments alone, the other the article with the
	// same page: each gets what it asked for, in a statement of its own.
	t.Run("LeanAndFullAliased", func(t *testing.T) {
		before := e.db.Statements()
		res := e.post(t, request{query: `{ a: article(slug: "` + a.Slug + `") { slug comments(first: 1) { nodes { body } } }
			b: article(slug: "` + a.Slug + `") { title comments(first: 1) { nodes { body } } } }`})
		statements := e.db.Statements() - before
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"a": {"slug": "`+a.Slug+`", "comments": {"nodes": [{"body": "comment 6"}]}},
			"b": {"title": "With comments", "comments": {"nodes": [{"body": "comment 6"}]}}}`)
		if statements != 2 {
			t.Fatalf("%d statements, want 2", statements)
		}
	})
}

// TestCommentsOutsideLists counts what the comments of articles that no
// list holds cost: one statement per article and page, however many times
// and by whatever way (aliases, node, a comment's article) the query
// reaches it. Nothing tells the resolver of one such article that another
// is coming, so two different articles cost two statements: always two,
// never one or two depending on how the goroutines were scheduled.
func TestCommentsOutsideLists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob, carol := e.mustUser(t, "bob"), e.mustUser(t, "carol")
	one, two := e.mustArticle(t, bob, "One"), e.mustArticle(t, bob, "Two")
	for range 3 {
		e.mustComment(t, carol, one.Slug, "on one")
		e.mustComment(t, carol, two.Slug, "on two")
	}
	args := strings.NewReplacer("$one", strconv.Quote(one.Slug), "$two", strconv.Quote(two.Slug),
		"$idOne", strconv.Quote(gid("Article", one.ID)), "$idTwo", strconv.Quote(gid("Article", two.ID)))
	count := func(t *testing.T, query string) int64 {
		t.Helper()
		before := e.db.Statements()
		res := e.post(t, request{query: args.Replace(query)})
		after := e.db.Statements()
		wantErrorCodes(t, res)
		if len(res.Data) < 20 {
			t.Fatalf("data = %s", res.Data)
		}
		return after - before
	}

	const comments = `comments(first: 3) { totalCount nodes { body author { username } } }`
	for _, tc := range []struct {
		name string
		// base is the query without the pages of comments, query the
		// query with them; query costs want statements more than base.
		base, query string
		want        int64
	}{
		// By slug, the article and its comments come in one statement.
		{"SameArticleAliased",
			`{ a: article(slug: $one) { title } b: article(slug: $one) { title } }`,
			`{ a: article(slug: $one) { ` + comments + ` } b: article(slug: $one) { ` + comments + ` } }`, 0},
		{"Node",
			`{ node(id: $idOne) { ... on Article { title } } }`,
			`{ node(id: $idOne) { ... on Article { ` + comments + ` } } }`, 1},
		{"SameArticleAsNodeAndBySlug",
			`{ node(id: $idOne) { ... on Article { title } } article(slug: $one) { title } }`,
			`{ node(id: $idOne) { ... on Article { ` + comments + ` } } article(slug: $one) { ` + comments + ` } }`, 1},
		{"CommentArticle",
			`{ article(slug: $one) { comments(first: 3) { nodes { article { title } } } } }`,
			`{ article(slug: $one) { comments(first: 3) { nodes { article { comments(first: 1) { totalCount } } } } } }`, 1},
		{"ArticlesAliased",
			`{ a: article(slug: $one) { title } b: article(slug: $two) { title } }`,
			`{ a: article(slug: $one) { ` + comments + ` } b: article(slug: $two) { ` + comments + ` } }`, 0},
		{"Nodes",
			`{ a: node(id: $idOne) { ... on Article { title } } b: node(id: $idTwo) { ... on Article { title } } }`,
			`{ a: node(id: $idOne) { ... on Article { ` + comments + ` } } b: node(id: $idTwo) { ... on Article { ` + comments + ` } } }`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, got := count(t, tc.base), count(t, tc.query)
			t.Logf("statements: without comments %d, with %d", base, got)
			if extra := got - base; extra != tc.want {
				t.Fatalf("the comments cost %d statements, want %d", extra, tc.want)
			}
		})
	}
}

// TestCommentPageErrors proves that an error of one page of comments
// reaches the fields that asked for that page and no other: the same
// articles' other page, and other articles, still come back.
func TestCommentPageErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob, carol := e.mustUser(t, "bob"), e.mustUser(t, "carol")
	one, two := e.mustArticle(t, bob, "One"), e.mustArticle(t, bob, "Two")
	e.mustComment(t, carol, one.Slug, "on one")
	e.mustComment(t, carol, two.Slug, "on two")

	const bad = `bad: comments(after: "not a cursor") { totalCount }`
	for _, tc := range []struct {
		name, query string
		paths       [][]any
		data        string
	}{
		{"Nodes", `{ articles(first: 2) { nodes { title ` + bad + ` } } }`,
			[][]any{{"articles", "nodes", 0.0, "bad"}, {"articles", "nodes", 1.0, "bad"}}, `null`},
		{"Edges", `{ articles(first: 2) { edges { node { ` + bad + ` } } } }`,
			[][]any{{"articles", "edges", 0.0, "node", "bad"}, {"articles", "edges", 1.0, "node", "bad"}}, `null`},
		{"Aliases", `{ a: article(slug: "` + one.Slug + `") { ` + bad + ` } b: article(slug: "` + two.Slug + `") { comments(first: 1) { totalCount } }
			c: article(slug: "` + one.Slug + `") { comments(first: 1) { totalCount } } }`,
			[][]any{{"a", "bad"}}, `{"a": null, "b": {"comments": {"totalCount": 1}}, "c": {"comments": {"totalCount": 1}}}`},
		{"ListAndOneArticle", `{ profile(username: "bob") { articles(first: 2) { nodes { ` + bad + ` } } }
			article(slug: "` + one.Slug + `") { comments(first: 1) { totalCount } } }`,
			[][]any{{"profile", "articles", "nodes", 0.0, "bad"}, {"profile", "articles", "nodes", 1.0, "bad"}},
			`{"profile": null, "article": {"comments": {"totalCount": 1}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.post(t, request{query: tc.query})
			want := make([]string, len(tc.paths))
			for i := range want {
				want[i] = "BAD_USER_INPUT"
			}
			wantErrorCodes(t, res, want...)
			var paths [][]any
			for _, err := range res.Errors {
				paths = append(paths, err.Path)
			}
			sort.Slice(paths, func(i, j int) bool { return fmt.Sprint(paths[i]) < fmt.Sprint(paths[j]) })
			if !reflect.DeepEqual(paths, tc.paths) {
				t.Fatalf("error paths = %v, want %v", paths, tc.paths)
			}
			wantJSON(t, res.Data, tc.data)
		})
	}
}

// TestCommentsOfLargeArticlesInAList proves that the first comments of each
// article of a list are right when one has more than 100 comments (whose
// page a second statement reads, db.CommentPages), and that such an article
// costs the list one statement more, however many of them it holds.
func TestCommentsOfLargeArticlesInAList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob, carol := e.mustUser(t, "bob"), e.mustUser(t, "carol")
	small := e.mustArticle(t, bob, "Small", "tag")
	e.mustComment(t, carol, small.Slug, "small 1")
	const query = `{ articles(first: 10) { nodes { slug comments(first: 2) { totalCount pageInfo { hasNextPage } nodes { body } } } } }`
	type page struct {
		Slug     string
		Comments struct {
			TotalCount int
			PageInfo   struct{ HasNextPage bool }
			Nodes      []struct{ Body string }
		}
	}
	list := func(t *testing.T) ([]page, int64) {
		t.Helper()
		before := e.db.Statements()
		res := e.post(t, request{query: query})
		after := e.db.Statements()
		wantErrorCodes(t, res)
		var data struct{ Articles struct{ Nodes []page } }
		mustUnmarshal(t, res.Data, &data)
		return data.Articles.Nodes, after - before
	}
	_, ordinary := list(t)

	for _, title := range []string{"Large", "Larger"} {
		a := e.mustArticle(t, bob, title, "tag")
		for i := range 101 {
			e.mustComment(t, carol, a.Slug, fmt.Sprintf("%s %d", title, i+1))
		}
	}
	pages, statements := list(t)
	if statements != ordinary+1 {
		t.Errorf("a list with two articles of 101 comments ran %d statements, want one more than the %d of one without", statements, ordinary)
	}
	got := fmt.Sprint(pages)
	want := `[{larger {101 {true} [{Larger 101} {Larger 100}]}} {large {101 {true} [{Large 101} {Large 100}]}} {small {1 {false} [{small 1}]}}]`
	if got != want {
		t.Errorf("pages:\n%s\nwant\n%s", got, want)
	}
}
