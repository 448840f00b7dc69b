package resolvers_test

import (
	"net/http"
	"regexp"
	"testing"
)

// dateTime is the wire format of every DateTime.
var dateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func TestViewer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	const q = `{ viewer { id username email bio image } }`

	t.Run("OK", func(t *testing.T) {
		res := e.post(t, request{query: q, token: alice.token})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"viewer":{"id":"`+gid("User", alice.id)+`","username":"alice","email":"alice@example.com","bio":null,"image":null}}`)
	})
	t.Run("Anonymous", func(t *testing.T) {
		res := e.post(t, request{query: q})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"viewer":null}`)
	})
	t.Run("ErrInvalidToken", func(t *testing.T) {
		res := e.post(t, request{query: q, token: "not-a-jwt"})
		wantErrorCodes(t, res, "UNAUTHENTICATED")
		wantJSON(t, res.Data, `{"viewer":null}`)
	})
	t.Run("ErrMalformedAuthorization", func(t *testing.T) {
		res := e.post(t, request{query: q, header: map[string]string{"Authorization": "Basic YWxpY2U6c2VjcmV0"}})
		wantErrorCodes(t, res, "UNAUTHENTICATED")
	})
	t.Run("ErrInvalidTokenOnPublicField", func(t *testing.T) {
		// A client that sends a token expects it to be honoured, even where
		// no token is needed.
		res := e.post(t, request{query: `{ articles { totalCount } }`, token: "not-a-jwt"})
		wantErrorCodes(t, res, "UNAUTHENTICATED")
		wantJSON(t, res.Data, `null`)
		if res.status != http.StatusOK {
			t.Fatalf("status = %d, want 200", res.status)
		}
	})
}

func TestProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	e.mustFollow(t, alice, bob)
	const q = `query($u: String!) { profile(username: $u) { id username bio image following } }`

	t.Run("OK", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"u": "bob"}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"profile":{"id":"`+gid("Profile", bob.id)+`","username":"bob","bio":null,"image":null,"following":false}}`)
	})
	t.Run("Following", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"u": "bob"}, token: alice.token})
		wantJSON(t, res.Data, `{"profile":{"id":"*","username":"bob","bio":null,"image":null,"following":true}}`)
	})
	t.Run("Missing", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"u": "nobody"}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"profile":null}`)
	})
}

func TestArticle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	a := e.mustArticle(t, alice, "How to train your dragon", "zoo", "dragons", "zoo")
	e.mustFavorite(t, bob, a.Slug)
	const q = `query($slug: String!) { article(slug: $slug) {
		id slug title description body tagList createdAt updatedAt favorited favoritesCount
		author { id username bio image following }
	} }`

	t.Run("OK", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"slug": a.Slug}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"article":{
			"id":"`+gid("Article", a.ID)+`","slug":"`+a.Slug+`","title":"How to train your dragon",
			"description":"About How to train your dragon","body":"The body of How to train your dragon",
			"tagList":["dragons","zoo"],"createdAt":"*","updatedAt":"*","favorited":false,"favoritesCount":1,
			"author":{"id":"`+gid("Profile", alice.id)+`","username":"alice","bio":null,"image":null,"following":false}}}`)
		got := mustData[struct {
			Article struct{ CreatedAt, UpdatedAt string }
		}](t, e, request{query: q, variables: map[string]any{"slug": a.Slug}})
		for _, ts := range []string{got.Article.CreatedAt, got.Article.UpdatedAt} {
			if !dateTime.MatchString(ts) {
				t.Errorf("timestamp %q is not RFC 3339 UTC with milliseconds", ts)
			}
		}
	})
	t.Run("Favorited", func(t *testing.T) {
		res := e.post(t, request{query: `query($slug: String!) { article(slug: $slug) { favorited } }`,
			variables: map[string]any{"slug": a.Slug}, token: bob.token})
		wantJSON(t, res.Data, `{"article":{"favorited":true}}`)
	})
	t.Run("Missing", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"slug": "no-such-article"}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"article":null}`)
	})
}

func TestTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	e.mustArticle(t, alice, "One", "go", "sql")
	e.mustArticle(t, alice, "Two", "go")

	res := e.post(t, request{query: `{ tags }`})
	wantErrorCodes(t, res)
	wantJSON(t, res.Data, `{"tags":["go","sql"]}`)
}

func TestArticlesFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	e.mustArticle(t, alice, "Alpha", "go")
	beta := e.mustArticle(t, bob, "Beta", "go", "sql")
	e.mustArticle(t, bob, "Gamma")
	e.mustFavorite(t, alice, beta.Slug)
	const q = `query($f: ArticleFilter) { articles(filter: $f) { totalCount nodes { title } } }`

	for _, tc := range []struct {
		name   string
		filter map[string]any
		want   string
	}{
		{"None", nil, `{"articles":{"totalCount":3,"nodes":[{"title":"Gamma"},{"title":"Beta"},{"title":"Alpha"}]}}`},
		{"Tag", map[string]any{"tag": "go"}, `{"articles":{"totalCount":2,"nodes":[{"title":"Beta"},{"title":"Alpha"}]}}`},
		{"Author", map[string]any{"author": "bob"}, `{"articles":{"totalCount":2,"nodes":[{"title":"Gamma"},{"title":"Beta"}]}}`},
		{"FavoritedBy", map[string]any{"favoritedBy": "alice"}, `{"articles":{"totalCount":1,"nodes":[{"title":"Beta"}]}}`},
		{"All", map[string]any{"tag": "sql", "author": "bob", "favoritedBy": "alice"}, `{"articles":{"totalCount":1,"nodes":[{"title":"Beta"}]}}`},
		{"UnknownAuthor", map[string]any{"author": "nobody"}, `{"articles":{"totalCount":0,"nodes":[]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.post(t, request{query: q, variables: map[string]any{"f": tc.filter}})
			wantErrorCodes(t, res)
			wantJSON(t, res.Data, tc.want)
		})
	}
}

func TestFeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, carol := e.mustUser(t, "alice"), e.mustUser(t, "bob"), e.mustUser(t, "carol")
	e.mustArticle(t, bob, "By Bob")
	e.mustArticle(t, carol, "By Carol")
	e.mustFollow(t, alice, bob)
	const q = `{ feed { totalCount nodes { title author { username following } } } }`

	t.Run("OK", func(t *testing.T) {
		res := e.post(t, request{query: q, token: alice.token})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"feed":{"totalCount":1,"nodes":[{"title":"By Bob","author":{"username":"bob","following":true}}]}}`)
	})
	t.Run("FollowsNobody", func(t *testing.T) {
		res := e.post(t, request{query: q, token: carol.token})
		wantJSON(t, res.Data, `{"feed":{"totalCount":0,"nodes":[]}}`)
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		res := e.post(t, request{query: q})
		wantErrorCodes(t, res, "UNAUTHENTICATED")
		wantJSON(t, res.Data, `null`)
	})
}

func TestNode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	a := e.mustArticle(t, alice, "Nodes")
	c := e.mustComment(t, bob, a.Slug, "Nice")
	const q = `query($id: ID!) { node(id: $id) {
		__typename id
		... on User { email }
		... on Profile { username }
		... on Article { slug }
		... on Comment { body author { username } article { slug } }
	} }`

	for _, tc := range []struct {
		name  string
		id    string
		token string
		want  string
	}{
		{"Article", gid("Article", a.ID), "", `{"node":{"__typename":"Article","id":"` + gid("Article", a.ID) + `","slug":"` + a.Slug + `"}}`},
		{"Comment", gid("Comment", c.ID), "", `{"node":{"__typename":"Comment","id":"` + gid("Comment", c.ID) + `","body":"Nice","author":{"username":"bob"},"article":{"slug":"` + a.Slug + `"}}}`},
		{"Profile", gid("Profile", bob.id), "", `{"node":{"__typename":"Profile","id":"` + gid("Profile", bob.id) + `","username":"bob"}}`},
		{"UserViewer", gid("User", alice.id), alice.token, `{"node":{"__typename":"User","id":"` + gid("User", alice.id) + `","email":"alice@example.com"}}`},
		{"UserSomeoneElse", gid("User", bob.id), alice.token, `{"node":null}`},
		{"UserAnonymous", gid("User", alice.id), "", `{"node":null}`},
		{"MissingArticle", gid("Article", a.ID+1000), "", `{"node":null}`},
		{"MissingComment", gid("Comment", c.ID+1000), "", `{"node":null}`},
		{"MissingProfile", gid("Profile", bob.id+1000), "", `{"node":null}`},
		{"UnknownType", gid("Tag", 1), "", `{"node":null}`},
		{"Empty", "", "", `{"node":null}`},
		{"NotBase64", "!!!", "", `{"node":null}`},
		{"NoColon", "QXJ0aWNsZQ", "", `{"node":null}`},
		{"NotANumber", "QXJ0aWNsZTphYmM", "", `{"node":null}`}, // Article:abc
		{"LeadingZero", "QXJ0aWNsZTowMQ", "", `{"node":null}`}, // Article:01
		{"Negative", "QXJ0aWNsZTotMQ", "", `{"node":null}`},    // Article:-1
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.post(t, request{query: q, variables: map[string]any{"id": tc.id}, token: tc.token})
			wantErrorCodes(t, res)
			wantJSON(t, res.Data, tc.want)
		})
	}
}
