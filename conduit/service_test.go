package conduit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

const password = "correct horse"

func newService(tb testing.TB) *conduit.Service {
	tb.Helper()
	svc, err := conduit.NewService(dbtest.New(tb), conduit.Config{JWTSecret: []byte("test secret"), BcryptCost: 4})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

// as returns a context in which viewer u makes the calls.
func as(u conduit.User) context.Context {
	return conduit.NewContextWithViewer(context.Background(), conduit.Viewer{UserID: u.ID})
}

func mustRegister(tb testing.TB, svc *conduit.Service, username string) conduit.User {
	tb.Helper()
	s, err := svc.Register(context.Background(), conduit.RegisterInput{Username: username, Email: username + "@example.com", Password: password})
	if err != nil {
		tb.Fatalf("Register(%q): %v", username, err)
	}
	return s.User
}

func mustCreateArticle(tb testing.TB, svc *conduit.Service, author conduit.User, title string) conduit.Article {
	tb.Helper()
	a, err := svc.CreateArticle(as(author), conduit.CreateArticleInput{Title: title, Description: "About " + title, Body: "Body of " + title})
	if err != nil {
		tb.Fatalf("CreateArticle(%q): %v", title, err)
	}
	return a
}

func wantError(tb testing.TB, err error, code conduit.Code, fields string) {
	tb.Helper()
	if got := conduit.ErrorCode(err); got != code {
		tb.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
	if got := fmt.Sprint(conduit.AsError(err).Fields); got != fields {
		tb.Fatalf("error fields = %s, want %s", got, fields)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	ctx := context.Background()
	mustRegister(t, svc, "jake")

	t.Run("OK", func(t *testing.T) {
		s, err := svc.Register(ctx, conduit.RegisterInput{Username: " anna ", Email: "Anna@Example.com", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if s.User.Username != "anna" || s.User.Email != "Anna@Example.com" || s.User.PasswordHash == password {
			t.Errorf("user = %+v, want anna with a hashed password", s.User)
		}
		v, err := svc.Authenticate(ctx, s.Token)
		if err != nil || v.UserID != s.User.ID {
			t.Errorf("Authenticate(token) = %+v, %v, want user %d", v, err, s.User.ID)
		}
	})
	t.Run("ErrUsernameTaken", func(t *testing.T) {
		_, err := svc.Register(ctx, conduit.RegisterInput{Username: "jake", Email: "other@example.com", Password: password})
		wantError(t, err, conduit.Conflict, "map[username:[has already been taken]]")
	})
	t.Run("ErrEmailTaken", func(t *testing.T) {
		_, err := svc.Register(ctx, conduit.RegisterInput{Username: "other", Email: "JAKE@example.com", Password: password})
		wantError(t, err, conduit.Conflict, "map[email:[has already been taken]]")
	})
	t.Run("ErrBothTaken", func(t *testing.T) {
		_, err := svc.Register(ctx, conduit.RegisterInput{Username: "jake", Email: "jake@example.com", Password: password})
		wantError(t, err, conduit.Conflict, "map[email:[has already been taken] username:[has already been taken]]")
	})
	t.Run("ErrBlank", func(t *testing.T) {
		_, err := svc.Register(ctx, conduit.RegisterInput{})
		wantError(t, err, conduit.Invalid, "map[email:[can't be blank] password:[can't be blank] username:[can't be blank]]")
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	ctx := context.Background()
	jake := mustRegister(t, svc, "jake")

	t.Run("OK", func(t *testing.T) {
		s, err := svc.Login(ctx, conduit.LoginInput{Email: "JAKE@example.com", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if s.User.ID != jake.ID || s.Token == "" {
			t.Errorf("session = %+v, want jake's with a token", s)
		}
	})
	t.Run("ErrSameForUnknownEmailAndWrongPassword", func(t *testing.T) {
		_, unknown := svc.Login(ctx, conduit.LoginInput{Email: "nobody@example.com", Password: password})
		_, wrong := svc.Login(ctx, conduit.LoginInput{Email: "jake@example.com", Password: "not the password"})
		wantError(t, unknown, conduit.Unauthenticated, "map[email or password:[is invalid]]")
		wantError(t, wrong, conduit.Unauthenticated, "map[email or password:[is invalid]]")
		if unknown.Error() != wrong.Error() {
			t.Errorf("unknown email: %v\nwrong password: %v\nwant the same error", unknown, wrong)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	jake := mustRegister(t, svc, "jake")
	mustRegister(t, svc, "anna")
	ctx := as(jake)

	t.Run("OwnEmailNoClash", func(t *testing.T) {
		s, err := svc.UpdateUser(ctx, conduit.UpdateUserInput{Email: conduit.Some("jake@example.com"), Username: conduit.Some("jake"), Bio: conduit.Some(new("hello"))})
		if err != nil {
			t.Fatalf("UpdateUser with own email: %v", err)
		}
		if s.User.Bio == nil || *s.User.Bio != "hello" || s.Token == "" {
			t.Errorf("user = %+v, token %q, want bio hello and a token", s.User, s.Token)
		}
	})
	t.Run("ClearBio", func(t *testing.T) {
		for _, bio := range []*string{nil, new(""), new("  ")} {
			if _, err := svc.UpdateUser(ctx, conduit.UpdateUserInput{Bio: conduit.Some(new("set"))}); err != nil {
				t.Fatal(err)
			}
			s, err := svc.UpdateUser(ctx, conduit.UpdateUserInput{Bio: conduit.Some(bio)})
			if err != nil {
				t.Fatal(err)
			}
			if s.User.Bio != nil {
				t.Errorf("bio = %q after setting it to %v, want nil", *s.User.Bio, bio)
			}
		}
	})
	t.Run("NewPassword", func(t *testing.T) {
		if _, err := svc.UpdateUser(ctx, conduit.UpdateUserInput{Password: conduit.Some("a new password")}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Login(context.Background(), conduit.LoginInput{Email: "jake@example.com", Password: "a new password"}); err != nil {
			t.Errorf("Login with the new password: %v", err)
		}
	})
	t.Run("ErrEmailTaken", func(t *testing.T) {
		_, err := svc.UpdateUser(ctx, conduit.UpdateUserInput{Email: conduit.Some("Anna@example.com")})
		wantError(t, err, conduit.Conflict, "map[email:[has already been taken]]")
	})
}

func TestSlugify(t *testing.T) {
	for _, tt := range []struct{ title, want string }{
		{"How to train your dragon", "how-to-train-your-dragon"},
		{"Crème brûlée", "creme-brulee"},
		{"Straße und Øl", "strasse-und-ol"},
		{"Don't panic!", "dont-panic"},
		{"  Hello,   World  ", "hello-world"},
		{"C++ & Go: 2 languages", "c-go-2-languages"},
		{"日本語", "article"},
		{"???", "article"},
		{"feed", "feed"},
	} {
		if got := conduit.Slugify(tt.title); got != tt.want {
			t.Errorf("Slugify(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}

func TestArticleSlugs(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	jake := mustRegister(t, svc, "jake")

	first := mustCreateArticle(t, svc, jake, "Hello World")
	t.Run("OK", func(t *testing.T) {
		if first.Slug != "hello-world" {
			t.Errorf("slug = %q, want hello-world", first.Slug)
		}
	})
	t.Run("ClashGetsSuffix", func(t *testing.T) {
		a := mustCreateArticle(t, svc, jake, "Hello, world!")
		if !strings.HasPrefix(a.Slug, "hello-world-") || len(a.Slug) <= len("hello-world-") {
			t.Errorf("slug = %q, want hello-world-<suffix>", a.Slug)
		}
	})
	t.Run("FeedNeverBare", func(t *testing.T) {
		a := mustCreateArticle(t, svc, jake, "Feed")
		if a.Slug == "feed" || !strings.HasPrefix(a.Slug, "feed-") {
			t.Errorf("slug = %q, want feed-<suffix>", a.Slug)
		}
	})
	t.Run("TitleMovesSlug", func(t *testing.T) {
		a := mustCreateArticle(t, svc, jake, "Before")
		got, err := svc.UpdateArticle(as(jake), a.Slug, conduit.UpdateArticleInput{Title: conduit.Some("After the change")})
		if err != nil {
			t.Fatal(err)
		}
		if got.Slug != "after-the-change" || got.Title != "After the change" {
			t.Errorf("slug, title = %q, %q, want after-the-change, After the change", got.Slug, got.Title)
		}
		if _, err := svc.Article(context.Background(), "before"); conduit.ErrorCode(err) != conduit.NotFound {
			t.Errorf("Article(old slug) = %v, want NotFound", err)
		}
	})
	t.Run("SameWordsKeepSlug", func(t *testing.T) {
		got, err := svc.UpdateArticle(as(jake), "hello-world", conduit.UpdateArticleInput{Title: conduit.Some("Hello world")})
		if err != nil {
			t.Fatal(err)
		}
		if got.Slug != "hello-world" {
			t.Errorf("slug = %q, want hello-world kept", got.Slug)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		anna := mustRegister(t, svc, "anna")
		_, err := svc.UpdateArticle(as(anna), "hello-world", conduit.UpdateArticleInput{Title: conduit.Some("Mine now")})
		wantError(t, err, conduit.Forbidden, "map[:[forbidden]]")
	})
}

func TestConcurrentFavorites(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	author := mustRegister(t, svc, "author")
	a := mustCreateArticle(t, svc, author, "Popular")
	const n = 50
	fans := make([]conduit.User, n)
	for i := range fans {
		fans[i] = mustRegister(t, svc, fmt.Sprintf("fan%02d", i))
	}
	var wg sync.WaitGroup
	for _, fan := range fans {
		wg.Go(func() {
			if _, err := svc.Favorite(as(fan), a.Slug); err != nil {
				t.Errorf("Favorite: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := svc.Article(context.Background(), a.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if got.FavoritesCount != n {
		t.Fatalf("favoritesCount = %d, want %d", got.FavoritesCount, n)
	}
}

func TestConcurrentCreateArticle(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	jake := mustRegister(t, svc, "jake")
	const n = 20
	slugs := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			a, err := svc.CreateArticle(as(jake), conduit.CreateArticleInput{Title: "Same title", Description: "d", Body: "b", TagList: []string{"same"}})
			if err != nil {
				t.Errorf("CreateArticle: %v", err)
				return
			}
			slugs <- a.Slug
		})
	}
	wg.Wait()
	close(slugs)
	seen := map[string]bool{}
	for s := range slugs {
		if seen[s] {
			t.Errorf("slug %q given twice", s)
		}
		seen[s] = true
	}
	if len(seen) != n || !seen["same-title"] {
		t.Errorf("%d distinct slugs (bare one given: %v), want %d including same-title", len(seen), seen["same-title"], n)
	}
	page, err := svc.Articles(context.Background(), conduit.ArticleFilter{Tag: "same"}, conduit.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != n {
		t.Errorf("articles tagged same = %d, want %d", page.Total, n)
	}
}

func TestConcurrentFollowUnfollow(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	fan := mustRegister(t, svc, "fan")
	star := mustRegister(t, svc, "star")
	mustCreateArticle(t, svc, star, "Shining")
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			var err error
			if rand.IntN(2) == 0 || i == 0 {
				_, err = svc.Follow(as(fan), "star")
			} else {
				_, err = svc.Unfollow(as(fan), "star")
			}
			if err != nil {
				t.Errorf("Follow/Unfollow: %v", err)
			}
		})
	}
	wg.Wait()
	p, err := svc.Profile(as(fan), "star")
	if err != nil {
		t.Fatal(err)
	}
	// The feed reads the follows row through another query than the
	// profile's: both must tell the same story.
	feed, err := svc.Feed(as(fan), conduit.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if rowExists := feed.Total == 1; p.Following != rowExists {
		t.Errorf("following = %v, but the feed shows %d articles of star", p.Following, feed.Total)
	}
	if _, err := svc.Follow(as(fan), "fan"); conduit.ErrorCode(err) != conduit.Invalid {
		t.Errorf("following yourself = %v, want Invalid", err)
	}
}
