package db_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
)

func mustCreateUser(tb testing.TB, d *db.DB, username string) conduit.User {
	tb.Helper()
	u, err := d.CreateUser(context.Background(), conduit.User{
		Username:     username,
		Email:        username + "@example.com",
		PasswordHash: "hash-of-" + username,
	})
	if err != nil {
		tb.Fatalf("CreateUser(%q): %v", username, err)
	}
	return u
}

// annBobAndCy creates ann, with a bio and an image, bob, with neither, and
// cy, who follows ann: rows of authors that differ in every value a viewer
// sees of them, to tell whether rows keep their own. It returns ann's bio
// and image too.
func annBobAndCy(tb testing.TB, d *db.DB) (ann, bob, cy conduit.User, bio, image string) {
	tb.Helper()
	ann, bob, cy = mustCreateUser(tb, d, "ann"), mustCreateUser(tb, d, "bob"), mustCreateUser(tb, d, "cy")
	bio, image = "ann writes", "https://example.com/ann.png"
	if _, err := d.UpdateUser(context.Background(), ann.ID, conduit.UserChanges{Bio: conduit.Some(&bio), Image: conduit.Some(&image)}); err != nil {
		tb.Fatal(err)
	}
	mustFollow(tb, d, cy.ID, ann.ID)
	return ann, bob, cy, bio, image
}

func mustCreateArticle(tb testing.TB, d *db.DB, authorID int64, slug string, tags ...string) conduit.Article {
	tb.Helper()
	a, err := d.CreateArticle(context.Background(), conduit.NewArticle{
		AuthorID:    authorID,
		Slug:        slug,
		Title:       "Title of " + slug,
		Description: "About " + slug,
		Body:        "Body of " + slug,
		TagList:     tags,
	})
	if err != nil {
		tb.Fatalf("CreateArticle(%q): %v", slug, err)
	}
	return a
}

func mustFollow(tb testing.TB, d *db.DB, followerID, followeeID int64) {
	tb.Helper()
	if err := d.Follow(context.Background(), followerID, followeeID); err != nil {
		tb.Fatalf("Follow(%d, %d): %v", followerID, followeeID, err)
	}
}

func mustFavorite(tb testing.TB, d *db.DB, userID int64, slug string) conduit.Article {
	tb.Helper()
	a, err := d.Favorite(context.Background(), userID, slug)
	if err != nil {
		tb.Fatalf("Favorite(%d, %q): %v", userID, slug, err)
	}
	return a
}

func mustComment(tb testing.TB, d *db.DB, slug string, authorID int64, body string) conduit.Comment {
	tb.Helper()
	c, err := d.CreateComment(context.Background(), slug, authorID, body)
	if err != nil {
		tb.Fatalf("CreateComment(%q): %v", slug, err)
	}
	return c
}

func mustArticle(tb testing.TB, d *db.DB, viewerID int64, slug string) conduit.Article {
	tb.Helper()
	a, err := d.ArticleBySlug(context.Background(), viewerID, slug)
	if err != nil {
		tb.Fatalf("ArticleBySlug(%q): %v", slug, err)
	}
	return a
}

func mustList(tb testing.TB, d *db.DB, viewerID int64, f conduit.ArticleFilter, p conduit.Page) conduit.ArticlePage {
	tb.Helper()
	page, err := d.ListArticles(context.Background(), viewerID, f, p)
	if err != nil {
		tb.Fatalf("ListArticles(%+v, %+v): %v", f, p, err)
	}
	if page.Articles == nil {
		tb.Fatalf("ListArticles(%+v, %+v).Articles = nil, want a non-nil slice", f, p)
	}
	return page
}

// wantError fails unless err is a domain error with code whose Fields are
// exactly fields (when fields is not nil).
func wantError(tb testing.TB, err error, code conduit.Code, fields map[string][]string) {
	tb.Helper()
	if got := conduit.ErrorCode(err); got != code {
		tb.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
	if fields == nil {
		return
	}
	e := conduit.AsError(err)
	if got, want := fmt.Sprint(e.Fields), fmt.Sprint(fields); got != want {
		tb.Fatalf("error fields = %s, want %s", got, want)
	}
}

func slugs(as []conduit.Article) []string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.Slug
	}
	return s
}

func wantSlugs(tb testing.TB, got []conduit.Article, want ...string) {
	tb.Helper()
	if want == nil {
		want = []string{}
	}
	if g := slugs(got); !slices.Equal(g, want) {
		tb.Fatalf("slugs = %q, want %q", g, want)
	}
}

func commentBodies(cs []conduit.Comment) []string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.Body
	}
	return s
}

func wantBodies(tb testing.TB, got []conduit.Comment, want ...string) {
	tb.Helper()
	if want == nil {
		want = []string{}
	}
	if g := commentBodies(got); !slices.Equal(g, want) {
		tb.Fatalf("comments = %q, want %q", g, want)
	}
}

func ptr[T any](v T) *T { return &v }

func fmtTags(tags []string) string { return fmt.Sprint(tags) }

func fmtArticle(a conduit.Article) string {
	return fmt.Sprintf("%d %s %q %q %q %v %s %s %v %d {%d %s %v %v %v}", a.ID, a.Slug, a.Title, a.Description, a.Body,
		a.TagList, a.CreatedAt.Format(time.RFC3339Nano), a.UpdatedAt.Format(time.RFC3339Nano), a.Favorited, a.FavoritesCount,
		a.Author.ID, a.Author.Username, a.Author.Bio, a.Author.Image, a.Author.Following)
}

// beginOn begins a transaction on a connection of its own to url, as
// another writer would, closed when the test ends.
func beginOn(tb testing.TB, url string) pgx.Tx {
	tb.Helper()
	tx, err := connectTo(tb, url).Begin(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return tx
}

// advisoryLocks returns how many advisory locks the session of tx holds.
func advisoryLocks(tb testing.TB, tx pgx.Tx) int {
	tb.Helper()
	var locks int
	if err := tx.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`).Scan(&locks); err != nil {
		tb.Fatal(err)
	}
	return locks
}

// oneConnection opens url with a pool of one connection, whose prepared
// statements PlanCounts then lists, closed when the test ends.
func oneConnection(t *testing.T, url string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), url, db.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// connectTo returns a connection of its own to url, closed when the test
// ends.
func connectTo(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(ctx) })
	return conn
}
