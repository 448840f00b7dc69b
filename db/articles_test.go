package db_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

func TestCreateArticle(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	mustCreateArticle(t, d, jake.ID, "taken", "old")

	t.Run("OK", func(t *testing.T) {
		a, err := d.CreateArticle(ctx, conduit.NewArticle{
			AuthorID: jake.ID, Slug: "how-to-train-your-dragon",
			Title: "How to train your dragon", Description: "Ever wonder how?", Body: "You have to believe",
			TagList: []string{"dragons", "Zebra", "angularjs", "training"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || a.Slug != "how-to-train-your-dragon" || a.Title != "How to train your dragon" ||
			a.Description != "Ever wonder how?" || a.Body != "You have to believe" {
			t.Errorf("article = %+v, want the values given", a)
		}
		// Byte order, as the service sorts: capitals first.
		if want := []string{"Zebra", "angularjs", "dragons", "training"}; !slices.Equal(a.TagList, want) {
			t.Errorf("tagList = %q, want %q", a.TagList, want)
		}
		if a.Favorited || a.FavoritesCount != 0 {
			t.Errorf("favorited, favoritesCount = %v, %d, want false, 0", a.Favorited, a.FavoritesCount)
		}
		if want := (conduit.Profile{ID: jake.ID, Username: "jake"}); a.Author != want {
			t.Errorf("author = %+v, want %+v", a.Author, want)
		}
		if a.CreatedAt.Location() != time.UTC || !a.CreatedAt.Equal(a.UpdatedAt) || time.Since(a.CreatedAt) > time.Minute {
			t.Errorf("createdAt, updatedAt = %v, %v, want now in UTC, twice", a.CreatedAt, a.UpdatedAt)
		}
	})
	t.Run("NoTags", func(t *testing.T) {
		a := mustCreateArticle(t, d, jake.ID, "untagged")
		if a.TagList == nil || len(a.TagList) != 0 {
			t.Errorf("tagList = %#v, want an empty non-nil slice", a.TagList)
		}
		if got := mustArticle(t, d, 0, "untagged"); got.TagList == nil {
			t.Errorf("ArticleBySlug tagList = nil, want an empty slice")
		}
	})
	t.Run("ErrSlugTaken", func(t *testing.T) {
		_, err := d.CreateArticle(ctx, conduit.NewArticle{AuthorID: jake.ID, Slug: "taken", Title: "T", Description: "D", Body: "B", TagList: []string{"fresh"}})
		wantError(t, err, conduit.Conflict, map[string][]string{"slug": taken})
		// Nothing was written: the tag of the refused article is nowhere.
		tags, err := d.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(tags, "fresh") {
			t.Errorf("tags = %q, want no tag of the refused article", tags)
		}
		if a := mustArticle(t, d, 0, "taken"); a.Title != "Title of taken" || !slices.Equal(a.TagList, []string{"old"}) {
			t.Errorf("existing article = %+v, want it unchanged", a)
		}
	})
	t.Run("SharedTags", func(t *testing.T) {
		a := mustCreateArticle(t, d, jake.ID, "shared", "old", "new")
		if want := []string{"new", "old"}; !slices.Equal(a.TagList, want) {
			t.Errorf("tagList = %q, want %q", a.TagList, want)
		}
	})
}

func TestCreateArticleConcurrentTags(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	jake := mustCreateUser(t, d, "jake")
	// Racing creators of the same new tags must each link every tag, and
	// must not deadlock.
	tags := []string{"a", "b", "c", "d", "e"}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			a, err := d.CreateArticle(context.Background(), conduit.NewArticle{
				AuthorID: jake.ID, Slug: fmt.Sprintf("article-%d", i), Title: "T", Description: "D", Body: "B", TagList: tags,
			})
			if err != nil {
				t.Errorf("CreateArticle: %v", err)
				return
			}
			if !slices.Equal(a.TagList, tags) {
				t.Errorf("tagList = %q, want %q", a.TagList, tags)
			}
		})
	}
	wg.Wait()
}

func TestArticleLookups(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	one := mustCreateArticle(t, d, jake.ID, "one", "b", "a")
	two := mustCreateArticle(t, d, anna.ID, "two")
	mustFavorite(t, d, anna.ID, "one")
	mustFollow(t, d, anna.ID, jake.ID)

	t.Run("BySlugAsViewer", func(t *testing.T) {
		a := mustArticle(t, d, anna.ID, "one")
		if a.ID != one.ID || !a.Favorited || a.FavoritesCount != 1 || !a.Author.Following || !slices.Equal(a.TagList, []string{"a", "b"}) {
			t.Errorf("article = %+v, want one, favorited once, author followed", a)
		}
	})
	t.Run("BySlugAnonymous", func(t *testing.T) {
		a := mustArticle(t, d, 0, "one")
		if a.Favorited || a.FavoritesCount != 1 || a.Author.Following {
			t.Errorf("article = %+v, want favorited and following false, count 1", a)
		}
	})
	t.Run("BySlugErrNotFound", func(t *testing.T) {
		_, err := d.ArticleBySlug(ctx, 0, "nope")
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"article not found"}})
	})
	t.Run("ByID", func(t *testing.T) {
		as, err := d.ArticlesByID(ctx, anna.ID, []int64{two.ID, one.ID, two.ID + 100})
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(as, func(a, b conduit.Article) int { return int(a.ID - b.ID) })
		wantSlugs(t, as, "one", "two")
		if !as[0].Favorited || !as[0].Author.Following || as[1].Favorited {
			t.Errorf("viewer flags = %v %v %v, want true true false", as[0].Favorited, as[0].Author.Following, as[1].Favorited)
		}
		if as[1].TagList == nil {
			t.Error("tagList = nil, want an empty slice")
		}
	})
	t.Run("ByIDNone", func(t *testing.T) {
		as, err := d.ArticlesByID(ctx, 0, []int64{})
		if err != nil || as == nil || len(as) != 0 {
			t.Errorf("ArticlesByID([]) = %v, %v, want an empty slice", as, err)
		}
	})
}

func TestUpdateArticle(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	a := mustCreateArticle(t, d, jake.ID, "first", "keep", "drop")
	mustCreateArticle(t, d, jake.ID, "second")
	mustFavorite(t, d, anna.ID, "first")

	t.Run("OK", func(t *testing.T) {
		time.Sleep(2 * time.Millisecond) // updated_at has millisecond precision
		got, err := d.UpdateArticle(ctx, anna.ID, a.ID, conduit.ArticleChanges{
			Slug:    conduit.Some("renamed"),
			Title:   conduit.Some("Renamed"),
			Body:    conduit.Some("New body"),
			TagList: conduit.Some([]string{"keep", "add"}),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID || got.Slug != "renamed" || got.Title != "Renamed" || got.Body != "New body" || got.Description != a.Description {
			t.Errorf("article = %+v, want slug, title and body changed", got)
		}
		if want := []string{"add", "keep"}; !slices.Equal(got.TagList, want) {
			t.Errorf("tagList = %q, want %q", got.TagList, want)
		}
		if !got.Favorited || got.FavoritesCount != 1 {
			t.Errorf("favorited, count = %v, %d, want as anna sees it: true, 1", got.Favorited, got.FavoritesCount)
		}
		if !got.UpdatedAt.After(a.UpdatedAt) || !got.CreatedAt.Equal(a.CreatedAt) {
			t.Errorf("createdAt, updatedAt = %v, %v, want %v and later", got.CreatedAt, got.UpdatedAt, a.CreatedAt)
		}
		if _, err := d.ArticleBySlug(ctx, 0, "first"); conduit.ErrorCode(err) != conduit.NotFound {
			t.Errorf("old slug: %v, want NotFound", err)
		}
	})
	t.Run("TagsUntouchedUnlessSet", func(t *testing.T) {
		got, err := d.UpdateArticle(ctx, 0, a.ID, conduit.ArticleChanges{Description: conduit.Some("New description")})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"add", "keep"}; !slices.Equal(got.TagList, want) || got.Description != "New description" {
			t.Errorf("tagList, description = %q, %q, want %q, New description", got.TagList, got.Description, want)
		}
	})
	t.Run("ClearTags", func(t *testing.T) {
		got, err := d.UpdateArticle(ctx, 0, a.ID, conduit.ArticleChanges{TagList: conduit.Some([]string{})})
		if err != nil {
			t.Fatal(err)
		}
		if got.TagList == nil || len(got.TagList) != 0 {
			t.Errorf("tagList = %#v, want empty", got.TagList)
		}
	})
	t.Run("ErrSlugTaken", func(t *testing.T) {
		_, err := d.UpdateArticle(ctx, 0, a.ID, conduit.ArticleChanges{Slug: conduit.Some("second"), Title: conduit.Some("Second"), TagList: conduit.Some([]string{"x"})})
		wantError(t, err, conduit.Conflict, map[string][]string{"slug": taken})
		got := mustArticle(t, d, 0, "renamed")
		if got.Title != "Renamed" || len(got.TagList) != 0 {
			t.Errorf("article = %+v after a conflict, want it unchanged", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.UpdateArticle(ctx, 0, a.ID+100, conduit.ArticleChanges{Title: conduit.Some("x")})
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"article not found"}})
	})
}

func TestDeleteArticle(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	a := mustCreateArticle(t, d, jake.ID, "doomed", "only-here", "shared")
	mustCreateArticle(t, d, jake.ID, "kept", "shared")
	mustFavorite(t, d, anna.ID, "doomed")
	c := mustComment(t, d, "doomed", anna.ID, "first!")

	t.Run("OK", func(t *testing.T) {
		if err := d.DeleteArticle(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ArticleBySlug(ctx, 0, "doomed"); conduit.ErrorCode(err) != conduit.NotFound {
			t.Errorf("ArticleBySlug after delete: %v, want NotFound", err)
		}
	})
	t.Run("Cascade", func(t *testing.T) {
		cs, err := d.CommentsByID(ctx, 0, []int64{c.ID})
		if err != nil || len(cs) != 0 {
			t.Errorf("comments of the deleted article = %v, %v, want none", cs, err)
		}
		wantSlugs(t, mustList(t, d, 0, conduit.ArticleFilter{FavoritedBy: "anna"}, conduit.Page{Limit: 10}).Articles)
		tags, err := d.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"shared"}; !slices.Equal(tags, want) {
			t.Errorf("tags = %q, want %q", tags, want)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		wantError(t, d.DeleteArticle(ctx, a.ID), conduit.NotFound, map[string][]string{conduit.NoField: {"article not found"}})
	})
}

func TestFavorite(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	mustCreateArticle(t, d, jake.ID, "liked")

	t.Run("OK", func(t *testing.T) {
		for range 2 { // twice counts once
			a := mustFavorite(t, d, anna.ID, "liked")
			if !a.Favorited || a.FavoritesCount != 1 {
				t.Errorf("favorited, favoritesCount = %v, %d, want true, 1", a.Favorited, a.FavoritesCount)
			}
		}
		if a := mustArticle(t, d, jake.ID, "liked"); a.Favorited || a.FavoritesCount != 1 {
			t.Errorf("as jake: favorited, favoritesCount = %v, %d, want false, 1", a.Favorited, a.FavoritesCount)
		}
	})
	t.Run("Unfavorite", func(t *testing.T) {
		for range 2 { // twice uncounts once
			a, err := d.Unfavorite(ctx, anna.ID, "liked")
			if err != nil {
				t.Fatal(err)
			}
			if a.Favorited || a.FavoritesCount != 0 {
				t.Errorf("favorited, favoritesCount = %v, %d, want false, 0", a.Favorited, a.FavoritesCount)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.Favorite(ctx, anna.ID, "nope")
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"article not found"}})
		_, err = d.Unfavorite(ctx, anna.ID, "nope")
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"article not found"}})
	})
}

func TestFavoriteConcurrent(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	author := mustCreateUser(t, d, "author")
	mustCreateArticle(t, d, author.ID, "popular")
	const n = 50
	users := make([]conduit.User, n)
	for i := range users {
		users[i] = mustCreateUser(t, d, fmt.Sprintf("fan%02d", i))
	}
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			// Each fan favorites twice at once: only distinct users count.
			for range 2 {
				if _, err := d.Favorite(ctx, u.ID, "popular"); err != nil {
					t.Errorf("Favorite: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if got := mustArticle(t, d, 0, "popular").FavoritesCount; got != n {
		t.Fatalf("favoritesCount = %d, want %d", got, n)
	}
	for _, u := range users[:n/2] {
		wg.Go(func() {
			if _, err := d.Unfavorite(ctx, u.ID, "popular"); err != nil {
				t.Errorf("Unfavorite: %v", err)
			}
		})
	}
	wg.Wait()
	if got := mustArticle(t, d, 0, "popular").FavoritesCount; got != n-n/2 {
		t.Fatalf("favoritesCount = %d, want %d", got, n-n/2)
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()

	t.Run("None", func(t *testing.T) {
		tags, err := d.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tags == nil || len(tags) != 0 {
			t.Errorf("Tags = %#v, want an empty non-nil slice", tags)
		}
	})
	t.Run("MostUsedFirst", func(t *testing.T) {
		jake := mustCreateUser(t, d, "jake")
		mustCreateArticle(t, d, jake.ID, "a1", "go", "sql", "zig")
		mustCreateArticle(t, d, jake.ID, "a2", "go", "sql", "b")
		mustCreateArticle(t, d, jake.ID, "a3", "go", "a")
		a4 := mustCreateArticle(t, d, jake.ID, "a4", "unused-soon")
		if _, err := d.UpdateArticle(ctx, 0, a4.ID, conduit.ArticleChanges{TagList: conduit.Some([]string{})}); err != nil {
			t.Fatal(err)
		}
		tags, err := d.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"go", "sql", "a", "b", "zig"}; !slices.Equal(tags, want) {
			t.Errorf("Tags = %q, want %q", tags, want)
		}
	})
}
