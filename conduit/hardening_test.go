package conduit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

func TestUsernames(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	ctx := context.Background()
	n := 0
	register := func(username string) (conduit.Session, error) {
		n++
		return svc.Register(ctx, conduit.RegisterInput{Username: username, Email: fmt.Sprintf("u%d@example.com", n), Password: password})
	}
	t.Run("StoredNFKC", func(t *testing.T) {
		s, err := register("ａｌｉｃｅ") // fullwidth
		if err != nil {
			t.Fatal(err)
		}
		if s.User.Username != "alice" {
			t.Fatalf("username = %q, want alice", s.User.Username)
		}
	})
	t.Run("ErrSameNameOtherSpelling", func(t *testing.T) {
		for _, name := range []string{"alice", "ALICE", "Alice", " alice "} {
			_, err := register(name)
			wantError(t, err, conduit.Conflict, "map[username:[has already been taken]]")
		}
	})
	t.Run("ErrInvisibleOrDirectional", func(t *testing.T) {
		for _, name := range []string{
			"alice\u200b",      // zero width space
			"al\u200dice",      // zero width joiner
			"\u202eecila",      // right-to-left override
			"bob\u2066x\u2069", // isolates
			"\ufeffbob",        // byte order mark
			"carol\u00ad",      // soft hyphen
			"dave\u061cx",      // Arabic letter mark
			"eve\U000e0041",    // tag character
		} {
			_, err := register(name)
			wantError(t, err, conduit.Invalid, "map[username:[is invalid]]")
		}
	})
	t.Run("RenameKeepsTheRule", func(t *testing.T) {
		bob, err := register("bob")
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.UpdateUser(as(bob.User), conduit.UpdateUserInput{Username: conduit.Some("ALICE")})
		wantError(t, err, conduit.Conflict, "map[username:[has already been taken]]")
		// Their own name in another case is theirs to take.
		s, err := svc.UpdateUser(as(bob.User), conduit.UpdateUserInput{Username: conduit.Some("Ｂob")})
		if err != nil || s.User.Username != "Bob" {
			t.Fatalf("rename to Ｂob = %+v, %v, want Bob", s.User, err)
		}
	})
}

func TestTokenRevocation(t *testing.T) {
	t.Parallel()
	store, url := dbtest.NewWithURL(t)
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte("test secret"), BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := svc.Register(ctx, conduit.RegisterInput{Username: "rita", Email: "rita@example.com", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.Login(ctx, conduit.LoginInput{Email: "rita@example.com", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	viewer, err := svc.Authenticate(ctx, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OtherChangesKeepTokens", func(t *testing.T) {
		if _, err := svc.UpdateUser(conduit.NewContextWithViewer(ctx, viewer), conduit.UpdateUserInput{Bio: conduit.Some(new("hi"))}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, second.Token); err != nil {
			t.Fatalf("Authenticate after a bio change = %v, want the token kept", err)
		}
	})
	t.Run("PasswordChangeRevokes", func(t *testing.T) {
		changed, err := svc.UpdateUser(conduit.NewContextWithViewer(ctx, viewer), conduit.UpdateUserInput{Password: conduit.Some("a new password")})
		if err != nil {
			t.Fatal(err)
		}
		for _, old := range []string{s.Token, second.Token} {
			_, err := svc.Authenticate(ctx, old)
			wantError(t, err, conduit.Unauthenticated, "map[token:[token revoked: sign in again]]")
		}
		if v, err := svc.Authenticate(ctx, changed.Token); err != nil || v.UserID != s.User.ID {
			t.Fatalf("Authenticate(fresh token) = %+v, %v, want rita", v, err)
		}
	})
	t.Run("OtherReplicaWithinInterval", func(t *testing.T) {
		// A second service on the same database, as another replica is,
		// that checks versions at once: it refuses the old token too.
		other, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte("test secret"), BcryptCost: 4, TokenCheckInterval: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		_, err = other.Authenticate(ctx, s.Token)
		wantError(t, err, conduit.Unauthenticated, "map[token:[token revoked: sign in again]]")
	})
	t.Run("UserGone", func(t *testing.T) {
		gone, err := svc.Register(ctx, conduit.RegisterInput{Username: "gone", Email: "gone@example.com", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		dbtest.Exec(t, url, `DELETE FROM users WHERE id = $1`, gone.User.ID)
		fresh, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte("test secret"), BcryptCost: 4})
		if err != nil {
			t.Fatal(err)
		}
		_, err = fresh.Authenticate(ctx, gone.Token)
		wantError(t, err, conduit.Unauthenticated, "map[token:[the token's user does not exist]]")
	})
}

func TestTextLimits(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	tom := mustRegister(t, svc, "tom")
	a := mustCreateArticle(t, svc, tom, "Limits")
	long := func(n int) string { return strings.Repeat("é", n) } // two bytes each: limits count characters
	ctx := as(tom)
	for _, tc := range []struct {
		name   string
		call   func(n int) error
		max    int
		fields string
	}{
		{"Title", func(n int) error {
			_, err := svc.CreateArticle(ctx, conduit.CreateArticleInput{Title: long(n), Description: "d", Body: "b"})
			return err
		}, conduit.MaxTitleLength, "map[title:[is too long (maximum is 255 characters)]]"},
		{"Description", func(n int) error {
			_, err := svc.CreateArticle(ctx, conduit.CreateArticleInput{Title: "t", Description: long(n), Body: "b"})
			return err
		}, conduit.MaxDescriptionLength, "map[description:[is too long (maximum is 300 characters)]]"},
		{"Body", func(n int) error {
			_, err := svc.CreateArticle(ctx, conduit.CreateArticleInput{Title: "t", Description: "d", Body: long(n)})
			return err
		}, conduit.MaxBodyLength, "map[body:[is too long (maximum is 100000 characters)]]"},
		{"UpdatedDescription", func(n int) error {
			_, err := svc.UpdateArticle(ctx, a.Slug, conduit.UpdateArticleInput{Description: conduit.Some(long(n))})
			return err
		}, conduit.MaxDescriptionLength, "map[description:[is too long (maximum is 300 characters)]]"},
		{"Comment", func(n int) error {
			_, err := svc.AddComment(ctx, a.Slug, long(n))
			return err
		}, conduit.MaxCommentLength, "map[body:[is too long (maximum is 10000 characters)]]"},
		{"Bio", func(n int) error {
			_, err := svc.UpdateUser(ctx, conduit.UpdateUserInput{Bio: conduit.Some(new(long(n)))})
			return err
		}, conduit.MaxBioLength, "map[bio:[is too long (maximum is 300 characters)]]"},
		{"Image", func(n int) error {
			_, err := svc.UpdateUser(ctx, conduit.UpdateUserInput{Image: conduit.Some(new(long(n)))})
			return err
		}, conduit.MaxImageURLLength, "map[image:[is too long (maximum is 2048 characters)]]"},
		{"Tag", func(n int) error {
			_, err := svc.CreateArticle(ctx, conduit.CreateArticleInput{Title: "t", Description: "d", Body: "b", TagList: []string{long(n)}})
			return err
		}, conduit.MaxTagLength, "map[tagList:[tags are at most 64 characters]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(tc.max); err != nil {
				t.Fatalf("%d characters: %v, want accepted", tc.max, err)
			}
			wantError(t, tc.call(tc.max+1), conduit.Invalid, tc.fields)
		})
	}
}

func TestMalformedText(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	uma := mustRegister(t, svc, "uma")
	a := mustCreateArticle(t, svc, uma, "Text")
	ctx := as(uma)
	for _, bad := range []string{"nul\x00byte", "bad\xffutf8"} {
		t.Run(fmt.Sprintf("%q", bad), func(t *testing.T) {
			_, err := svc.Register(context.Background(), conduit.RegisterInput{Username: bad, Email: bad, Password: password})
			wantError(t, err, conduit.Invalid, "map[email:[must be valid UTF-8 text without NUL characters] username:[must be valid UTF-8 text without NUL characters]]")
			_, err = svc.Login(context.Background(), conduit.LoginInput{Email: bad, Password: password})
			wantError(t, err, conduit.Invalid, "map[email:[must be valid UTF-8 text without NUL characters]]")
			_, err = svc.CreateArticle(ctx, conduit.CreateArticleInput{Title: bad, Description: bad, Body: bad, TagList: []string{bad}})
			wantError(t, err, conduit.Invalid, "map[body:[must be valid UTF-8 text without NUL characters] description:[must be valid UTF-8 text without NUL characters] tagList:[tags must be valid UTF-8 text without NUL characters] title:[must be valid UTF-8 text without NUL characters]]")
			_, err = svc.Articles(context.Background(), conduit.ArticleFilter{Tag: bad, Author: bad, FavoritedBy: bad}, conduit.Page{Limit: 1})
			wantError(t, err, conduit.Invalid, "map[author:[must be valid UTF-8 text without NUL characters] favorited:[must be valid UTF-8 text without NUL characters] tag:[must be valid UTF-8 text without NUL characters]]")
			_, err = svc.AddComment(ctx, a.Slug, bad)
			wantError(t, err, conduit.Invalid, "map[body:[must be valid UTF-8 text without NUL characters]]")
			_, err = svc.UpdateUser(ctx, conduit.UpdateUserInput{Bio: conduit.Some(&bad)})
			wantError(t, err, conduit.Invalid, "map[bio:[must be valid UTF-8 text without NUL characters]]")
			// A lookup by a name nobody can have finds nothing.
			for name, lookup := range map[string]func() error{
				"Article":  func() error { _, err := svc.Article(ctx, bad); return err },
				"Favorite": func() error { _, err := svc.Favorite(ctx, bad); return err },
				"Comments": func() error { _, err := svc.Comments(ctx, bad); return err },
				"Comment":  func() error { _, err := svc.AddComment(ctx, bad, "hi"); return err },
				"Delete":   func() error { _, err := svc.DeleteArticle(ctx, bad); return err },
			} {
				if err := lookup(); conduit.ErrorCode(err) != conduit.NotFound || !strings.Contains(err.Error(), "article not found") {
					t.Errorf("%s(%q) = %v, want NotFound article", name, bad, err)
				}
			}
			if _, err := svc.Profile(ctx, bad); conduit.ErrorCode(err) != conduit.NotFound {
				t.Errorf("Profile(%q) = %v, want NotFound", bad, err)
			}
			if _, err := svc.Follow(ctx, bad); conduit.ErrorCode(err) != conduit.NotFound {
				t.Errorf("Follow(%q) = %v, want NotFound", bad, err)
			}
		})
	}
}
