package resolvers_test

import (
	"context"
	"encoding/base64"
	"strconv"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
)

// user is an account made for a test, with a token to act as it.
type user struct {
	id       int64
	username string
	email    string
	token    string
}

const testPassword = "correct horse"

// mustUser registers username (with email username@example.com).
func (e *env) mustUser(tb testing.TB, username string) user {
	tb.Helper()
	s, err := e.svc.Register(context.Background(), conduit.RegisterInput{
		Username: username, Email: username + "@example.com", Password: testPassword,
	})
	if err != nil {
		tb.Fatalf("register %s: %v", username, err)
	}
	return user{id: s.User.ID, username: s.User.Username, email: s.User.Email, token: s.Token}
}

// as returns a context in which u is the viewer.
func as(u user) context.Context {
	return conduit.NewContextWithViewer(context.Background(), conduit.Viewer{UserID: u.id})
}

// mustArticle publishes an article by u.
func (e *env) mustArticle(tb testing.TB, u user, title string, tags ...string) conduit.Article {
	tb.Helper()
	a, err := e.svc.CreateArticle(as(u), conduit.CreateArticleInput{
		Title: title, Description: "About " + title, Body: "The body of " + title, TagList: tags,
	})
	if err != nil {
		tb.Fatalf("create article %q: %v", title, err)
	}
	return a
}

// mustComment adds u's comment to the article with the slug.
func (e *env) mustComment(tb testing.TB, u user, slug, body string) conduit.Comment {
	tb.Helper()
	c, err := e.svc.AddComment(as(u), slug, body)
	if err != nil {
		tb.Fatalf("add comment: %v", err)
	}
	return c
}

func (e *env) mustFollow(tb testing.TB, follower, followee user) {
	tb.Helper()
	if _, err := e.svc.Follow(as(follower), followee.username); err != nil {
		tb.Fatalf("follow: %v", err)
	}
}

func (e *env) mustFavorite(tb testing.TB, u user, slug string) {
	tb.Helper()
	if _, err := e.svc.Favorite(as(u), slug); err != nil {
		tb.Fatalf("favorite: %v", err)
	}
}

// gid is the global id the API gives the object of type typ with id.
func gid(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + strconv.FormatInt(id, 10)))
}
