package resolvers_test

import (
	"fmt"
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

// TestCommentsOfOneArticle proves that the comments of an article outside
// any list cost one statement, fetched without waiting for a batch, and
// that asking for the same page twice does not fetch it twice.
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
	t.Logf("statements: no comments %d, one page %d, the same page twice %d", none, one, twice)
	if one != none+1 || twice != one {
		t.Fatalf("one page ran %d statements, the same page twice %d, no comments %d; want %d, %d", one, twice, none, none+1, none+1)
	}
}
