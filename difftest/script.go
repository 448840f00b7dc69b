package difftest

import "encoding/json"

// password is every user's password: the steps are about the API, not
// about secrets.
const password = "correct-horse-battery"

// The operationIds of the legacy API (legacy/operations.go).
const (
	opLogin          = "login"
	opRegister       = "register"
	opCurrentUser    = "getCurrentUser"
	opUpdateUser     = "updateCurrentUser"
	opProfile        = "getProfile"
	opFollow         = "followUser"
	opUnfollow       = "unfollowUser"
	opFeed           = "getArticlesFeed"
	opArticles       = "getArticles"
	opCreateArticle  = "createArticle"
	opArticle        = "getArticle"
	opUpdateArticle  = "updateArticle"
	opDeleteArticle  = "deleteArticle"
	opComments       = "getArticleComments"
	opAddComment     = "createArticleComment"
	opDeleteComment  = "deleteArticleComment"
	opFavorite       = "createArticleFavorite"
	opUnfavorite     = "deleteArticleFavorite"
	opTags           = "getTags"
	noSuchSlug       = "{p}-no-such-article"
	noSuchUser       = "{p}nobody"
	noSuchCommentID  = "2147480000"
	malformedComment = "not-a-number"
)

// jsonText is v as JSON, for a request body.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings and slices of strings come here
	}
	return string(b)
}

type obj = map[string]any

func userBody(fields obj) string { return jsonText(obj{"user": fields}) }

func newUser(u string) obj {
	return obj{"username": "{p}" + u, "email": "{p}" + u + "@example.com", "password": password}
}

func without(m obj, key string) obj {
	out := obj{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func with(m obj, key string, v any) obj {
	out := obj{key: v}
	for k, x := range m {
		if k != key {
			out[k] = x
		}
	}
	return out
}

func register(u string) Step {
	return Step{Op: opRegister, Body: userBody(newUser(u)), Bind: u}
}

func login(u string) Step {
	return Step{Op: opLogin, Body: userBody(obj{"email": "{p}" + u + "@example.com", "password": password}), Bind: u}
}

func profileStep(op, as, u string) Step {
	return Step{Op: op, As: as, Args: map[string]string{"username": u}}
}

func articleBody(fields obj) string { return jsonText(obj{"article": fields}) }

func createArticle(as, sym, title string, tags ...string) Step {
	f := obj{"title": title, "description": "About " + title, "body": "All of " + title + "."}
	if tags != nil {
		f["tagList"] = tags
	}
	return Step{Op: opCreateArticle, As: as, Body: articleBody(f), Bind: sym}
}

func onArticle(op, as, sym string) Step {
	return Step{Op: op, As: as, Args: map[string]string{"slug": "{slug:" + sym + "}"}}
}

func onSlug(op, as, slug string) Step {
	return Step{Op: op, As: as, Args: map[string]string{"slug": slug}}
}

func list(as, query string) Step { return Step{Op: opArticles, As: as, Query: query} }

func feed(as, query string) Step { return Step{Op: opFeed, As: as, Query: query} }

func addComment(as, article, sym, body string) Step {
	return Step{Op: opAddComment, As: as, Args: map[string]string{"slug": "{slug:" + article + "}"},
		Body: jsonText(obj{"comment": obj{"body": body}}), Bind: sym}
}

func deleteComment(as, article, id string) Step {
	return Step{Op: opDeleteComment, As: as, Args: map[string]string{"slug": "{slug:" + article + "}", "id": id}}
}

func note(s Step, text string) Step { s.Note = text; return s }

// Script is the fixed part of a run: every one of the 19 operations, with
// its success and the ways the contract says it fails. Users a, b and c;
// b writes articles x, y and w (w with x's title, so its slug needs a
// suffix), c writes z.
func Script() []Step {
	a := newUser("a")
	title := "{p} Dragon care"
	return []Step{
		// register
		register("a"),
		register("b"),
		register("c"),
		note(Step{Op: opRegister, Body: userBody(newUser("d"))}, "a second user, not used again"),
		note(Step{Op: opRegister, Body: userBody(without(newUser("e"), "username"))}, "missing username"),
		note(Step{Op: opRegister, Body: userBody(without(newUser("e"), "email"))}, "missing email"),
		note(Step{Op: opRegister, Body: userBody(without(newUser("e"), "password"))}, "missing password"),
		note(Step{Op: opRegister, Body: userBody(with(newUser("e"), "username", ""))}, "empty username"),
		note(Step{Op: opRegister, Body: `{"user":{}}`}, "no fields"),
		note(Step{Op: opRegister, Body: `{}`}, "no envelope"),
		note(Step{Op: opRegister, Body: `{"user":`}, "malformed JSON"),
		note(Step{Op: opRegister, Body: userBody(with(newUser("e"), "username", a["username"]))}, "taken username"),
		note(Step{Op: opRegister, Body: userBody(with(newUser("e"), "email", a["email"]))}, "taken email"),
		note(Step{Op: opRegister, Body: userBody(a)}, "taken username and email"),
		note(Step{Op: opRegister, Body: userBody(with(newUser("e"), "email", "not-an-email"))}, "invalid email"),
		note(Step{Op: opRegister, Body: userBody(with(newUser("e"), "password", "short"))}, "short password"),

		// login
		login("a"),
		note(Step{Op: opLogin, Body: userBody(obj{"email": a["email"], "password": "wrong-password"})}, "wrong password"),
		note(Step{Op: opLogin, Body: userBody(obj{"email": "{p}nobody@example.com", "password": password})}, "unknown email"),
		note(Step{Op: opLogin, Body: userBody(obj{"email": a["email"]})}, "missing password"),
		note(Step{Op: opLogin, Body: userBody(obj{})}, "no fields"),

		// the current user
		{Op: opCurrentUser, As: "a"},
		note(Step{Op: opCurrentUser}, "no token"),
		note(Step{Op: opCurrentUser, As: AsForged}, "forged token"),
		note(Step{Op: opCurrentUser, As: AsGarbage}, "not a token"),
		note(Step{Op: opUpdateUser, As: "a", Body: userBody(obj{"bio": "I like dragons", "image": "https://example.com/a.png"}), Bind: "a"}, "bio and image"),
		note(Step{Op: opUpdateUser, As: "a", Body: userBody(obj{"bio": nil}), Bind: "a"}, "clear the bio"),
		note(Step{Op: opUpdateUser, As: "a", Body: userBody(obj{"email": a["email"]}), Bind: "a"}, "own email again"),
		note(Step{Op: opUpdateUser, As: "a", Body: userBody(obj{"email": "{p}b@example.com"})}, "someone else's email"),
		note(Step{Op: opUpdateUser, As: "a", Body: userBody(obj{"username": "{p}b"})}, "someone else's username"),
		note(Step{Op: opUpdateUser, Body: userBody(obj{"bio": "anonymous"})}, "no token"),
		{Op: opCurrentUser, As: "a"},

		// profiles and following
		profileStep(opProfile, "", "{p}b"),
		profileStep(opProfile, "a", "{p}b"),
		note(profileStep(opProfile, "", noSuchUser), "unknown username"),
		note(profileStep(opProfile, AsForged, "{p}b"), "forged token on an optional route"),
		profileStep(opFollow, "a", "{p}b"),
		note(profileStep(opFollow, "a", "{p}b"), "again: idempotent"),
		note(Step{Op: opFollow, As: "c", Args: map[string]string{"username": "{p}b"}, Body: userBody(obj{"email": "stray"})}, "a stray body, ignored"),
		note(profileStep(opFollow, "a", noSuchUser), "unknown username"),
		note(profileStep(opFollow, "a", "{p}a"), "oneself"),
		note(profileStep(opFollow, "", "{p}b"), "no token"),
		profileStep(opProfile, "a", "{p}b"),

		// articles
		createArticle("b", "x", title, "{p}zebra", "{p}apple", "{p}apple", " {p}mango "),
		createArticle("b", "y", "{p} Second thoughts", "{p}apple"),
		createArticle("c", "z", "{p} Third way"),
		note(createArticle("b", "w", title, "{p}zebra"), "same title: the slug gets a suffix"),
		note(Step{Op: opCreateArticle, As: "b", Body: articleBody(obj{"description": "d", "body": "b"})}, "missing title"),
		note(Step{Op: opCreateArticle, As: "b", Body: articleBody(obj{"title": "{p} t", "description": "d"})}, "missing body"),
		note(Step{Op: opCreateArticle, As: "b", Body: articleBody(obj{"title": "", "description": "", "body": ""})}, "all blank"),
		note(Step{Op: opCreateArticle, Body: articleBody(obj{"title": "{p} t", "description": "d", "body": "b"})}, "no token"),
		onArticle(opArticle, "", "x"),
		onArticle(opArticle, "a", "x"),
		note(onSlug(opArticle, "", noSuchSlug), "unknown slug"),
		note(onArticle(opArticle, AsForged, "x"), "forged token on an optional route"),
		note(Step{Op: opUpdateArticle, As: "b", Args: map[string]string{"slug": "{slug:y}"}, Body: articleBody(obj{"title": "{p} Second thoughts revised"}), Bind: "y"}, "new title: the slug follows"),
		note(Step{Op: opUpdateArticle, As: "b", Args: map[string]string{"slug": "{slug:y}"}, Body: articleBody(obj{"body": "A new body."}), Bind: "y"}, "body only"),
		onArticle(opArticle, "", "y"),
		note(Step{Op: opUpdateArticle, As: "a", Args: map[string]string{"slug": "{slug:y}"}, Body: articleBody(obj{"body": "mine now"})}, "someone else's article"),
		note(Step{Op: opUpdateArticle, As: "b", Args: map[string]string{"slug": noSuchSlug}, Body: articleBody(obj{"body": "b"})}, "unknown slug"),
		note(Step{Op: opUpdateArticle, Args: map[string]string{"slug": "{slug:y}"}, Body: articleBody(obj{"body": "b"})}, "no token"),
		note(Step{Op: opUpdateArticle, As: "b", Args: map[string]string{"slug": "{slug:y}"}, Body: articleBody(obj{"title": ""})}, "blank title"),

		// favorites
		onArticle(opFavorite, "a", "x"),
		note(onArticle(opFavorite, "a", "x"), "again: idempotent"),
		onArticle(opFavorite, "c", "x"),
		onArticle(opFavorite, "a", "z"),
		note(onSlug(opFavorite, "a", noSuchSlug), "unknown slug"),
		note(onArticle(opFavorite, "", "x"), "no token"),
		onArticle(opArticle, "a", "x"),
		onArticle(opUnfavorite, "c", "x"),
		note(onArticle(opUnfavorite, "c", "x"), "again: idempotent"),
		note(onSlug(opUnfavorite, "c", noSuchSlug), "unknown slug"),
		note(onArticle(opUnfavorite, "", "x"), "no token"),

		// lists
		list("", "author={p}b"),
		list("a", "author={p}b"),
		list("", "tag={p}apple"),
		list("", "favorited={p}a"),
		list("", "author={p}b&tag={p}zebra"),
		list("", "author={p}c&favorited={p}a"),
		note(list("", "author="+noSuchUser), "unknown author"),
		note(list("", "tag={p}nosuchtag"), "unknown tag"),
		note(list("", "favorited="+noSuchUser), "unknown user"),
		list("", "author={p}b&limit=1"),
		list("", "author={p}b&limit=1&offset=1"),
		note(list("", "author={p}b&offset=10"), "past the end"),
		note(list("", "author={p}b&limit=0"), "limit 0"),
		note(list("", "author={p}b&limit=abc"), "limit not a number"),
		note(list("", "author={p}b&offset=-1"), "negative offset"),
		note(list("", "author={p}b&limit=1000"), "limit over the cap"),
		note(list(AsForged, "author={p}b"), "forged token on an optional route"),
		note(list("", "limit=3"), "no filter"),
		feed("a", ""),
		feed("a", "limit=1&offset=1"),
		note(feed("c", ""), "follows someone who wrote"),
		note(feed("b", ""), "follows nobody"),
		note(feed("", ""), "no token"),
		note(feed("a", "limit=-1"), "negative limit"),

		// comments
		addComment("a", "x", "k1", "First!"),
		addComment("c", "x", "k2", "Second."),
		addComment("a", "x", "k3", "Third."),
		note(addComment("a", "x", "", ""), "blank body"),
		note(Step{Op: opAddComment, As: "a", Args: map[string]string{"slug": "{slug:x}"}, Body: `{"comment":{}}`}, "missing body"),
		note(Step{Op: opAddComment, As: "a", Args: map[string]string{"slug": noSuchSlug}, Body: jsonText(obj{"comment": obj{"body": "hello"}})}, "unknown slug"),
		note(addComment("", "x", "", "anonymous"), "no token"),
		onArticle(opComments, "", "x"),
		onArticle(opComments, "a", "x"),
		note(onArticle(opComments, "a", "y"), "no comments"),
		note(onSlug(opComments, "", noSuchSlug), "unknown slug"),
		note(deleteComment("c", "x", "{comment:k1}"), "someone else's comment"),
		deleteComment("a", "x", "{comment:k1}"),
		note(deleteComment("a", "x", "{comment:k1}"), "already deleted"),
		note(deleteComment("a", "x", noSuchCommentID), "unknown id"),
		note(deleteComment("a", "x", malformedComment), "malformed id"),
		note(deleteComment("a", "y", "{comment:k3}"), "a comment of another article"),
		note(deleteComment("", "x", "{comment:k3}"), "no token"),
		onArticle(opComments, "", "x"),

		// unfollowing
		profileStep(opUnfollow, "a", "{p}b"),
		note(profileStep(opUnfollow, "a", "{p}b"), "again: idempotent"),
		note(profileStep(opUnfollow, "a", noSuchUser), "unknown username"),
		note(profileStep(opUnfollow, "", "{p}b"), "no token"),
		note(feed("a", ""), "follows nobody any more"),

		// deleting articles
		note(onArticle(opDeleteArticle, "a", "w"), "someone else's article"),
		note(onArticle(opDeleteArticle, "", "w"), "no token"),
		onArticle(opDeleteArticle, "b", "w"),
		note(onArticle(opDeleteArticle, "b", "w"), "already deleted"),
		note(onArticle(opArticle, "", "w"), "deleted"),
		note(onArticle(opComments, "", "w"), "of a deleted article"),
		list("", "author={p}b"),

		// tags
		{Op: opTags},
		note(Step{Op: opTags, As: AsForged}, "forged token on a route that reads none"),
	}
}
