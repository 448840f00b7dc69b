package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// listFixture holds five articles, a1 the oldest to a5 the newest:
//
//	a1 jake [go]       favorited by anna and bob
//	a2 anna [go sql]
//	a3 jake []
//	a4 bob  [sql]      favorited by anna
//	a5 jake [go]
//
// and anna follows jake.
type listFixture struct {
	d                  *db.DB
	jake, anna, bob    conduit.User
	a1, a2, a3, a4, a5 conduit.Article
}

func newListFixture(t *testing.T) *listFixture {
	t.Helper()
	d := dbtest.New(t)
	f := &listFixture{d: d}
	f.jake = mustCreateUser(t, d, "jake")
	f.anna = mustCreateUser(t, d, "anna")
	f.bob = mustCreateUser(t, d, "bob")
	f.a1 = mustCreateArticle(t, d, f.jake.ID, "a1", "go")
	f.a2 = mustCreateArticle(t, d, f.anna.ID, "a2", "sql", "go")
	f.a3 = mustCreateArticle(t, d, f.jake.ID, "a3")
	f.a4 = mustCreateArticle(t, d, f.bob.ID, "a4", "sql")
	f.a5 = mustCreateArticle(t, d, f.jake.ID, "a5", "go")
	mustFavorite(t, d, f.anna.ID, "a1")
	mustFavorite(t, d, f.bob.ID, "a1")
	mustFavorite(t, d, f.anna.ID, "a4")
	mustFollow(t, d, f.anna.ID, f.jake.ID)
	return f
}

func TestListArticlesFilters(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	page := conduit.Page{Limit: 20}
	for _, tt := range []struct {
		name   string
		filter conduit.ArticleFilter
		want   []string
	}{
		{"All", conduit.ArticleFilter{}, []string{"a5", "a4", "a3", "a2", "a1"}},
		{"Tag", conduit.ArticleFilter{Tag: "go"}, []string{"a5", "a2", "a1"}},
		{"Author", conduit.ArticleFilter{Author: "jake"}, []string{"a5", "a3", "a1"}},
		{"FavoritedBy", conduit.ArticleFilter{FavoritedBy: "anna"}, []string{"a4", "a1"}},
		{"Feed", conduit.ArticleFilter{FeedOf: f.anna.ID}, []string{"a5", "a3", "a1"}},
		{"FeedOfNobodyFollowed", conduit.ArticleFilter{FeedOf: f.bob.ID}, nil},
		{"TagAndAuthor", conduit.ArticleFilter{Tag: "go", Author: "jake"}, []string{"a5", "a1"}},
		{"TagAuthorFavorited", conduit.ArticleFilter{Tag: "go", Author: "jake", FavoritedBy: "bob"}, []string{"a1"}},
		{"FeedAndTag", conduit.ArticleFilter{FeedOf: f.anna.ID, Tag: "sql"}, nil},
		{"UnknownTag", conduit.ArticleFilter{Tag: "nope"}, nil},
		{"UnknownAuthor", conduit.ArticleFilter{Author: "nope"}, nil},
		{"UnknownFavoritedBy", conduit.ArticleFilter{FavoritedBy: "nope"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := mustList(t, f.d, 0, tt.filter, page)
			wantSlugs(t, got.Articles, tt.want...)
			if got.Total != len(tt.want) || got.HasMore {
				t.Errorf("total, hasMore = %d, %v, want %d, false", got.Total, got.HasMore, len(tt.want))
			}
		})
	}
}

func TestListArticlesViewer(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	byslug := func(p conduit.ArticlePage) map[string]conduit.Article {
		m := map[string]conduit.Article{}
		for _, a := range p.Articles {
			m[a.Slug] = a
		}
		return m
	}
	t.Run("Anonymous", func(t *testing.T) {
		for _, a := range mustList(t, f.d, 0, conduit.ArticleFilter{}, conduit.Page{Limit: 20}).Articles {
			if a.Favorited || a.Author.Following {
				t.Errorf("%s: favorited, following = %v, %v, want false for an anonymous viewer", a.Slug, a.Favorited, a.Author.Following)
			}
		}
	})
	t.Run("Anna", func(t *testing.T) {
		as := byslug(mustList(t, f.d, f.anna.ID, conduit.ArticleFilter{}, conduit.Page{Limit: 20}))
		for _, tt := range []struct {
			slug                 string
			favorited, following bool
			count                int
			tags                 string
		}{
			{"a1", true, true, 2, "[go]"},
			{"a2", false, false, 0, "[go sql]"},
			{"a3", false, true, 0, "[]"},
			{"a4", true, false, 1, "[sql]"},
			{"a5", false, true, 0, "[go]"},
		} {
			a := as[tt.slug]
			if a.Favorited != tt.favorited || a.Author.Following != tt.following || a.FavoritesCount != tt.count {
				t.Errorf("%s: favorited, following, favoritesCount = %v, %v, %d, want %v, %v, %d",
					tt.slug, a.Favorited, a.Author.Following, a.FavoritesCount, tt.favorited, tt.following, tt.count)
			}
			if got := fmtTags(a.TagList); got != tt.tags || a.TagList == nil {
				t.Errorf("%s: tagList = %s, want %s", tt.slug, got, tt.tags)
			}
		}
	})
	t.Run("FullArticle", func(t *testing.T) {
		a := byslug(mustList(t, f.d, f.anna.ID, conduit.ArticleFilter{}, conduit.Page{Limit: 20}))["a2"]
		want := mustArticle(t, f.d, f.anna.ID, "a2")
		if fmtArticle(a) != fmtArticle(want) {
			t.Errorf("listed = %s\nwant     %s", fmtArticle(a), fmtArticle(want))
		}
	})
}

func TestListArticlesPaging(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	all := conduit.ArticleFilter{}
	cur := func(a conduit.Article) *conduit.Cursor { c := a.Cursor(); return &c }
	for _, tt := range []struct {
		name    string
		page    conduit.Page
		want    []string
		hasMore bool
	}{
		{"FirstPage", conduit.Page{Limit: 2}, []string{"a5", "a4"}, true},
		{"Offset", conduit.Page{Limit: 2, Offset: 2}, []string{"a3", "a2"}, true},
		{"LastPage", conduit.Page{Limit: 2, Offset: 4}, []string{"a1"}, false},
		{"ExactlyAll", conduit.Page{Limit: 5}, []string{"a5", "a4", "a3", "a2", "a1"}, false},
		{"PastTheEnd", conduit.Page{Limit: 2, Offset: 10}, nil, false},
		{"LimitZero", conduit.Page{Limit: 0}, nil, true},
		{"LimitZeroAtTheEnd", conduit.Page{Limit: 0, After: cur(f.a1)}, nil, false},
		{"After", conduit.Page{Limit: 2, After: cur(f.a4)}, []string{"a3", "a2"}, true},
		{"AfterToTheEnd", conduit.Page{Limit: 3, After: cur(f.a4)}, []string{"a3", "a2", "a1"}, false},
		{"AfterTheLast", conduit.Page{Limit: 2, After: cur(f.a1)}, nil, false},
		{"Before", conduit.Page{Limit: 10, Before: cur(f.a2)}, []string{"a5", "a4", "a3"}, false},
		{"BeforeLimited", conduit.Page{Limit: 2, Before: cur(f.a2)}, []string{"a5", "a4"}, true},
		{"Between", conduit.Page{Limit: 10, After: cur(f.a5), Before: cur(f.a1)}, []string{"a4", "a3", "a2"}, false},
		{"FromEnd", conduit.Page{Limit: 2, FromEnd: true}, []string{"a2", "a1"}, true},
		{"FromEndAll", conduit.Page{Limit: 10, FromEnd: true}, []string{"a5", "a4", "a3", "a2", "a1"}, false},
		{"FromEndBefore", conduit.Page{Limit: 2, Before: cur(f.a2), FromEnd: true}, []string{"a4", "a3"}, true},
		{"FromEndBeforeAll", conduit.Page{Limit: 3, Before: cur(f.a2), FromEnd: true}, []string{"a5", "a4", "a3"}, false},
		{"FromEndAfter", conduit.Page{Limit: 2, After: cur(f.a3), FromEnd: true}, []string{"a2", "a1"}, false},
		{"FromEndBeforeTheFirst", conduit.Page{Limit: 2, Before: cur(f.a5), FromEnd: true}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := mustList(t, f.d, 0, all, tt.page)
			wantSlugs(t, got.Articles, tt.want...)
			if got.Total != 5 {
				t.Errorf("total = %d, want 5 whatever the page", got.Total)
			}
			if got.HasMore != tt.hasMore {
				t.Errorf("hasMore = %v, want %v", got.HasMore, tt.hasMore)
			}
		})
	}
	t.Run("FilteredTotal", func(t *testing.T) {
		got := mustList(t, f.d, 0, conduit.ArticleFilter{Tag: "go"}, conduit.Page{Limit: 1, After: cur(f.a5)})
		wantSlugs(t, got.Articles, "a2")
		if got.Total != 3 || !got.HasMore {
			t.Errorf("total, hasMore = %d, %v, want 3, true", got.Total, got.HasMore)
		}
		got = mustList(t, f.d, 0, conduit.ArticleFilter{Tag: "go"}, conduit.Page{Limit: 1, Offset: 3})
		if len(got.Articles) != 0 || got.Total != 3 {
			t.Errorf("past the end: %d articles, total %d, want 0, 3", len(got.Articles), got.Total)
		}
	})
	t.Run("WalkWithCursors", func(t *testing.T) {
		// Following the cursor of each page's last article visits every
		// article once, newest first.
		var seen []string
		p := conduit.Page{Limit: 2}
		for {
			got := mustList(t, f.d, 0, all, p)
			seen = append(seen, slugs(got.Articles)...)
			if !got.HasMore {
				break
			}
			p.After = cur(got.Articles[len(got.Articles)-1])
		}
		if got, want := fmtTags(seen), "[a5 a4 a3 a2 a1]"; got != want {
			t.Errorf("walked %s, want %s", got, want)
		}
	})
}

func TestListArticlesStatements(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	users := make([]conduit.User, 5)
	for i := range users {
		users[i] = mustCreateUser(t, d, fmt.Sprintf("user%d", i))
	}
	viewer := users[0]
	mustFollow(t, d, viewer.ID, users[1].ID)
	mustFollow(t, d, viewer.ID, users[2].ID)
	var articles []conduit.Article
	for i := range 60 {
		author := users[i%len(users)]
		a := mustCreateArticle(t, d, author.ID, fmt.Sprintf("article-%d", i), fmt.Sprintf("tag%d", i%4), fmt.Sprintf("tag%d", i%7), "common")
		articles = append(articles, a)
		for _, u := range users[:i%4] {
			mustFavorite(t, d, u.ID, a.Slug)
		}
	}
	middle := articles[40].Cursor()

	count := func(t *testing.T, call func() error) int64 {
		t.Helper()
		before := d.Statements()
		if err := call(); err != nil {
			t.Fatal(err)
		}
		return d.Statements() - before
	}
	for _, tt := range []struct {
		name     string
		viewerID int64
		filter   conduit.ArticleFilter
		page     conduit.Page
	}{
		{"Anonymous", 0, conduit.ArticleFilter{}, conduit.Page{}},
		{"Viewer", viewer.ID, conduit.ArticleFilter{}, conduit.Page{}},
		{"Feed", viewer.ID, conduit.ArticleFilter{FeedOf: viewer.ID}, conduit.Page{}},
		{"Tag", viewer.ID, conduit.ArticleFilter{Tag: "common"}, conduit.Page{}},
		{"FavoritedBy", 0, conduit.ArticleFilter{FavoritedBy: users[0].Username}, conduit.Page{}},
		{"Offset", viewer.ID, conduit.ArticleFilter{}, conduit.Page{Offset: 3}},
		{"After", viewer.ID, conduit.ArticleFilter{}, conduit.Page{After: &middle}},
		{"FromEnd", viewer.ID, conduit.ArticleFilter{}, conduit.Page{Before: &middle, FromEnd: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			counts := map[int]int64{}
			for _, limit := range []int{1, 50} {
				p := tt.page
				p.Limit = limit
				counts[limit] = count(t, func() error {
					page, err := d.ListArticles(ctx, tt.viewerID, tt.filter, p)
					if err == nil && len(page.Articles) == 0 {
						t.Errorf("limit %d: empty page", limit)
					}
					return err
				})
			}
			if counts[1] != counts[50] || counts[1] != 1 {
				t.Errorf("statements for limit 1, 50 = %d, %d, want 1, 1", counts[1], counts[50])
			}
		})
	}

	ids := make([]int64, len(articles))
	for i, a := range articles {
		ids[i] = a.ID
		if i%3 == 0 {
			for j := range 3 {
				mustComment(t, d, a.Slug, users[j].ID, "comment")
			}
		}
	}
	t.Run("CommentPages", func(t *testing.T) {
		for _, n := range []int{1, 50} {
			got := count(t, func() error {
				pages, err := d.CommentPages(ctx, viewer.ID, ids[:n], conduit.Page{Limit: 2})
				if err == nil && len(pages) != n {
					t.Errorf("%d pages, want %d", len(pages), n)
				}
				return err
			})
			if got != 1 {
				t.Errorf("statements for comments of %d articles = %d, want 1", n, got)
			}
		}
	})
}

// TestRowsKeepTheirOwnValues reads pages whose rows alternate between
// values and NULLs (bio, image, tags) and between true and false (the
// viewer's favorite, follow): the articles are scanned through one set of
// targets, so a row must not keep what the row before it held.
func TestRowsKeepTheirOwnValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	ann, bob, cy, bio, image := annBobAndCy(t, d)
	// Oldest first: ann's tagged and favorited, bob's bare, four times.
	var ids []int64
	for i := range 4 {
		ids = append(ids, mustCreateArticle(t, d, ann.ID, fmt.Sprint("ann-", i), "go", fmt.Sprint("t", i)).ID)
		mustFavorite(t, d, cy.ID, fmt.Sprint("ann-", i))
		ids = append(ids, mustCreateArticle(t, d, bob.ID, fmt.Sprint("bob-", i)).ID)
	}
	check := func(t *testing.T, got conduit.Article) {
		t.Helper()
		var want struct {
			bio, image       *string
			tags             []string
			favorited, follo bool
			favorites        int
		}
		want.tags = []string{}
		if got.Author.ID == ann.ID {
			n := got.Slug[len("ann-"):]
			want.bio, want.image, want.tags = &bio, &image, []string{"go", "t" + n}
			want.favorited, want.follo, want.favorites = true, true, 1
		}
		if !equalPtr(got.Author.Bio, want.bio) || !equalPtr(got.Author.Image, want.image) {
			t.Errorf("%s: bio %v image %v, want %v %v", got.Slug, deref(got.Author.Bio), deref(got.Author.Image), deref(want.bio), deref(want.image))
		}
		if got.TagList == nil || fmt.Sprint(got.TagList) != fmt.Sprint(want.tags) {
			t.Errorf("%s: tags %#v, want %#v", got.Slug, got.TagList, want.tags)
		}
		if got.Favorited != want.favorited || got.Author.Following != want.follo || got.FavoritesCount != want.favorites {
			t.Errorf("%s: favorited %v following %v favorites %d, want %v %v %d",
				got.Slug, got.Favorited, got.Author.Following, got.FavoritesCount, want.favorited, want.follo, want.favorites)
		}
	}
	t.Run("ListArticles", func(t *testing.T) {
		page := mustList(t, d, cy.ID, conduit.ArticleFilter{}, conduit.Page{Limit: 20})
		if len(page.Articles) != 8 || page.Total != 8 {
			t.Fatalf("%d articles of %d, want 8 of 8", len(page.Articles), page.Total)
		}
		for i, a := range page.Articles {
			if want := ids[len(ids)-1-i]; a.ID != want {
				t.Errorf("article %d is %d, want %d", i, a.ID, want)
			}
			check(t, a)
		}
	})
	t.Run("ArticlesByID", func(t *testing.T) {
		found, err := d.ArticlesByID(ctx, cy.ID, ids)
		if err != nil || len(found) != 8 {
			t.Fatalf("%d articles, %v; want 8", len(found), err)
		}
		for _, a := range found {
			check(t, a)
		}
		none, err := d.ArticlesByID(ctx, cy.ID, []int64{-1})
		if err != nil || none == nil || len(none) != 0 {
			t.Fatalf("ArticlesByID(-1) = %#v, %v; want an empty slice", none, err)
		}
	})
}

func equalPtr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// TestSignedOutReads reads an article, a list and comments signed out and
// signed in as a reader who favorited the article and follows its author:
// signed out, each statement is the one without the viewer's lookups
// (viewedArticle), and only favorited and following differ.
func TestSignedOutReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	ann, cy := mustCreateUser(t, d, "ann"), mustCreateUser(t, d, "cy")
	mustFollow(t, d, cy.ID, ann.ID)
	a := mustCreateArticle(t, d, ann.ID, "post", "go")
	mustFavorite(t, d, cy.ID, "post")
	c := mustComment(t, d, "post", ann.ID, "first")

	if q, _ := db.ListArticlesSQL(0, conduit.ArticleFilter{}, conduit.Page{Limit: 20}); strings.Contains(q, "favorites f") || strings.Contains(q, "follows fo") || strings.Contains(q, "$1") {
		t.Errorf("the list signed out looks up a viewer:\n%s", q)
	}
	read := func(viewer int64) (articles []conduit.Article, comments []conduit.Comment) {
		t.Helper()
		page := mustList(t, d, viewer, conduit.ArticleFilter{Tag: "go"}, conduit.Page{Limit: 20})
		bySlug, err := d.ArticleBySlug(ctx, viewer, "post")
		if err != nil {
			t.Fatal(err)
		}
		byID, err := d.ArticlesByID(ctx, viewer, []int64{a.ID})
		if err != nil || len(byID) != 1 {
			t.Fatalf("ArticlesByID: %v, %v", byID, err)
		}
		all, err := d.CommentsBySlug(ctx, viewer, "post")
		if err != nil || len(all) != 1 {
			t.Fatalf("CommentsBySlug: %v, %v", all, err)
		}
		cs, err := d.CommentsByID(ctx, viewer, []int64{c.ID})
		if err != nil || len(cs) != 1 {
			t.Fatalf("CommentsByID: %v, %v", cs, err)
		}
		cp, err := d.CommentPageBySlug(ctx, viewer, "post", conduit.Page{Limit: 20})
		if err != nil || len(cp.Comments) != 1 || cp.Total != 1 || cp.ArticleID != a.ID {
			t.Fatalf("CommentPageBySlug: %+v, %v", cp, err)
		}
		if len(page.Articles) != 1 {
			t.Fatalf("list: %d articles, want 1", len(page.Articles))
		}
		return []conduit.Article{page.Articles[0], bySlug, byID[0]}, []conduit.Comment{all[0], cs[0], cp.Comments[0]}
	}
	outArticles, outComments := read(0)
	inArticles, inComments := read(cy.ID)
	for i := range outArticles {
		out, in := outArticles[i], inArticles[i]
		if out.Favorited || out.Author.Following || !in.Favorited || !in.Author.Following {
			t.Errorf("article %d: favorited, following %v %v signed out, %v %v signed in; want false false, true true",
				i, out.Favorited, out.Author.Following, in.Favorited, in.Author.Following)
		}
		in.Favorited, in.Author.Following = false, false
		if fmt.Sprint(out) != fmt.Sprint(in) {
			t.Errorf("article %d: signed out %+v, signed in %+v", i, out, in)
		}
	}
	for i := range outComments {
		out, in := outComments[i], inComments[i]
		if out.Author.Following || !in.Author.Following {
			t.Errorf("comment %d: following %v signed out, %v signed in; want false, true", i, out.Author.Following, in.Author.Following)
		}
		in.Author.Following = false
		if fmt.Sprint(out) != fmt.Sprint(in) || out.ID != c.ID {
			t.Errorf("comment %d: signed out %+v, signed in %+v", i, out, in)
		}
	}
}
