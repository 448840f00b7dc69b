package legacy

import (
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/conduit-dev/conduit/conduit"
)

// What the OpenAPI document says about each route of the table in
// routes.go. The schemas come from the wire types; this file holds the
// prose, the examples and the ways each route fails.

// The tags that group the operations, in the order the document lists them.
var docTags = []struct{ name, description string }{
	{"User and Authentication", "Sign up, sign in, and the signed-in user's own account."},
	{"Profiles", "Other users' public profiles, and following them."},
	{"Articles", "Articles, the list of all of them, and the signed-in user's feed."},
	{"Comments", "Comments on an article."},
	{"Favorites", "Marking an article as a favorite."},
	{"Tags", "The tags in use."},
}

// Samples for the examples, encoded by the same code as real answers.
var (
	sampleTime  = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	sampleBio   = "I work at statefarm"
	sampleImage = "https://api.realworld.io/images/smiley-cyrus.jpeg"
	// sampleToken has a JWT's shape; it signs nothing.
	sampleToken   = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwidmVyIjoxfQ.c2FtcGxlLW5vdC1hLXJlYWwtc2lnbmF0dXJl"
	sampleUser    = newUser(conduit.Session{User: conduit.User{Username: "jake", Email: "jake@jake.jake", Bio: &sampleBio}, Token: sampleToken})
	sampleProfile = newProfile(conduit.Profile{Username: "jake", Bio: &sampleBio, Image: &sampleImage, Following: true})
	sampleArticle = conduit.Article{
		Slug: "how-to-train-your-dragon", Title: "How to train your dragon", Description: "Ever wonder how?",
		Body: "It takes a Jacobian", TagList: []string{"dragons", "training"},
		CreatedAt: sampleTime, UpdatedAt: sampleTime.Add(90 * time.Minute),
		Favorited: false, FavoritesCount: 3,
		Author: conduit.Profile{Username: "jake", Bio: &sampleBio, Image: &sampleImage},
	}
	sampleComment = newComment(conduit.Comment{
		ID: 1, Body: "It takes a Jacobian", CreatedAt: sampleTime, UpdatedAt: sampleTime,
		Author: conduit.Profile{Username: "ann", Following: false},
	})
)

// fieldError is the error envelope with one message about a field.
func fieldError(field, message string) errorBody {
	return errorBody{Errors: map[string][]string{field: {message}}}
}

// pageQuery are the paging parameters of the lists.
var pageQuery = []parameter{
	{name: "limit", description: fmt.Sprintf("How many articles to return: %d unless given, at least 1; more than %d is taken as %d.",
		conduit.DefaultPageSize, conduit.MaxPageSize, conduit.MaxPageSize),
		schema: &schema{Type: "integer", Minimum: ptr(1), Default: conduit.DefaultPageSize}, example: 20},
	{name: "offset", description: "How many of the matching articles to skip, newest first: 0 unless given.",
		schema: &schema{Type: "integer", Minimum: ptr(0), Default: 0}, example: 0},
}

// invalidPage is how the lists refuse a bad paging parameter.
var invalidPage = failure{http.StatusUnprocessableEntity,
	"`limit` or `offset` is not an integer, `limit` is below 1, or `offset` is negative; the message is filed under the parameter.",
	fieldError("limit", "must be at least 1")}

// notFound is the failure of a route whose path names nothing: thing is
// what the message says was not found, when says when.
func notFound(thing, when string) failure {
	return failure{http.StatusNotFound, when, general(thing + " not found")}
}

const (
	noUser    = "No user has the username."
	noArticle = "No article has the slug."
)

var (
	opLogin = operation{
		id: "login", tag: "User and Authentication", summary: "Sign in",
		description: "Signs in with an email and a password and returns the user with a fresh token. " +
			"Send the token as `Authorization: Token <jwt>` (or `Bearer <jwt>`). " +
			"Sign-ins are rate limited per client address and per account (429).",
		auth: Public, graphql: "Mutation.login",
		request: reflect.TypeFor[loginRequest](), requestExample: `{"user":{"email":"jake@jake.jake","password":"jakejake"}}`,
		status: http.StatusOK, response: userResponse{User: sampleUser}, noStore: true, rateLimited: true,
		failures: []failure{
			{http.StatusUnauthorized, "The email and password match no account: the same answer whichever was wrong.",
				fieldError("email or password", "is invalid")},
			{http.StatusUnprocessableEntity, "The email or the password is blank.", fieldError("password", "can't be blank")},
		},
	}
	opRegister = operation{
		id: "register", tag: "User and Authentication", summary: "Sign up",
		description: "Creates an account and signs it in. Usernames are unique whatever their case or Unicode form " +
			"(`alice`, `ALICE` and fullwidth `ａｌｉｃｅ` are one name), emails whatever their case. " +
			"Sign-ups are rate limited per client address (429).",
		auth: Public, graphql: "Mutation.register",
		request:        reflect.TypeFor[registerRequest](),
		requestExample: `{"user":{"username":"jake","email":"jake@jake.jake","password":"jakejake"}}`,
		status:         http.StatusCreated, response: userResponse{User: sampleUser}, noStore: true, rateLimited: true,
		failures: []failure{
			{http.StatusUnprocessableEntity, "A field is blank, malformed, too short or too long, or the username or email belongs to someone else (each taken field is named).",
				fieldError("email", "has already been taken")},
		},
	}
	opCurrentUser = operation{
		id: "getCurrentUser", tag: "User and Authentication", summary: "The signed-in user",
		description: "Returns the signed-in user with a fresh token.",
		auth:        Required, graphql: "Query.viewer",
		status: http.StatusOK, response: userResponse{User: sampleUser}, noStore: true,
	}
	opUpdateUser = operation{
		id: "updateCurrentUser", tag: "User and Authentication", summary: "Update the signed-in user",
		description: "Changes the fields given and returns the user with a fresh token. A field left out stays as it is; " +
			"so does `username`, `email` or `password` sent empty (settings forms send an empty password when it is left alone). " +
			"`bio` or `image` sent as `null` or `\"\"` is cleared. A new password revokes every token issued before it: " +
			"use the one in the answer.",
		auth: Required, graphql: "Mutation.updateViewer",
		request: reflect.TypeFor[updateUserRequest](), requestExample: `{"user":{"bio":"I like to skateboard","image":null}}`,
		status: http.StatusOK, response: userResponse{User: sampleUser}, noStore: true,
		failures: []failure{
			{http.StatusUnprocessableEntity, "A field is malformed, too short or too long, or the new username or email belongs to someone else.",
				fieldError("username", "has already been taken")},
		},
	}

	opProfile = operation{
		id: "getProfile", tag: "Profiles", summary: "A user's profile",
		description: "Returns the profile of the user with the username; `following` says whether the caller follows them (false for anonymous callers).",
		auth:        Optional, graphql: "Query.profile",
		status: http.StatusOK, response: profileResponse{Profile: sampleProfile},
		failures: []failure{notFound("profile", noUser)},
	}
	opFollow = operation{
		id: "followUser", tag: "Profiles", summary: "Follow a user",
		description: "Makes the caller follow the user; following twice is not an error. Any request body is ignored.",
		auth:        Required, graphql: "Mutation.followProfile",
		status: http.StatusOK, response: profileResponse{Profile: sampleProfile},
		failures: []failure{
			notFound("profile", noUser),
			{http.StatusUnprocessableEntity, "The caller named themself.", fieldError("username", "cannot follow yourself")},
		},
	}
	opUnfollow = operation{
		id: "unfollowUser", tag: "Profiles", summary: "Stop following a user",
		description: "Makes the caller stop following the user; unfollowing twice is not an error.",
		auth:        Required, graphql: "Mutation.unfollowProfile",
		status: http.StatusOK, response: profileResponse{Profile: withFollowing(sampleProfile, false)},
		failures: []failure{notFound("profile", noUser)},
	}

	opFeed = operation{
		id: "getArticlesFeed", tag: "Articles", summary: "The signed-in user's feed",
		description: "Returns a page of the articles by the users the caller follows, newest first. " +
			"Items carry no `body`; `articlesCount` counts every match, before `limit` and `offset`.",
		auth: Required, graphql: "Query.feed", query: pageQuery,
		status: http.StatusOK, response: newListedArticles(conduit.ArticlePage{Articles: []conduit.Article{sampleArticle}, Total: 1}),
		failures: []failure{invalidPage},
	}
	opArticles = operation{
		id: "getArticles", tag: "Articles", summary: "List articles",
		description: "Returns a page of every article, newest first, filtered by tag, author and the user who favorited them " +
			"(the filters combine with AND; an unknown name gives an empty list). " +
			"Items carry no `body`; `articlesCount` counts every match, before `limit` and `offset`.",
		auth: Optional, graphql: "Query.articles",
		query: append([]parameter{
			{name: "tag", description: "Only articles with this tag.", schema: &schema{Type: "string"}, example: "dragons"},
			{name: "author", description: "Only articles by the user with this username.", schema: &schema{Type: "string"}, example: "jake"},
			{name: "favorited", description: "Only articles that the user with this username favorited.", schema: &schema{Type: "string"}, example: "ann"},
		}, pageQuery...),
		status:   http.StatusOK,
		response: newListedArticles(conduit.ArticlePage{Articles: []conduit.Article{sampleArticle}, Total: 1}),
		failures: []failure{
			{http.StatusUnprocessableEntity, invalidPage.when + " Also a filter that is not valid UTF-8 or holds NUL.", invalidPage.example},
		},
	}
	opCreateArticle = operation{
		id: "createArticle", tag: "Articles", summary: "Publish an article",
		description: "Publishes an article by the caller. The slug derives from the title and is unique: a clash gets a short suffix, never an error. " +
			"Tags are trimmed, de-duplicated, sorted, and empty ones dropped.",
		auth: Required, graphql: "Mutation.createArticle",
		request:        reflect.TypeFor[createArticleRequest](),
		requestExample: `{"article":{"title":"How to train your dragon","description":"Ever wonder how?","body":"It takes a Jacobian","tagList":["dragons","training"]}}`,
		status:         http.StatusCreated, response: articleResponse{Article: newArticle(sampleArticle)},
		failures: []failure{
			{http.StatusUnprocessableEntity, "A field is blank or too long, or there are too many tags.", fieldError("title", "can't be blank")},
		},
	}
	opArticle = operation{
		id: "getArticle", tag: "Articles", summary: "An article",
		description: "Returns the article with the slug, body included.",
		auth:        Optional, graphql: "Query.article",
		status: http.StatusOK, response: articleResponse{Article: newArticle(sampleArticle)},
		failures: []failure{notFound("article", noArticle)},
	}
	opUpdateArticle = operation{
		id: "updateArticle", tag: "Articles", summary: "Edit an article",
		description: "Changes the fields given; the others stay as they are. A new title moves the slug: read the new one from the answer. " +
			"`tagList` replaces the tags (`null` or `[]` removes them all). Only the author may edit.",
		auth: AuthorOnly, graphql: "Mutation.updateArticle",
		request: reflect.TypeFor[updateArticleRequest](), requestExample: `{"article":{"title":"Did you train your dragon?"}}`,
		status: http.StatusOK, response: articleResponse{Article: newArticle(sampleArticle)},
		failures: []failure{
			notFound("article", noArticle),
			{http.StatusUnprocessableEntity, "A field is blank or too long, or there are too many tags.", fieldError("title", "can't be blank")},
		},
	}
	opDeleteArticle = operation{
		id: "deleteArticle", tag: "Articles", summary: "Delete an article",
		description: "Deletes the article, its comments and favorites. Only the author may delete it.",
		auth:        AuthorOnly, graphql: "Mutation.deleteArticle",
		status:   http.StatusNoContent,
		failures: []failure{notFound("article", noArticle)},
	}

	opComments = operation{
		id: "getArticleComments", tag: "Comments", summary: "An article's comments",
		description: "Returns every comment on the article, newest first.",
		auth:        Optional, graphql: "Article.comments",
		status: http.StatusOK, response: commentsResponse{Comments: []commentJSON{sampleComment}},
		failures: []failure{notFound("article", noArticle)},
	}
	opAddComment = operation{
		id: "createArticleComment", tag: "Comments", summary: "Comment on an article",
		description: "Adds the caller's comment to the article. The answer is 200, not 201, as the old server had it.",
		auth:        Required, graphql: "Mutation.addComment",
		request: reflect.TypeFor[addCommentRequest](), requestExample: `{"comment":{"body":"Thank you so much!"}}`,
		status: http.StatusOK, response: commentResponse{Comment: sampleComment},
		failures: []failure{
			notFound("article", noArticle),
			{http.StatusUnprocessableEntity, "The comment is blank or too long.", fieldError("body", "can't be blank")},
		},
	}
	opDeleteComment = operation{
		id: "deleteArticleComment", tag: "Comments", summary: "Delete a comment",
		description: "Deletes the comment. Only its author may delete it.",
		auth:        CommentAuthorOnly, graphql: "Mutation.deleteComment",
		status: http.StatusNoContent,
		failures: []failure{
			notFound("article", noArticle),
			{http.StatusNotFound, "No comment on the article has the id (an id that is not a positive integer included).", general("comment not found")},
		},
	}

	opFavorite = operation{
		id: "createArticleFavorite", tag: "Favorites", summary: "Favorite an article",
		description: "Marks the article as a favorite of the caller; doing it twice is not an error.",
		auth:        Required, graphql: "Mutation.favoriteArticle",
		status: http.StatusOK, response: articleResponse{Article: withFavorite(newArticle(sampleArticle), true)},
		failures: []failure{notFound("article", noArticle)},
	}
	opUnfavorite = operation{
		id: "deleteArticleFavorite", tag: "Favorites", summary: "Unfavorite an article",
		description: "Removes the article from the caller's favorites; doing it twice is not an error.",
		auth:        Required, graphql: "Mutation.unfavoriteArticle",
		status: http.StatusOK, response: articleResponse{Article: newArticle(sampleArticle)},
		failures: []failure{notFound("article", noArticle)},
	}

	opTags = operation{
		id: "getTags", tag: "Tags", summary: "The tags in use",
		description: "Returns every tag in use, most used first, ties in alphabetical order. A token is not looked at.",
		auth:        Public, graphql: "Query.tags",
		status: http.StatusOK, response: tagsResponse{Tags: []string{"dragons", "training"}},
	}
)

func withFollowing(p profileJSON, following bool) profileJSON {
	p.Following = following
	return p
}

func withFavorite(a articleJSON, favorited bool) articleJSON {
	if favorited != a.Favorited {
		a.Favorited = favorited
		if favorited {
			a.FavoritesCount++
		} else {
			a.FavoritesCount--
		}
	}
	return a
}

func ptr[T any](v T) *T { return &v }
