package parity_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/conduit-dev/conduit/legacy"
	"github.com/conduit-dev/conduit/resolvers"
)

// operation is one row of the matrix: a legacy call, the GraphQL document
// that replaces it, a check that the two agree, and the mistakes that both
// must answer with the same class of error. The rows also render
// docs/migration.md, so what the guide says is what the tests ran.
type operation struct {
	name     string // the GraphQL field that replaces the call, as a path from the document's root; the subtest's name
	rest     string // the legacy call, "METHOD /api/path" as the contract lists it
	auth     string // who may make it: "none", "optional", "required", "author only" (legacy.Access)
	graphql  string // the GraphQL document, sent as it stands
	example  example
	notes    []string // how the GraphQL operation differs, in Markdown
	parity   func(t *testing.T, w *world)
	mistakes []mistake
}

// example is the worked example of a row in docs/migration.md: the REST
// request and the GraphQL variables that do the same. TestMigrationExamples
// runs each of them, in the order of the table, against the example data.
type example struct {
	signedIn bool   // sent with jake's token
	rest     string // "METHOD /api/path?query"
	body     string // the REST body, JSON, or ""
	vars     string // the GraphQL variables, JSON, or ""
}

// mistake is one wrong request, made on both surfaces by the same actor.
type mistake struct {
	name string
	as   string // a world actor: "alice", "bob", "forged" (a token that does not verify); "" for nobody
	rest string // "METHOD /api/path"; {comment} stands for alice's comment's id
	body string
	vars string // the GraphQL variables for the row's document; {commentID} is alice's comment's global id
	want outcome
}

// outcome is how the two surfaces answer a mistake: the legacy status and
// error body, and the GraphQL form of the same class of error.
type outcome struct {
	class  string              // the row of the error table in docs/migration.md
	status int                 // legacy
	errors map[string][]string // legacy {"errors": …}; nil when the request succeeds
	gql    gqlOutcome
}

// gqlOutcome is at most one of a user error, a top-level error and a null.
type gqlOutcome struct {
	userError *userError // the only entry of the payload's userErrors
	code      string     // the extensions.code of the only top-level error
	message   string     // and its message
	null      bool       // the root field is null, without an error
}

func invalid(field, message string) outcome {
	return outcome{
		class: "INVALID", status: http.StatusUnprocessableEntity, errors: map[string][]string{field: {message}},
		gql: gqlOutcome{userError: &userError{Field: []string{"input", field}, Message: field + " " + message, Code: "INVALID"}},
	}
}

func conflict(field string) outcome {
	const taken = "has already been taken"
	return outcome{
		class: "CONFLICT", status: http.StatusUnprocessableEntity, errors: map[string][]string{field: {taken}},
		gql: gqlOutcome{userError: &userError{Field: []string{"input", field}, Message: field + " " + taken, Code: "CONFLICT"}},
	}
}

func badCredentials() outcome {
	return outcome{
		class: "INVALID_CREDENTIALS", status: http.StatusUnauthorized, errors: map[string][]string{"email or password": {"is invalid"}},
		gql: gqlOutcome{userError: &userError{Message: "email or password is invalid", Code: "INVALID_CREDENTIALS"}},
	}
}

func unauthenticated() outcome {
	return topLevel("UNAUTHENTICATED", http.StatusUnauthorized, "body", "authentication required")
}

// forgedToken is the answer to a token that does not verify, on every
// operation that looks at the viewer, even those open to anonymous callers.
func forgedToken() outcome {
	return topLevel("UNAUTHENTICATED", http.StatusUnauthorized, "token", "invalid token")
}

func forbidden() outcome {
	return topLevel("FORBIDDEN", http.StatusForbidden, "body", "forbidden")
}

func notFound(what string) outcome {
	return topLevel("NOT_FOUND", http.StatusNotFound, "body", what+" not found")
}

func topLevel(code string, status int, field, message string) outcome {
	return outcome{class: code, status: status, errors: map[string][]string{field: {message}}, gql: gqlOutcome{code: code, message: message}}
}

// absent is a lookup of something that does not exist: 404 on REST, null
// in GraphQL.
func absent(what string) outcome {
	return outcome{class: "null", status: http.StatusNotFound, errors: map[string][]string{"body": {what + " not found"}}, gql: gqlOutcome{null: true}}
}

// signedOut is viewer without a token: 401 on REST, null in GraphQL.
func signedOut() outcome {
	return outcome{class: "null", status: http.StatusUnauthorized, errors: map[string][]string{"body": {"authentication required"}}, gql: gqlOutcome{null: true}}
}

// badPageSize is a negative page size: limit on REST, first in GraphQL.
// A list has no payload, so GraphQL reports it at the top level.
func badPageSize() outcome {
	return outcome{
		class: "BAD_USER_INPUT", status: http.StatusUnprocessableEntity, errors: map[string][]string{"limit": {"must be at least 1"}},
		gql: gqlOutcome{code: "BAD_USER_INPUT", message: "first must not be negative"},
	}
}

// ignored is a mistake both surfaces overlook alike.
func ignored() outcome {
	return outcome{class: "none", status: http.StatusOK}
}

// The matrix: the 19 legacy operations in the order of the contract's
// groups, each beside its GraphQL replacement.
var matrix = []operation{
	{
		name: "register", rest: "POST /api/users", auth: "none", graphql: registerDoc,
		example: example{
			rest: "POST /api/users",
			body: `{"user":{"username":"jane","email":"jane@example.com","password":"jane-password"}}`,
			vars: `{"input":{"username":"jane","email":"jane@example.com","password":"jane-password"}}`,
		},
		notes: []string{
			"The token sits beside `user` in the payload, not inside it. It is the same kind of token: send it to either API as `Authorization: Token …` or `Bearer …`.",
			"Mistakes come back with status 200 in `userErrors`, one entry per message, instead of a 422: `field` is the path of the input field (`[\"input\", \"email\"]`) and `code` is `INVALID` or `CONFLICT`. `user` and `token` are then null.",
		},
		parity: checkRegister,
		mistakes: []mistake{
			{name: "blank username",
				rest: "POST /api/users", body: `{"user":{"username":"","email":"blank@example.com","password":"password1"}}`,
				vars: `{"input":{"username":"","email":"blank@example.com","password":"password1"}}`,
				want: invalid("username", "can't be blank")},
			{name: "malformed email",
				rest: "POST /api/users", body: `{"user":{"username":"mal","email":"not an email","password":"password1"}}`,
				vars: `{"input":{"username":"mal","email":"not an email","password":"password1"}}`,
				want: invalid("email", "is invalid")},
			{name: "short password",
				rest: "POST /api/users", body: `{"user":{"username":"short","email":"short@example.com","password":"short"}}`,
				vars: `{"input":{"username":"short","email":"short@example.com","password":"short"}}`,
				want: invalid("password", "is too short (minimum is 8 characters)")},
			{name: "taken username",
				rest: "POST /api/users", body: `{"user":{"username":"alice","email":"other@example.com","password":"password1"}}`,
				vars: `{"input":{"username":"alice","email":"other@example.com","password":"password1"}}`,
				want: conflict("username")},
			{name: "taken email",
				rest: "POST /api/users", body: `{"user":{"username":"other","email":"BOB@example.com","password":"password1"}}`,
				vars: `{"input":{"username":"other","email":"BOB@example.com","password":"password1"}}`,
				want: conflict("email")},
		},
	},
	{
		name: "login", rest: "POST /api/users/login", auth: "none", graphql: loginDoc,
		example: example{
			rest: "POST /api/users/login",
			body: `{"user":{"email":"jake@jake.jake","password":"jakejake"}}`,
			vars: `{"input":{"email":"jake@jake.jake","password":"jakejake"}}`,
		},
		notes: []string{
			"A wrong email or password is one user error with code `INVALID_CREDENTIALS` and no `field`, the same for both, instead of a 401.",
		},
		parity: checkLogin,
		mistakes: []mistake{
			{name: "wrong password",
				rest: "POST /api/users/login", body: `{"user":{"email":"alice@example.com","password":"not-her-password"}}`,
				vars: `{"input":{"email":"alice@example.com","password":"not-her-password"}}`,
				want: badCredentials()},
			{name: "unknown email",
				rest: "POST /api/users/login", body: `{"user":{"email":"nobody@example.com","password":"password1"}}`,
				vars: `{"input":{"email":"nobody@example.com","password":"password1"}}`,
				want: badCredentials()},
			{name: "blank password",
				rest: "POST /api/users/login", body: `{"user":{"email":"alice@example.com","password":""}}`,
				vars: `{"input":{"email":"alice@example.com","password":""}}`,
				want: invalid("password", "can't be blank")},
		},
	},
	{
		name: "viewer", rest: "GET /api/user", auth: "required", graphql: viewerDoc,
		example: example{signedIn: true, rest: "GET /api/user"},
		notes: []string{
			"Without a token `viewer` is null, not an error; a token that does not verify is still an `UNAUTHENTICATED` error.",
			"`viewer` signs no new token, where `GET /api/user` does on every call. A token stays valid until it expires (`JWT_TTL`, 30 days by default); to renew it without the password, call `updateViewer(input: {})`, which changes nothing and returns a fresh `token`.",
		},
		parity: checkViewer,
		mistakes: []mistake{
			{name: "no token", rest: "GET /api/user", want: signedOut()},
			{name: "forged token", as: "forged", rest: "GET /api/user", want: forgedToken()},
		},
	},
	{
		name: "updateViewer", rest: "PUT /api/user", auth: "required", graphql: updateViewerDoc,
		example: example{
			signedIn: true, rest: "PUT /api/user",
			body: `{"user":{"bio":"I like to skateboard","image":"https://i.stack.imgur.com/xHWG8.jpg"}}`,
			vars: `{"input":{"bio":"I like to skateboard","image":"https://i.stack.imgur.com/xHWG8.jpg"}}`,
		},
		notes: []string{
			"As on REST, a field left out stays as it is, and `bio` or `image` set to null or `\"\"` is cleared.",
			"The payload's `token` is a fresh one, like the `token` of the REST answer; the old token keeps working until it expires.",
		},
		parity: checkUpdateViewer,
		mistakes: []mistake{
			{name: "no token", rest: "PUT /api/user", body: `{"user":{"bio":"x"}}`, vars: `{"input":{"bio":"x"}}`, want: unauthenticated()},
			{name: "taken username", as: "bob",
				rest: "PUT /api/user", body: `{"user":{"username":"alice"}}`, vars: `{"input":{"username":"alice"}}`,
				want: conflict("username")},
			{name: "malformed email", as: "bob",
				rest: "PUT /api/user", body: `{"user":{"email":"bob at example"}}`, vars: `{"input":{"email":"bob at example"}}`,
				want: invalid("email", "is invalid")},
			{name: "short password", as: "bob",
				rest: "PUT /api/user", body: `{"user":{"password":"short"}}`, vars: `{"input":{"password":"short"}}`,
				want: invalid("password", "is too short (minimum is 8 characters)")},
		},
	},
	{
		name: "profile", rest: "GET /api/profiles/{username}", auth: "optional", graphql: profileDoc,
		example: example{signedIn: true, rest: "GET /api/profiles/ann", vars: `{"username":"ann"}`},
		notes: []string{
			"An unknown username gives `profile: null`, not a 404.",
			"A profile also lists its author's articles: `profile(username: \"ann\") { articles(first: 10) { nodes { slug } } }`.",
		},
		parity: checkProfile,
		mistakes: []mistake{
			{name: "unknown username", rest: "GET /api/profiles/nobody-at-all", vars: `{"username":"nobody-at-all"}`, want: absent("profile")},
			{name: "forged token", as: "forged", rest: "GET /api/profiles/alice", vars: `{"username":"alice"}`, want: forgedToken()},
		},
	},
	{
		name: "followProfile", rest: "POST /api/profiles/{username}/follow", auth: "required", graphql: followProfileDoc,
		example: example{signedIn: true, rest: "POST /api/profiles/ann/follow", vars: `{"input":{"username":"ann"}}`},
		notes: []string{
			"Following yourself is a user error (`INVALID` on `[\"input\", \"username\"]`); an unknown username is a top-level `NOT_FOUND` error.",
		},
		parity: checkFollowProfile,
		mistakes: []mistake{
			{name: "no token", rest: "POST /api/profiles/alice/follow", vars: `{"input":{"username":"alice"}}`, want: unauthenticated()},
			{name: "unknown username", as: "alice", rest: "POST /api/profiles/nobody-at-all/follow", vars: `{"input":{"username":"nobody-at-all"}}`, want: notFound("profile")},
			{name: "following yourself", as: "alice", rest: "POST /api/profiles/alice/follow", vars: `{"input":{"username":"alice"}}`, want: invalid("username", "cannot follow yourself")},
		},
	},
	{
		name: "unfollowProfile", rest: "DELETE /api/profiles/{username}/follow", auth: "required", graphql: unfollowProfileDoc,
		example: example{signedIn: true, rest: "DELETE /api/profiles/ann/follow", vars: `{"input":{"username":"ann"}}`},
		parity:  checkUnfollowProfile,
		mistakes: []mistake{
			{name: "no token", rest: "DELETE /api/profiles/alice/follow", vars: `{"input":{"username":"alice"}}`, want: unauthenticated()},
			{name: "unknown username", as: "bob", rest: "DELETE /api/profiles/nobody-at-all/follow", vars: `{"input":{"username":"nobody-at-all"}}`, want: notFound("profile")},
		},
	},
	{
		name: "feed", rest: "GET /api/articles/feed", auth: "required", graphql: feedDoc,
		example: example{signedIn: true, rest: "GET /api/articles/feed?limit=10&offset=0", vars: `{"first":10}`},
		notes: []string{
			"Lists are cursor connections: `first` replaces `limit`; for the next page pass the previous page's `pageInfo.endCursor` as `after` instead of raising `offset`. `pageInfo.hasNextPage` says whether there is one. There is no way to jump to the n-th page.",
			"`totalCount` is `articlesCount`, and `nodes` is `articles`, which also have `body` if you ask for it.",
		},
		parity: checkFeed,
		mistakes: []mistake{
			{name: "no token", rest: "GET /api/articles/feed", want: unauthenticated()},
			{name: "negative page size", as: "alice", rest: "GET /api/articles/feed?limit=-1", vars: `{"first":-1}`, want: badPageSize()},
		},
	},
	{
		name: "articles", rest: "GET /api/articles", auth: "optional", graphql: articlesDoc,
		example: example{rest: "GET /api/articles?tag=dragons&author=ann&limit=10", vars: `{"first":10,"filter":{"tag":"dragons","author":"ann"}}`},
		notes: []string{
			"The query parameters become `filter: {tag, author, favoritedBy}` (`favorited=` is `favoritedBy`); they combine with AND, as on REST.",
			"Paging as for the feed: `first` and `after` instead of `limit` and `offset`; `last` and `before` page back from the oldest.",
		},
		parity: checkArticles,
		mistakes: []mistake{
			{name: "negative page size", rest: "GET /api/articles?limit=-1", vars: `{"first":-1}`, want: badPageSize()},
			{name: "forged token", as: "forged", rest: "GET /api/articles", vars: `{}`, want: forgedToken()},
		},
	},
	{
		name: "createArticle", rest: "POST /api/articles", auth: "required", graphql: createArticleDoc,
		example: example{
			signedIn: true, rest: "POST /api/articles",
			body: `{"article":{"title":"How to train your dragon","description":"Ever wonder how?","body":"You have to believe","tagList":["reactjs","angularjs","dragons"]}}`,
			vars: `{"input":{"title":"How to train your dragon","description":"Ever wonder how?","body":"You have to believe","tagList":["reactjs","angularjs","dragons"]}}`,
		},
		notes: []string{
			"The slug derives from the title and stays unique the same way (a clash gets a short suffix); tags are trimmed, de-duplicated and sorted the same way.",
			"A blank `body` is reported on the field `[\"input\", \"body\"]`; the legacy key `body` is also where REST puts messages that belong to no field.",
		},
		parity: checkCreateArticle,
		mistakes: []mistake{
			{name: "no token", rest: "POST /api/articles",
				body: `{"article":{"title":"T","description":"D","body":"B"}}`, vars: `{"input":{"title":"T","description":"D","body":"B"}}`,
				want: unauthenticated()},
			{name: "blank title", as: "alice", rest: "POST /api/articles",
				body: `{"article":{"title":" ","description":"D","body":"B"}}`, vars: `{"input":{"title":" ","description":"D","body":"B"}}`,
				want: invalid("title", "can't be blank")},
			{name: "blank body", as: "alice", rest: "POST /api/articles",
				body: `{"article":{"title":"T","description":"D","body":""}}`, vars: `{"input":{"title":"T","description":"D","body":""}}`,
				want: invalid("body", "can't be blank")},
		},
	},
	{
		name: "article", rest: "GET /api/articles/{slug}", auth: "optional", graphql: articleDoc,
		example: example{rest: "GET /api/articles/how-to-train-your-dragon", vars: `{"slug":"how-to-train-your-dragon"}`},
		notes: []string{
			"An unknown slug gives `article: null`, not a 404.",
			"The article carries its comments (`comments(first: …)`), so one request can replace two REST calls.",
		},
		parity: checkArticle,
		mistakes: []mistake{
			{name: "unknown slug", rest: "GET /api/articles/no-such-article", vars: `{"slug":"no-such-article"}`, want: absent("article")},
			{name: "forged token", as: "forged", rest: "GET /api/articles/" + fixtureSlug, vars: `{"slug":"` + fixtureSlug + `"}`, want: forgedToken()},
		},
	},
	{
		name: "updateArticle", rest: "PUT /api/articles/{slug}", auth: "author only", graphql: updateArticleDoc,
		example: example{
			signedIn: true, rest: "PUT /api/articles/how-to-train-your-dragon",
			body: `{"article":{"title":"Did you train your dragon?"}}`,
			vars: `{"input":{"slug":"how-to-train-your-dragon","title":"Did you train your dragon?"}}`,
		},
		notes: []string{
			"The slug moves into the input. As on REST, only the fields given change, and a new title moves the slug: read the new one from the payload.",
			"`tagList` can be changed too; `tagList: null` removes every tag.",
			"Someone else's article is a top-level `FORBIDDEN` error, an unknown slug `NOT_FOUND`; blank fields are user errors.",
		},
		parity: checkUpdateArticle,
		mistakes: []mistake{
			{name: "no token", rest: "PUT /api/articles/" + fixtureSlug,
				body: `{"article":{"body":"B"}}`, vars: `{"input":{"slug":"` + fixtureSlug + `","body":"B"}}`,
				want: unauthenticated()},
			{name: "not the author", as: "bob", rest: "PUT /api/articles/" + fixtureSlug,
				body: `{"article":{"body":"B"}}`, vars: `{"input":{"slug":"` + fixtureSlug + `","body":"B"}}`,
				want: forbidden()},
			{name: "unknown slug", as: "alice", rest: "PUT /api/articles/no-such-article",
				body: `{"article":{"body":"B"}}`, vars: `{"input":{"slug":"no-such-article","body":"B"}}`,
				want: notFound("article")},
			{name: "blank title", as: "alice", rest: "PUT /api/articles/" + fixtureSlug,
				body: `{"article":{"title":""}}`, vars: `{"input":{"slug":"` + fixtureSlug + `","title":""}}`,
				want: invalid("title", "can't be blank")},
		},
	},
	{
		name: "deleteArticle", rest: "DELETE /api/articles/{slug}", auth: "author only", graphql: deleteArticleDoc,
		example: example{signedIn: true, rest: "DELETE /api/articles/did-you-train-your-dragon", vars: `{"input":{"slug":"did-you-train-your-dragon"}}`},
		notes: []string{
			"Instead of an empty 204 the payload names the global id the article had (`deletedArticleId`), for client caches to drop.",
		},
		parity: checkDeleteArticle,
		mistakes: []mistake{
			{name: "no token", rest: "DELETE /api/articles/" + fixtureSlug, vars: `{"input":{"slug":"` + fixtureSlug + `"}}`, want: unauthenticated()},
			{name: "not the author", as: "bob", rest: "DELETE /api/articles/" + fixtureSlug, vars: `{"input":{"slug":"` + fixtureSlug + `"}}`, want: forbidden()},
			{name: "unknown slug", as: "alice", rest: "DELETE /api/articles/no-such-article", vars: `{"input":{"slug":"no-such-article"}}`, want: notFound("article")},
		},
	},
	{
		name: "article.comments", rest: "GET /api/articles/{slug}/comments", auth: "optional", graphql: commentsDoc,
		example: example{rest: "GET /api/articles/dragon-care/comments", vars: `{"slug":"dragon-care","first":20}`},
		notes: []string{
			"Comments are a field of the article, a connection like the lists of articles: newest first, `first` (default 20, at most 100) and `after` to page, `totalCount` for how many there are. REST returns them all at once.",
			"A comment's `id` is a global id (a string such as `\"Q29tbWVudDox\"`), not the legacy integer: treat it as opaque and keep it to delete the comment.",
			"An unknown slug gives `article: null`, not a 404.",
		},
		parity: checkComments,
		mistakes: []mistake{
			{name: "unknown slug", rest: "GET /api/articles/no-such-article/comments", vars: `{"slug":"no-such-article"}`, want: absent("article")},
			{name: "forged token", as: "forged", rest: "GET /api/articles/" + fixtureSlug + "/comments", vars: `{"slug":"` + fixtureSlug + `"}`, want: forgedToken()},
		},
	},
	{
		name: "addComment", rest: "POST /api/articles/{slug}/comments", auth: "required", graphql: addCommentDoc,
		example: example{
			signedIn: true, rest: "POST /api/articles/dragon-care/comments",
			body: `{"comment":{"body":"Thank you so much!"}}`,
			vars: `{"input":{"articleSlug":"dragon-care","body":"Thank you so much!"}}`,
		},
		notes: []string{
			"The slug moves into the input as `articleSlug`. The new comment's `id` is its global id.",
		},
		parity: checkAddComment,
		mistakes: []mistake{
			{name: "no token", rest: "POST /api/articles/" + fixtureSlug + "/comments",
				body: `{"comment":{"body":"Hi"}}`, vars: `{"input":{"articleSlug":"` + fixtureSlug + `","body":"Hi"}}`,
				want: unauthenticated()},
			{name: "blank body", as: "bob", rest: "POST /api/articles/" + fixtureSlug + "/comments",
				body: `{"comment":{"body":" "}}`, vars: `{"input":{"articleSlug":"` + fixtureSlug + `","body":" "}}`,
				want: invalid("body", "can't be blank")},
			{name: "unknown slug", as: "bob", rest: "POST /api/articles/no-such-article/comments",
				body: `{"comment":{"body":"Hi"}}`, vars: `{"input":{"articleSlug":"no-such-article","body":"Hi"}}`,
				want: notFound("article")},
		},
	},
	{
		name: "deleteComment", rest: "DELETE /api/articles/{slug}/comments/{id}", auth: "comment author only", graphql: deleteCommentDoc,
		example: example{signedIn: true, rest: "DELETE /api/articles/dragon-care/comments/1", vars: `{"input":{"articleSlug":"dragon-care","commentId":"Q29tbWVudDox"}}`},
		notes: []string{
			"The comment is named by `articleSlug` and `commentId`, its global id as `comments` or `addComment` gave it, not the legacy integer id.",
			"Someone else's comment is a top-level `FORBIDDEN` error; an unknown article or comment, or a comment on another article, `NOT_FOUND`.",
		},
		parity: checkDeleteComment,
		mistakes: []mistake{
			{name: "no token", rest: "DELETE /api/articles/" + fixtureSlug + "/comments/{comment}",
				vars: `{"input":{"articleSlug":"` + fixtureSlug + `","commentId":"{commentID}"}}`, want: unauthenticated()},
			{name: "not the comment author", as: "bob", rest: "DELETE /api/articles/" + fixtureSlug + "/comments/{comment}",
				vars: `{"input":{"articleSlug":"` + fixtureSlug + `","commentId":"{commentID}"}}`, want: forbidden()},
			{name: "unknown comment", as: "alice", rest: "DELETE /api/articles/" + fixtureSlug + "/comments/999999",
				vars: `{"input":{"articleSlug":"` + fixtureSlug + `","commentId":"` + unknownCommentID + `"}}`, want: notFound("comment")},
			{name: "malformed comment id", as: "alice", rest: "DELETE /api/articles/" + fixtureSlug + "/comments/abc",
				vars: `{"input":{"articleSlug":"` + fixtureSlug + `","commentId":"abc"}}`, want: notFound("comment")},
			{name: "unknown slug", as: "alice", rest: "DELETE /api/articles/no-such-article/comments/{comment}",
				vars: `{"input":{"articleSlug":"no-such-article","commentId":"{commentID}"}}`, want: notFound("article")},
		},
	},
	{
		name: "favoriteArticle", rest: "POST /api/articles/{slug}/favorite", auth: "required", graphql: favoriteArticleDoc,
		example: example{signedIn: true, rest: "POST /api/articles/dragon-care/favorite", vars: `{"input":{"slug":"dragon-care"}}`},
		parity:  checkFavoriteArticle,
		mistakes: []mistake{
			{name: "no token", rest: "POST /api/articles/" + fixtureSlug + "/favorite", vars: `{"input":{"slug":"` + fixtureSlug + `"}}`, want: unauthenticated()},
			{name: "unknown slug", as: "bob", rest: "POST /api/articles/no-such-article/favorite", vars: `{"input":{"slug":"no-such-article"}}`, want: notFound("article")},
		},
	},
	{
		name: "unfavoriteArticle", rest: "DELETE /api/articles/{slug}/favorite", auth: "required", graphql: unfavoriteArticleDoc,
		example: example{signedIn: true, rest: "DELETE /api/articles/dragon-care/favorite", vars: `{"input":{"slug":"dragon-care"}}`},
		parity:  checkUnfavoriteArticle,
		mistakes: []mistake{
			{name: "no token", rest: "DELETE /api/articles/" + fixtureSlug + "/favorite", vars: `{"input":{"slug":"` + fixtureSlug + `"}}`, want: unauthenticated()},
			{name: "unknown slug", as: "bob", rest: "DELETE /api/articles/no-such-article/favorite", vars: `{"input":{"slug":"no-such-article"}}`, want: notFound("article")},
		},
	},
	{
		name: "tags", rest: "GET /api/tags", auth: "none", graphql: tagsDoc,
		example: example{rest: "GET /api/tags"},
		notes: []string{
			"A plain list of strings, most used first, ties in alphabetical order, as on REST.",
		},
		parity: checkTags,
		mistakes: []mistake{
			{name: "forged token", as: "forged", rest: "GET /api/tags", want: ignored()},
		},
	},
}

// fixtureSlug is the slug of alice's article in the world of the matrix.
const fixtureSlug = "parity-fixture"

// unknownCommentID is the well-formed global id of a comment that does not exist.
var unknownCommentID = globalCommentID(999999)

// TestParity runs the matrix on one server and one database: for each row
// the parity check, then every mistake on both surfaces.
func TestParity(t *testing.T) {
	w := newWorld(t)
	for _, op := range matrix {
		t.Run(op.name, func(t *testing.T) {
			t.Run("parity", func(t *testing.T) { op.parity(t, w) })
			for _, m := range op.mistakes {
				t.Run(m.name, func(t *testing.T) { w.mistake(t, op, m) })
			}
		})
	}
}

// TestMatrixCoversEveryRoute fails when a route of the legacy route table
// has no row, or a row names no route of the table.
func TestMatrixCoversEveryRoute(t *testing.T) {
	rows := map[string]string{}
	for _, op := range matrix {
		if other, ok := rows[op.rest]; ok {
			t.Errorf("%s has two rows: %s and %s", op.rest, other, op.name)
		}
		rows[op.rest] = op.name
		if len(op.mistakes) == 0 {
			t.Errorf("row %s has no mistakes", op.name)
		}
	}
	for _, r := range legacy.Routes() {
		key := r.Method + " " + r.Path
		if _, ok := rows[key]; !ok {
			t.Errorf("no row for %s", key)
		}
		delete(rows, key)
	}
	for r := range rows {
		t.Errorf("row for %s, which the legacy route table does not list", r)
	}
	if len(matrix) != 19 {
		t.Errorf("len(matrix) = %d, want 19", len(matrix))
	}
}

// TestMatrixMatchesRouteTable fails when a row and the legacy route table
// (which the OpenAPI document is built from) disagree: on who may call the
// route, or on its GraphQL replacement. The row's name is the path of
// fields from the root of its GraphQL document to the replacing field
// ("register", "article.comments"); the table names that field by its
// schema coordinate ("Mutation.register", "Article.comments"), which must
// be what the row's document, validated against the schema, selects.
func TestMatrixMatchesRouteTable(t *testing.T) {
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(resolvers.SDL())})
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]legacy.Route{}
	for _, r := range legacy.Routes() {
		routes[r.Method+" "+r.Path] = r
	}
	for _, op := range matrix {
		r, ok := routes[op.rest]
		if !ok {
			continue // TestMatrixCoversEveryRoute says so
		}
		if string(r.Auth) != op.auth {
			t.Errorf("%s: auth is %q in the matrix, %q in the route table", op.rest, op.auth, r.Auth)
		}
		doc, errs := gqlparser.LoadQueryWithRules(schema, op.graphql, rules.NewDefaultRules())
		if errs != nil {
			t.Errorf("%s: the document does not validate: %v", op.name, errs)
			continue
		}
		got, err := coordinate(doc, strings.Split(op.name, "."))
		if err != nil {
			t.Errorf("%s: %v", op.name, err)
			continue
		}
		if got != r.GraphQL {
			t.Errorf("%s: the row's document selects %s, the route table names %s", op.rest, got, r.GraphQL)
		}
	}
}

// coordinate follows the path of field names from the root of doc's one
// operation and returns the schema coordinate of the last field.
func coordinate(doc *ast.QueryDocument, path []string) (string, error) {
	if len(doc.Operations) != 1 {
		return "", fmt.Errorf("%d operations, want 1", len(doc.Operations))
	}
	set := doc.Operations[0].SelectionSet
	var coord string
	for _, name := range path {
		var found *ast.Field
		for _, sel := range set {
			if f, ok := sel.(*ast.Field); ok && f.Name == name && f.Alias == name {
				found = f
				break
			}
		}
		if found == nil {
			return "", fmt.Errorf("the document selects no field %q where the row's name says", name)
		}
		coord = found.ObjectDefinition.Name + "." + found.Name
		set = found.SelectionSet
	}
	return coord, nil
}

// world is the server of the matrix with the users and things the mistakes
// refer to: alice signed up over REST and wrote fixtureSlug with one
// comment; bob signed up over GraphQL. Each parity check makes its own
// users and articles beside them.
type world struct {
	*server
	actors  map[string]actor
	comment int64 // alice's comment on fixtureSlug
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{server: newServer(t), actors: map[string]actor{}}
	w.actors["alice"] = w.signUpREST(t, "alice")
	w.actors["bob"] = w.signUpGraphQL(t, "bob")
	w.actors["forged"] = actor{token: "not.a.token"}
	if got := w.createREST(t, w.actors["alice"], "Parity fixture").Slug; got != fixtureSlug {
		t.Fatalf("fixture slug = %q, want %q", got, fixtureSlug)
	}
	w.comment = mustREST[restComment](t, w.server, w.actors["alice"], "POST", "/api/articles/"+fixtureSlug+"/comments", `{"comment":{"body":"First!"}}`, http.StatusOK).Comment.ID
	return w
}

// fill replaces the placeholders of a mistake's request.
func (w *world) fill(s string) string {
	return strings.NewReplacer("{comment}", strconv.FormatInt(w.comment, 10), "{commentID}", globalCommentID(w.comment)).Replace(s)
}

// mistake makes m on both surfaces and checks both answers.
func (w *world) mistake(t *testing.T, op operation, m mistake) {
	as, ok := w.actors[m.as]
	if m.as != "" && !ok {
		t.Fatalf("no actor %q", m.as)
	}
	method, path, _ := strings.Cut(w.fill(m.rest), " ")
	res := w.rest(t, as, method, path, w.fill(m.body))
	if res.status != m.want.status {
		t.Errorf("REST status = %d, want %d; body: %s", res.status, m.want.status, res.body)
	}
	if m.want.errors != nil {
		var got struct{ Errors map[string][]string }
		mustDecode(t, res.body, &got)
		agree(t, "REST errors", got.Errors, m.want.errors)
	}

	var vars any
	if m.vars != "" {
		vars = json.RawMessage(w.fill(m.vars))
	}
	g := w.graphql(t, as, op.graphql, vars)
	want := m.want.gql
	if want.code != "" {
		if len(g.Errors) != 1 || g.Errors[0].Extensions.Code != want.code || g.Errors[0].Message != want.message {
			t.Fatalf("GraphQL errors = %+v, want one %s error %q", g.Errors, want.code, want.message)
		}
		return
	}
	if len(g.Errors) > 0 {
		t.Fatalf("GraphQL errors = %+v, want none", g.Errors)
	}
	field := rootField(t, g.Data)
	switch {
	case want.null:
		if string(field) != "null" {
			t.Errorf("GraphQL answer = %s, want null", field)
		}
	case want.userError != nil:
		var p struct{ UserErrors []userError }
		mustDecode(t, field, &p)
		agree(t, "userErrors", p.UserErrors, []userError{*want.userError})
	}
}
