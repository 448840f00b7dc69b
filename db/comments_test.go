package db_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

func TestCreateComment(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	a := mustCreateArticle(t, d, jake.ID, "post")
	mustFollow(t, d, anna.ID, jake.ID)

	t.Run("OK", func(t *testing.T) {
		c, err := d.CreateComment(ctx, "post", jake.ID, "Thank you so much!")
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || c.ArticleID != a.ID || c.Body != "Thank you so much!" {
			t.Errorf("comment = %+v, want the values given", c)
		}
		if want := (conduit.Profile{ID: jake.ID, Username: "jake"}); c.Author != want {
			t.Errorf("author = %+v, want %+v", c.Author, want)
		}
		if c.CreatedAt.Location() != time.UTC || !c.CreatedAt.Equal(c.UpdatedAt) || time.Since(c.CreatedAt) > time.Minute {
			t.Errorf("createdAt, updatedAt = %v, %v, want now in UTC, twice", c.CreatedAt, c.UpdatedAt)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.CreateComment(ctx, "nope", jake.ID, "hello")
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"article not found"}})
	})
}

func TestCommentsBySlug(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	mustCreateArticle(t, d, jake.ID, "post")
	mustCreateArticle(t, d, jake.ID, "quiet")
	mustComment(t, d, "post", jake.ID, "one")
	mustComment(t, d, "post", anna.ID, "two")
	mustComment(t, d, "post", jake.ID, "three")
	mustFollow(t, d, anna.ID, jake.ID)

	t.Run("OK", func(t *testing.T) {
		cs, err := d.CommentsBySlug(ctx, anna.ID, "post")
		if err != nil {
			t.Fatal(err)
		}
		wantBodies(t, cs, "three", "two", "one")
		for _, c := range cs {
			if want := c.Author.Username == "jake"; c.Author.Following != want {
				t.Errorf("%s by %s: following = %v, want %v", c.Body, c.Author.Username, c.Author.Following, want)
			}
		}
	})
	t.Run("Anonymous", func(t *testing.T) {
		cs, err := d.CommentsBySlug(ctx, 0, "post")
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(cs, func(c conduit.Comment) bool { return c.Author.Following }) {
			t.Error("following = true for an anonymous viewer")
		}
	})
	t.Run("NoComments", func(t *testing.T) {
		cs, err := d.CommentsBySlug(ctx, 0, "quiet")
		if err != nil {
			t.Fatal(err)
		}
		if cs == nil || len(cs) != 0 {
			t.Errorf("comments = %#v, want an empty non-nil slice", cs)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.CommentsBySlug(ctx, 0, "nope")
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"article not found"}})
	})
}

func TestCommentLookups(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	mustCreateArticle(t, d, jake.ID, "post")
	mustCreateArticle(t, d, jake.ID, "other")
	c1 := mustComment(t, d, "post", jake.ID, "one")
	c2 := mustComment(t, d, "other", jake.ID, "two")

	t.Run("ByID", func(t *testing.T) {
		cs, err := d.CommentsByID(ctx, 0, []int64{c2.ID, c1.ID, c2.ID + 100})
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(cs, func(a, b conduit.Comment) int { return int(a.ID - b.ID) })
		if len(cs) != 2 || cs[0] != c1 || cs[1] != c2 {
			t.Errorf("CommentsByID = %+v, want %+v and %+v", cs, c1, c2)
		}
	})
	t.Run("InArticleOK", func(t *testing.T) {
		c, err := d.CommentInArticle(ctx, 0, "post", c1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c != c1 {
			t.Errorf("CommentInArticle = %+v, want %+v", c, c1)
		}
	})
	t.Run("InArticleErrArticleNotFound", func(t *testing.T) {
		_, err := d.CommentInArticle(ctx, 0, "nope", c1.ID)
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"article not found"}})
	})
	t.Run("InArticleErrOtherArticle", func(t *testing.T) {
		_, err := d.CommentInArticle(ctx, 0, "post", c2.ID)
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"comment not found"}})
	})
	t.Run("InArticleErrCommentNotFound", func(t *testing.T) {
		_, err := d.CommentInArticle(ctx, 0, "post", c2.ID+100)
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"comment not found"}})
	})
	t.Run("Delete", func(t *testing.T) {
		if err := d.DeleteComment(ctx, c1.ID); err != nil {
			t.Fatal(err)
		}
		cs, err := d.CommentsBySlug(ctx, 0, "post")
		if err != nil || len(cs) != 0 {
			t.Errorf("comments after delete = %v, %v, want none", cs, err)
		}
	})
	t.Run("DeleteErrNotFound", func(t *testing.T) {
		wantError(t, d.DeleteComment(ctx, c1.ID), conduit.NotFound, map[string][]string{conduit.NoField: {"comment not found"}})
	})
}

func TestCommentPages(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	busy := mustCreateArticle(t, d, jake.ID, "busy")
	quiet := mustCreateArticle(t, d, jake.ID, "quiet")
	single := mustCreateArticle(t, d, jake.ID, "single")
	var cs []conduit.Comment // c1 oldest .. c5 newest on busy
	for _, body := range []string{"c1", "c2", "c3", "c4", "c5"} {
		cs = append(cs, mustComment(t, d, "busy", anna.ID, body))
	}
	mustComment(t, d, "single", jake.ID, "only")
	mustFollow(t, d, jake.ID, anna.ID)
	cur := func(c conduit.Comment) *conduit.Cursor { x := c.Cursor(); return &x }

	pages := func(t *testing.T, viewerID int64, ids []int64, p conduit.Page) []conduit.CommentPage {
		t.Helper()
		got, err := d.CommentPages(ctx, viewerID, ids, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ids) {
			t.Fatalf("%d pages, want %d", len(got), len(ids))
		}
		for i, page := range got {
			if page.ArticleID != ids[i] {
				t.Fatalf("page %d is of article %d, want %d", i, page.ArticleID, ids[i])
			}
			if page.Comments == nil {
				t.Fatalf("page %d: comments = nil, want a non-nil slice", i)
			}
		}
		return got
	}
	wantPage := func(t *testing.T, got conduit.CommentPage, total int, hasMore bool, bodies ...string) {
		t.Helper()
		wantBodies(t, got.Comments, bodies...)
		if got.Total != total || got.HasMore != hasMore {
			t.Errorf("article %d: total, hasMore = %d, %v, want %d, %v", got.ArticleID, got.Total, got.HasMore, total, hasMore)
		}
	}

	t.Run("Aligned", func(t *testing.T) {
		got := pages(t, jake.ID, []int64{quiet.ID, busy.ID, single.ID, busy.ID + 100, busy.ID}, conduit.Page{Limit: 2})
		wantPage(t, got[0], 0, false)
		wantPage(t, got[1], 5, true, "c5", "c4")
		wantPage(t, got[2], 1, false, "only")
		wantPage(t, got[3], 0, false)
		wantPage(t, got[4], 5, true, "c5", "c4")
		if !got[1].Comments[0].Author.Following || got[2].Comments[0].Author.Following {
			t.Errorf("following = %v, %v, want true for anna, false for jake himself",
				got[1].Comments[0].Author.Following, got[2].Comments[0].Author.Following)
		}
	})
	t.Run("Offset", func(t *testing.T) {
		got := pages(t, 0, []int64{busy.ID, single.ID}, conduit.Page{Limit: 2, Offset: 2})
		wantPage(t, got[0], 5, true, "c3", "c2")
		wantPage(t, got[1], 1, false)
	})
	t.Run("After", func(t *testing.T) {
		got := pages(t, 0, []int64{busy.ID}, conduit.Page{Limit: 2, After: cur(cs[2])})
		wantPage(t, got[0], 5, false, "c2", "c1")
	})
	t.Run("Before", func(t *testing.T) {
		got := pages(t, 0, []int64{busy.ID}, conduit.Page{Limit: 1, Before: cur(cs[2])})
		wantPage(t, got[0], 5, true, "c5")
	})
	t.Run("FromEnd", func(t *testing.T) {
		got := pages(t, 0, []int64{busy.ID, quiet.ID}, conduit.Page{Limit: 2, FromEnd: true})
		wantPage(t, got[0], 5, true, "c2", "c1")
		wantPage(t, got[1], 0, false)
	})
	t.Run("FromEndBefore", func(t *testing.T) {
		got := pages(t, 0, []int64{busy.ID}, conduit.Page{Limit: 5, Before: cur(cs[1]), FromEnd: true})
		wantPage(t, got[0], 5, false, "c5", "c4", "c3")
	})
	t.Run("LimitZero", func(t *testing.T) {
		got := pages(t, 0, []int64{busy.ID, quiet.ID}, conduit.Page{})
		wantPage(t, got[0], 5, true)
		wantPage(t, got[1], 0, false)
	})
	t.Run("NoIDs", func(t *testing.T) {
		got, err := d.CommentPages(ctx, 0, nil, conduit.Page{Limit: 2})
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("CommentPages(nil) = %v, %v, want an empty slice", got, err)
		}
	})
}

// TestArticleWithComments proves that the one statement of
// ArticleWithComments answers what ArticleBySlug and CommentPages answer,
// and the one of CommentPageBySlug what CommentPages answers, page for
// page, including comments written in the same instant (ordered by id).
func TestArticleWithComments(t *testing.T) {
	t.Parallel()
	d, url := dbtest.NewWithURL(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	mustCreateArticle(t, d, jake.ID, "post", "b", "a")
	mustCreateArticle(t, d, jake.ID, "quiet")
	var all []conduit.Comment
	for _, body := range []string{"one", "two", "three", "four", "five"} {
		author := jake.ID
		if body == "two" {
			author = anna.ID
		}
		all = append(all, mustComment(t, d, "post", author, body))
	}
	mustFollow(t, d, anna.ID, jake.ID)
	cursor := func(i int) *conduit.Cursor { c := all[i].Cursor(); return &c }
	mustCreateArticle(t, d, anna.ID, "ties")
	for _, body := range []string{"one", "two", "three"} {
		mustComment(t, d, "ties", anna.ID, body)
	}
	dbtest.Exec(t, url, `UPDATE comments SET created_at = '2026-01-02T03:04:05Z' WHERE article_id = (SELECT id FROM articles WHERE slug = 'ties')`)

	for _, tc := range []struct {
		name string
		slug string
		page conduit.Page
	}{
		{"First", "post", conduit.Page{Limit: 20}},
		{"Limited", "post", conduit.Page{Limit: 2}},
		{"Zero", "post", conduit.Page{Limit: 0}},
		{"After", "post", conduit.Page{Limit: 2, After: cursor(3)}},
		{"Before", "post", conduit.Page{Limit: 2, Before: cursor(1)}},
		{"Last", "post", conduit.Page{Limit: 2, FromEnd: true}},
		{"LastBefore", "post", conduit.Page{Limit: 2, FromEnd: true, Before: cursor(0), After: cursor(4)}},
		{"Offset", "post", conduit.Page{Limit: 2, Offset: 1}},
		{"NoComments", "quiet", conduit.Page{Limit: 20}},
		{"SameInstant", "ties", conduit.Page{Limit: 20}},
		{"SameInstantLast", "ties", conduit.Page{Limit: 2, FromEnd: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, viewer := range []int64{0, anna.ID} {
				a, page, err := d.ArticleWithComments(ctx, viewer, tc.slug, tc.page)
				if err != nil {
					t.Fatal(err)
				}
				wantArticle := mustArticle(t, d, viewer, tc.slug)
				pages, err := d.CommentPages(ctx, viewer, []int64{wantArticle.ID}, tc.page)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := fmtArticle(a), fmtArticle(wantArticle); got != want {
					t.Errorf("article = %s, want %s", got, want)
				}
				if !reflect.DeepEqual(page, pages[0]) {
					t.Errorf("viewer %d: page = %+v, want %+v", viewer, page, pages[0])
				}
				alone, err := d.CommentPageBySlug(ctx, viewer, tc.slug, tc.page)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(alone, pages[0]) {
					t.Errorf("viewer %d: CommentPageBySlug = %+v, want %+v", viewer, alone, pages[0])
				}
			}
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		_, _, err := d.ArticleWithComments(ctx, anna.ID, "nope", conduit.Page{Limit: 20})
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"article not found"}})
		_, err = d.CommentPageBySlug(ctx, anna.ID, "nope", conduit.Page{Limit: 20})
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"article not found"}})
	})
}

// TestCommentRowsKeepTheirOwnValues reads the comments of an author with a
// bio, an image and a follower and of one with none, in turn, through
// every statement that scans comments: the scan targets are shared from
// row to row, and no comment may keep another's values.
func TestCommentRowsKeepTheirOwnValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	ann, bob, cy, bio, image := annBobAndCy(t, d)
	post, quiet := mustCreateArticle(t, d, bob.ID, "post"), mustCreateArticle(t, d, bob.ID, "quiet")
	var ids []int64
	for i := range 4 {
		ids = append(ids, mustComment(t, d, "post", ann.ID, fmt.Sprint("ann ", i)).ID, mustComment(t, d, "post", bob.ID, fmt.Sprint("bob ", i)).ID)
	}
	check := func(t *testing.T, cs []conduit.Comment) {
		t.Helper()
		if len(cs) != 8 {
			t.Fatalf("%d comments, want 8", len(cs))
		}
		for _, c := range cs {
			var wantBio, wantImage *string
			wantFollowing := false
			if c.Author.ID == ann.ID {
				wantBio, wantImage, wantFollowing = &bio, &image, true
			}
			if !strings.HasPrefix(c.Body, c.Author.Username+" ") || c.ArticleID != post.ID {
				t.Errorf("comment %d: %q by %s on article %d, want one of its author's on %d", c.ID, c.Body, c.Author.Username, c.ArticleID, post.ID)
			}
			if !equalPtr(c.Author.Bio, wantBio) || !equalPtr(c.Author.Image, wantImage) || c.Author.Following != wantFollowing {
				t.Errorf("%q: bio %v image %v following %v, want %v %v %v", c.Body, deref(c.Author.Bio), deref(c.Author.Image),
					c.Author.Following, deref(wantBio), deref(wantImage), wantFollowing)
			}
		}
		// Each row's bio is its own: changing one changes no other.
		for i := range cs {
			if cs[i].Author.Bio != nil {
				*cs[i].Author.Bio += "!"
			}
		}
		for _, c := range cs {
			if c.Author.Bio != nil && *c.Author.Bio != bio+"!" {
				t.Fatalf("%q: bio %q after each was changed once, want %q: rows share it", c.Body, *c.Author.Bio, bio+"!")
			}
		}
	}
	t.Run("CommentsBySlug", func(t *testing.T) {
		cs, err := d.CommentsBySlug(ctx, cy.ID, "post")
		if err != nil {
			t.Fatal(err)
		}
		check(t, cs)
	})
	t.Run("CommentsByID", func(t *testing.T) {
		cs, err := d.CommentsByID(ctx, cy.ID, ids)
		if err != nil {
			t.Fatal(err)
		}
		check(t, cs)
	})
	t.Run("CommentPages", func(t *testing.T) {
		pages, err := d.CommentPages(ctx, cy.ID, []int64{quiet.ID, post.ID}, conduit.Page{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if len(pages) != 2 || len(pages[0].Comments) != 0 || pages[0].Total != 0 || pages[1].Total != 8 {
			t.Fatalf("pages = %+v, want none of 0 for quiet, then 8 of 8", pages)
		}
		check(t, pages[1].Comments)
	})
	t.Run("CommentPageBySlug", func(t *testing.T) {
		page, err := d.CommentPageBySlug(ctx, cy.ID, "post", conduit.Page{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if page.ArticleID != post.ID || page.Total != 8 || page.HasMore {
			t.Fatalf("page of article %d, %d in all, more %v; want %d, 8, false", page.ArticleID, page.Total, page.HasMore, post.ID)
		}
		check(t, page.Comments)
	})
	t.Run("CommentInArticle", func(t *testing.T) {
		for _, id := range ids[:2] {
			c, err := d.CommentInArticle(ctx, cy.ID, "post", id)
			if err != nil {
				t.Fatal(err)
			}
			if wantFollowing := c.Author.ID == ann.ID; c.ID != id || c.Author.Following != wantFollowing || (c.Author.Bio != nil) != wantFollowing {
				t.Errorf("comment %d = %+v, want comment %d with its author's bio and following", c.ID, c, id)
			}
		}
	})
}
