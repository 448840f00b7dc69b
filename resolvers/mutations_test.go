package resolvers_test

import (
	"testing"
)

const userErrorsSel = `userErrors { field message code }`

func TestRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustUser(t, "taken")
	const q = `mutation($input: RegisterInput!) { register(input: $input) {
		user { id username email bio image } token ` + userErrorsSel + ` } }`

	t.Run("OK", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"input": map[string]any{
			"username": "alice", "email": "alice@example.com", "password": testPassword,
		}}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"register":{"user":{"id":"*","username":"alice","email":"alice@example.com","bio":null,"image":null},"token":"*","userErrors":[]}}`)
	})
	t.Run("TokenSignsIn", func(t *testing.T) {
		got := mustData[struct{ Register struct{ Token string } }](t, e, request{query: q, variables: map[string]any{"input": map[string]any{
			"username": "bob", "email": "bob@example.com", "password": testPassword,
		}}})
		res := e.post(t, request{query: `{ viewer { username } }`, token: got.Register.Token})
		wantJSON(t, res.Data, `{"viewer":{"username":"bob"}}`)
	})
	t.Run("ErrTaken", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"input": map[string]any{
			"username": "taken", "email": "TAKEN@example.com", "password": testPassword,
		}}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"register":{"user":null,"token":null,"userErrors":[
			{"field":["input","email"],"message":"email has already been taken","code":"CONFLICT"},
			{"field":["input","username"],"message":"username has already been taken","code":"CONFLICT"}]}}`)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"input": map[string]any{
			"username": " ", "email": "not an email", "password": "short",
		}}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"register":{"user":null,"token":null,"userErrors":[
			{"field":["input","email"],"message":"email is invalid","code":"INVALID"},
			{"field":["input","password"],"message":"password is too short (minimum is 8 characters)","code":"INVALID"},
			{"field":["input","username"],"message":"username can't be blank","code":"INVALID"}]}}`)
	})
	t.Run("ErrMissingField", func(t *testing.T) {
		// The schema makes every field required: a request error, not a user error.
		res := e.post(t, request{query: q, variables: map[string]any{"input": map[string]any{"username": "x"}}})
		wantErrorCodes(t, res, "GRAPHQL_VALIDATION_FAILED")
		if res.hasData() {
			t.Fatalf("a request error has a data key: %s", res.body)
		}
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	const q = `mutation($input: LoginInput!) { login(input: $input) {
		user { id username email } token ` + userErrorsSel + ` } }`
	login := func(email, password string) result {
		return e.post(t, request{query: q, variables: map[string]any{"input": map[string]any{"email": email, "password": password}}})
	}

	t.Run("OK", func(t *testing.T) {
		res := login("ALICE@example.com", testPassword)
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"login":{"user":{"id":"`+gid("User", alice.id)+`","username":"alice","email":"alice@example.com"},"token":"*","userErrors":[]}}`)
	})
	wrong := `{"login":{"user":null,"token":null,"userErrors":[{"field":null,"message":"email or password is invalid","code":"INVALID_CREDENTIALS"}]}}`
	t.Run("ErrWrongPassword", func(t *testing.T) {
		res := login("alice@example.com", "wrong password")
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, wrong)
	})
	t.Run("ErrUnknownEmail", func(t *testing.T) {
		res := login("nobody@example.com", testPassword)
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, wrong)
	})
	t.Run("ErrBlank", func(t *testing.T) {
		res := login("alice@example.com", "")
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"login":{"user":null,"token":null,"userErrors":[{"field":["input","password"],"message":"password can't be blank","code":"INVALID"}]}}`)
	})
}

func TestUpdateViewer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	e.mustUser(t, "bob")
	const q = `mutation($input: UpdateViewerInput!) { updateViewer(input: $input) {
		user { username email bio image } ` + userErrorsSel + ` } }`
	update := func(t *testing.T, input map[string]any, want string) {
		t.Helper()
		res := e.post(t, request{query: q, variables: map[string]any{"input": input}, token: alice.token})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, want)
	}

	// The steps build on each other: each one checks that what it leaves
	// out stays as the one before left it.
	t.Run("OK", func(t *testing.T) {
		update(t, map[string]any{"bio": "Hello", "image": "https://example.com/a.png"},
			`{"updateViewer":{"user":{"username":"alice","email":"alice@example.com","bio":"Hello","image":"https://example.com/a.png"},"userErrors":[]}}`)
	})
	t.Run("AbsentKeeps", func(t *testing.T) {
		update(t, map[string]any{"username": "alicia"},
			`{"updateViewer":{"user":{"username":"alicia","email":"alice@example.com","bio":"Hello","image":"https://example.com/a.png"},"userErrors":[]}}`)
	})
	t.Run("NullClears", func(t *testing.T) {
		update(t, map[string]any{"bio": nil},
			`{"updateViewer":{"user":{"username":"alicia","email":"alice@example.com","bio":null,"image":"https://example.com/a.png"},"userErrors":[]}}`)
	})
	t.Run("NullClearsInline", func(t *testing.T) {
		res := e.post(t, request{query: `mutation { updateViewer(input: {image: null}) { user { bio image } } }`, token: alice.token})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"updateViewer":{"user":{"bio":null,"image":null}}}`)
	})
	t.Run("TokenSignsIn", func(t *testing.T) {
		got := mustData[struct{ UpdateViewer struct{ Token *string } }](t, e, request{
			query: `mutation { updateViewer(input: {bio: "Fresh"}) { token } }`,
			token: alice.token,
		})
		if got.UpdateViewer.Token == nil {
			t.Fatal("updateViewer.token = null, want a token")
		}
		res := e.post(t, request{query: `{ viewer { username bio } }`, token: *got.UpdateViewer.Token})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"viewer":{"username":"alicia","bio":"Fresh"}}`)
	})
	t.Run("NullOrEmptyKeeps", func(t *testing.T) {
		// username, email and password cannot be cleared: null and "" leave
		// them as they are, as a settings form that sends every field means.
		update(t, map[string]any{"username": nil, "email": "", "password": ""},
			`{"updateViewer":{"user":{"username":"alicia","email":"alice@example.com","bio":"Fresh","image":null},"userErrors":[]}}`)
	})
	t.Run("ErrBlankUsername", func(t *testing.T) {
		update(t, map[string]any{"username": "ｘ\u200b"},
			`{"updateViewer":{"user":null,"userErrors":[{"field":["input","username"],"message":"username is invalid","code":"INVALID"}]}}`)
	})
	t.Run("ErrTaken", func(t *testing.T) {
		update(t, map[string]any{"email": "bob@example.com"},
			`{"updateViewer":{"user":null,"userErrors":[{"field":["input","email"],"message":"email has already been taken","code":"CONFLICT"}]}}`)
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"input": map[string]any{"bio": "x"}}})
		wantErrorCodes(t, res, "UNAUTHENTICATED")
		wantJSON(t, res.Data, `null`)
	})
}

func TestFollowProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	bob := e.mustUser(t, "bob")
	const follow = `mutation($u: String!) { followProfile(input: {username: $u}) { profile { id username following } ` + userErrorsSel + ` } }`
	const unfollow = `mutation($u: String!) { unfollowProfile(input: {username: $u}) { profile { username following } ` + userErrorsSel + ` } }`
	vars := func(u string) map[string]any { return map[string]any{"u": u} }

	t.Run("OK", func(t *testing.T) {
		for range 2 { // following twice changes nothing
			res := e.post(t, request{query: follow, variables: vars("bob"), token: alice.token})
			wantErrorCodes(t, res)
			wantJSON(t, res.Data, `{"followProfile":{"profile":{"id":"`+gid("Profile", bob.id)+`","username":"bob","following":true},"userErrors":[]}}`)
		}
	})
	t.Run("Unfollow", func(t *testing.T) {
		for range 2 {
			res := e.post(t, request{query: unfollow, variables: vars("bob"), token: alice.token})
			wantErrorCodes(t, res)
			wantJSON(t, res.Data, `{"unfollowProfile":{"profile":{"username":"bob","following":false},"userErrors":[]}}`)
		}
	})
	t.Run("ErrSelf", func(t *testing.T) {
		res := e.post(t, request{query: follow, variables: vars("alice"), token: alice.token})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"followProfile":{"profile":null,"userErrors":[{"field":["input","username"],"message":"username cannot follow yourself","code":"INVALID"}]}}`)
	})
	for _, q := range []struct{ name, query string }{{"Follow", follow}, {"Unfollow", unfollow}} {
		t.Run(q.name+"ErrNotFound", func(t *testing.T) {
			res := e.post(t, request{query: q.query, variables: vars("nobody"), token: alice.token})
			wantErrorCodes(t, res, "NOT_FOUND")
			wantJSON(t, res.Data, `null`)
		})
		t.Run(q.name+"ErrAnonymous", func(t *testing.T) {
			res := e.post(t, request{query: q.query, variables: vars("bob")})
			wantErrorCodes(t, res, "UNAUTHENTICATED")
		})
	}
}

const articleSel = `article { slug title description body tagList favorited favoritesCount author { username } }`

func TestCreateArticle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	const q = `mutation($input: CreateArticleInput!) { createArticle(input: $input) { ` + articleSel + ` ` + userErrorsSel + ` } }`

	t.Run("OK", func(t *testing.T) {
		res := e.post(t, request{query: q, token: alice.token, variables: map[string]any{"input": map[string]any{
			"title": "Hello, World!", "description": "First", "body": "Text", "tagList": []string{" b ", "a", "b", ""},
		}}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"createArticle":{"article":{"slug":"*","title":"Hello, World!","description":"First","body":"Text",
			"tagList":["a","b"],"favorited":false,"favoritesCount":0,"author":{"username":"alice"}},"userErrors":[]}}`)
	})
	t.Run("NoTags", func(t *testing.T) {
		res := e.post(t, request{query: q, token: alice.token, variables: map[string]any{"input": map[string]any{
			"title": "Untagged", "description": "d", "body": "b",
		}}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"createArticle":{"article":{"slug":"*","title":"Untagged","description":"d","body":"b",
			"tagList":[],"favorited":false,"favoritesCount":0,"author":{"username":"alice"}},"userErrors":[]}}`)
	})
	t.Run("ErrBlank", func(t *testing.T) {
		res := e.post(t, request{query: q, token: alice.token, variables: map[string]any{"input": map[string]any{
			"title": "", "description": " ", "body": "b",
		}}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"createArticle":{"article":null,"userErrors":[
			{"field":["input","description"],"message":"description can't be blank","code":"INVALID"},
			{"field":["input","title"],"message":"title can't be blank","code":"INVALID"}]}}`)
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"input": map[string]any{
			"title": "t", "description": "d", "body": "b",
		}}})
		wantErrorCodes(t, res, "UNAUTHENTICATED")
		wantJSON(t, res.Data, `null`)
	})
}

func TestUpdateArticle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	a := e.mustArticle(t, alice, "Old title", "x", "y")
	const q = `mutation($input: UpdateArticleInput!) { updateArticle(input: $input) { ` + articleSel + ` ` + userErrorsSel + ` } }`
	update := func(token string, input map[string]any) result {
		return e.post(t, request{query: q, token: token, variables: map[string]any{"input": input}})
	}

	slug := a.Slug
	t.Run("OK", func(t *testing.T) {
		res := update(alice.token, map[string]any{"slug": slug, "title": "New title", "body": "New body"})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"updateArticle":{"article":{"slug":"*","title":"New title","description":"About Old title","body":"New body",
			"tagList":["x","y"],"favorited":false,"favoritesCount":0,"author":{"username":"alice"}},"userErrors":[]}}`)
	})
	// The slug followed the title.
	moved := mustData[struct {
		Articles struct{ Nodes []struct{ Slug string } }
	}](t, e, request{query: `{ articles { nodes { slug } } }`})
	if len(moved.Articles.Nodes) != 1 || moved.Articles.Nodes[0].Slug == slug {
		t.Fatalf("slug after a new title = %+v, want a new one (was %q)", moved.Articles.Nodes, slug)
	}
	slug = moved.Articles.Nodes[0].Slug
	if got := e.post(t, request{query: `{ article(slug: "` + a.Slug + `") { slug } }`}); string(got.Data) != `{"article":null}` {
		t.Fatalf("old slug still finds %s", got.Data)
	}

	t.Run("NullTagsClear", func(t *testing.T) {
		res := update(alice.token, map[string]any{"slug": slug, "tagList": nil})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"updateArticle":{"article":{"slug":"`+slug+`","title":"New title","description":"About Old title","body":"New body",
			"tagList":[],"favorited":false,"favoritesCount":0,"author":{"username":"alice"}},"userErrors":[]}}`)
	})
	t.Run("ErrBlank", func(t *testing.T) {
		res := update(alice.token, map[string]any{"slug": slug, "title": " ", "body": nil})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"updateArticle":{"article":null,"userErrors":[
			{"field":["input","body"],"message":"body can't be blank","code":"INVALID"},
			{"field":["input","title"],"message":"title can't be blank","code":"INVALID"}]}}`)
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		res := update(bob.token, map[string]any{"slug": slug, "title": "Mine now"})
		wantErrorCodes(t, res, "FORBIDDEN")
		wantJSON(t, res.Data, `null`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		res := update(alice.token, map[string]any{"slug": "no-such-article", "title": "x"})
		wantErrorCodes(t, res, "NOT_FOUND")
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		res := update("", map[string]any{"slug": slug, "title": "x"})
		wantErrorCodes(t, res, "UNAUTHENTICATED")
	})
}

func TestDeleteArticle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	a := e.mustArticle(t, alice, "Doomed")
	const q = `mutation($slug: String!) { deleteArticle(input: {slug: $slug}) { deletedArticleId ` + userErrorsSel + ` } }`
	del := func(token, slug string) result {
		return e.post(t, request{query: q, token: token, variables: map[string]any{"slug": slug}})
	}

	t.Run("ErrForbidden", func(t *testing.T) {
		wantErrorCodes(t, del(bob.token, a.Slug), "FORBIDDEN")
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		wantErrorCodes(t, del("", a.Slug), "UNAUTHENTICATED")
	})
	t.Run("OK", func(t *testing.T) {
		res := del(alice.token, a.Slug)
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"deleteArticle":{"deletedArticleId":"`+gid("Article", a.ID)+`","userErrors":[]}}`)
		wantJSON(t, e.post(t, request{query: `{ article(slug: "` + a.Slug + `") { slug } }`}).Data, `{"article":null}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		res := del(alice.token, a.Slug)
		wantErrorCodes(t, res, "NOT_FOUND")
		wantJSON(t, res.Data, `null`)
	})
}

func TestFavoriteArticle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	a := e.mustArticle(t, alice, "Liked")
	const fav = `mutation($slug: String!) { favoriteArticle(input: {slug: $slug}) { article { favorited favoritesCount } ` + userErrorsSel + ` } }`
	const unfav = `mutation($slug: String!) { unfavoriteArticle(input: {slug: $slug}) { article { favorited favoritesCount } ` + userErrorsSel + ` } }`
	vars := map[string]any{"slug": a.Slug}

	t.Run("OK", func(t *testing.T) {
		for range 2 { // favoriting twice changes nothing
			res := e.post(t, request{query: fav, variables: vars, token: bob.token})
			wantErrorCodes(t, res)
			wantJSON(t, res.Data, `{"favoriteArticle":{"article":{"favorited":true,"favoritesCount":1},"userErrors":[]}}`)
		}
	})
	t.Run("Unfavorite", func(t *testing.T) {
		for range 2 {
			res := e.post(t, request{query: unfav, variables: vars, token: bob.token})
			wantErrorCodes(t, res)
			wantJSON(t, res.Data, `{"unfavoriteArticle":{"article":{"favorited":false,"favoritesCount":0},"userErrors":[]}}`)
		}
	})
	for _, q := range []struct{ name, query string }{{"Favorite", fav}, {"Unfavorite", unfav}} {
		t.Run(q.name+"ErrNotFound", func(t *testing.T) {
			res := e.post(t, request{query: q.query, variables: map[string]any{"slug": "nope"}, token: bob.token})
			wantErrorCodes(t, res, "NOT_FOUND")
			wantJSON(t, res.Data, `null`)
		})
		t.Run(q.name+"ErrAnonymous", func(t *testing.T) {
			wantErrorCodes(t, e.post(t, request{query: q.query, variables: vars}), "UNAUTHENTICATED")
		})
	}
}

func TestAddComment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	a := e.mustArticle(t, alice, "Discussed")
	const q = `mutation($slug: String!, $body: String!) { addComment(input: {articleSlug: $slug, body: $body}) {
		comment { id body createdAt updatedAt author { username following } article { slug } } ` + userErrorsSel + ` } }`

	t.Run("OK", func(t *testing.T) {
		res := e.post(t, request{query: q, token: bob.token, variables: map[string]any{"slug": a.Slug, "body": "First!"}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"addComment":{"comment":{"id":"*","body":"First!","createdAt":"*","updatedAt":"*",
			"author":{"username":"bob","following":false},"article":{"slug":"`+a.Slug+`"}},"userErrors":[]}}`)
	})
	t.Run("ErrBlank", func(t *testing.T) {
		res := e.post(t, request{query: q, token: bob.token, variables: map[string]any{"slug": a.Slug, "body": "  "}})
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"addComment":{"comment":null,"userErrors":[{"field":["input","body"],"message":"body can't be blank","code":"INVALID"}]}}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		res := e.post(t, request{query: q, token: bob.token, variables: map[string]any{"slug": "nope", "body": "x"}})
		wantErrorCodes(t, res, "NOT_FOUND")
		wantJSON(t, res.Data, `null`)
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		res := e.post(t, request{query: q, variables: map[string]any{"slug": a.Slug, "body": "x"}})
		wantErrorCodes(t, res, "UNAUTHENTICATED")
	})
}

func TestDeleteComment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	a := e.mustArticle(t, alice, "Discussed")
	other := e.mustArticle(t, alice, "Elsewhere")
	c := e.mustComment(t, bob, a.Slug, "Regrettable")
	const q = `mutation($slug: String!, $id: ID!) { deleteComment(input: {articleSlug: $slug, commentId: $id}) { deletedCommentId ` + userErrorsSel + ` } }`
	del := func(token, slug, id string) result {
		return e.post(t, request{query: q, token: token, variables: map[string]any{"slug": slug, "id": id}})
	}
	id := gid("Comment", c.ID)

	t.Run("ErrForbidden", func(t *testing.T) {
		wantErrorCodes(t, del(alice.token, a.Slug, id), "FORBIDDEN")
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		wantErrorCodes(t, del("", a.Slug, id), "UNAUTHENTICATED")
	})
	t.Run("ErrWrongArticle", func(t *testing.T) {
		wantErrorCodes(t, del(bob.token, other.Slug, id), "NOT_FOUND")
	})
	t.Run("ErrNotACommentID", func(t *testing.T) {
		wantErrorCodes(t, del(bob.token, a.Slug, gid("Article", a.ID)), "NOT_FOUND")
		wantErrorCodes(t, del(bob.token, a.Slug, "garbage"), "NOT_FOUND")
	})
	t.Run("OK", func(t *testing.T) {
		res := del(bob.token, a.Slug, id)
		wantErrorCodes(t, res)
		wantJSON(t, res.Data, `{"deleteComment":{"deletedCommentId":"`+id+`","userErrors":[]}}`)
		wantJSON(t, e.post(t, request{query: `query($id: ID!) { node(id: $id) { id } }`, variables: map[string]any{"id": id}}).Data, `{"node":null}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		wantErrorCodes(t, del(bob.token, a.Slug, id), "NOT_FOUND")
	})
}
