package parity_test

import (
	"testing"
)

// The shapes both surfaces are read into. The GraphQL documents select the
// fields the legacy JSON has, under the same names, so one Go type holds
// either answer and two answers compare as values.

type account struct {
	Username string  `json:"username"`
	Email    string  `json:"email"`
	Bio      *string `json:"bio"`
	Image    *string `json:"image"`
}

type profile struct {
	Username  string  `json:"username"`
	Bio       *string `json:"bio"`
	Image     *string `json:"image"`
	Following bool    `json:"following"`
}

// article is an article on its own page, or (with Body nil) in a list,
// where the legacy API leaves the body out.
type article struct {
	Slug           string   `json:"slug"`
	Title          string   `json:"title"`
	Description    string   `json:"description"`
	Body           *string  `json:"body,omitempty"`
	TagList        []string `json:"tagList"`
	CreatedAt      string   `json:"createdAt"`
	UpdatedAt      string   `json:"updatedAt"`
	Favorited      bool     `json:"favorited"`
	FavoritesCount int      `json:"favoritesCount"`
	Author         profile  `json:"author"`
}

// page is one page of a list of articles: the legacy articlesCount and
// the GraphQL totalCount are both Total.
type page struct {
	Articles []article
	Total    int
}

// comment is a comment with its legacy integer id.
type comment struct {
	ID        int64   `json:"id"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
	Body      string  `json:"body"`
	Author    profile `json:"author"`
}

// The legacy envelopes.

type restUser struct {
	User struct {
		account
		Token string `json:"token"`
	} `json:"user"`
}

type restProfile struct {
	Profile profile `json:"profile"`
}

type restArticle struct {
	Article article `json:"article"`
}

type restArticles struct {
	Articles      []article `json:"articles"`
	ArticlesCount int       `json:"articlesCount"`
}

func (l restArticles) page() page { return page{Articles: l.Articles, Total: l.ArticlesCount} }

type restComment struct {
	Comment comment `json:"comment"`
}

type restComments struct {
	Comments []comment `json:"comments"`
}

type restTags struct {
	Tags []string `json:"tags"`
}

// The GraphQL answers (the root field's value).

type userError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

type sessionPayload struct {
	Token *string  `json:"token"`
	User  *account `json:"user"`
}

type profilePayload struct {
	Profile *profile `json:"profile"`
}

type articlePayload struct {
	Article *article `json:"article"`
}

type connection struct {
	TotalCount int `json:"totalCount"`
	PageInfo   struct {
		HasNextPage bool    `json:"hasNextPage"`
		EndCursor   *string `json:"endCursor"`
	} `json:"pageInfo"`
	Nodes []article `json:"nodes"`
}

func (c connection) page() page { return page{Articles: c.Nodes, Total: c.TotalCount} }

type gqlComment struct {
	ID        string  `json:"id"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
	Body      string  `json:"body"`
	Author    profile `json:"author"`
}

// legacy returns the comment as the legacy API shows it.
func (c gqlComment) legacy(tb testing.TB) comment {
	tb.Helper()
	return comment{ID: commentDBID(tb, c.ID), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Body: c.Body, Author: c.Author}
}

type commentsAnswer struct {
	Comments struct {
		TotalCount int `json:"totalCount"`
		PageInfo   struct {
			HasNextPage bool    `json:"hasNextPage"`
			EndCursor   *string `json:"endCursor"`
		} `json:"pageInfo"`
		Nodes []gqlComment `json:"nodes"`
	} `json:"comments"`
}

func (a commentsAnswer) legacy(tb testing.TB) []comment {
	tb.Helper()
	out := make([]comment, len(a.Comments.Nodes))
	for i, c := range a.Comments.Nodes {
		out[i] = c.legacy(tb)
	}
	return out
}

type commentPayload struct {
	Comment *gqlComment `json:"comment"`
}

// The GraphQL documents of the matrix. Each replaces one legacy call, is
// sent by the tests as it stands, and is printed in docs/migration.md.
const (
	registerDoc = `mutation Register($input: RegisterInput!) {
  register(input: $input) {
    token
    user { username email bio image }
    userErrors { field message code }
  }
}`
	loginDoc = `mutation Login($input: LoginInput!) {
  login(input: $input) {
    token
    user { username email bio image }
    userErrors { field message code }
  }
}`
	viewerDoc = `query Viewer {
  viewer { username email bio image }
}`
	updateViewerDoc = `mutation UpdateViewer($input: UpdateViewerInput!) {
  updateViewer(input: $input) {
    token
    user { username email bio image }
    userErrors { field message code }
  }
}`
	profileDoc = `query Profile($username: String!) {
  profile(username: $username) { username bio image following }
}`
	followProfileDoc = `mutation FollowProfile($input: FollowProfileInput!) {
  followProfile(input: $input) {
    profile { username bio image following }
    userErrors { field message code }
  }
}`
	unfollowProfileDoc = `mutation UnfollowProfile($input: UnfollowProfileInput!) {
  unfollowProfile(input: $input) {
    profile { username bio image following }
    userErrors { field message code }
  }
}`
	feedDoc = `query Feed($first: Int, $after: String) {
  feed(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      slug title description tagList createdAt updatedAt favorited favoritesCount
      author { username bio image following }
    }
  }
}`
	articlesDoc = `query Articles($first: Int, $after: String, $filter: ArticleFilter) {
  articles(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      slug title description tagList createdAt updatedAt favorited favoritesCount
      author { username bio image following }
    }
  }
}`
	createArticleDoc = `mutation CreateArticle($input: CreateArticleInput!) {
  createArticle(input: $input) {
    article {
      slug title description body tagList createdAt updatedAt favorited favoritesCount
      author { username bio image following }
    }
    userErrors { field message code }
  }
}`
	articleDoc = `query Article($slug: String!) {
  article(slug: $slug) {
    slug title description body tagList createdAt updatedAt favorited favoritesCount
    author { username bio image following }
  }
}`
	updateArticleDoc = `mutation UpdateArticle($input: UpdateArticleInput!) {
  updateArticle(input: $input) {
    article {
      slug title description body tagList createdAt updatedAt favorited favoritesCount
      author { username bio image following }
    }
    userErrors { field message code }
  }
}`
	deleteArticleDoc = `mutation DeleteArticle($input: DeleteArticleInput!) {
  deleteArticle(input: $input) {
    deletedArticleId
    userErrors { field message code }
  }
}`
	commentsDoc = `query Comments($slug: String!, $first: Int, $after: String) {
  article(slug: $slug) {
    comments(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id createdAt updatedAt body author { username bio image following } }
    }
  }
}`
	addCommentDoc = `mutation AddComment($input: AddCommentInput!) {
  addComment(input: $input) {
    comment { id createdAt updatedAt body author { username bio image following } }
    userErrors { field message code }
  }
}`
	deleteCommentDoc = `mutation DeleteComment($input: DeleteCommentInput!) {
  deleteComment(input: $input) {
    deletedCommentId
    userErrors { field message code }
  }
}`
	favoriteArticleDoc = `mutation FavoriteArticle($input: FavoriteArticleInput!) {
  favoriteArticle(input: $input) {
    article {
      slug title description body tagList createdAt updatedAt favorited favoritesCount
      author { username bio image following }
    }
    userErrors { field message code }
  }
}`
	unfavoriteArticleDoc = `mutation UnfavoriteArticle($input: UnfavoriteArticleInput!) {
  unfavoriteArticle(input: $input) {
    article {
      slug title description body tagList createdAt updatedAt favorited favoritesCount
      author { username bio image following }
    }
    userErrors { field message code }
  }
}`
	tagsDoc = `query Tags {
  tags
}`
)

// articleIDDoc reads an article's global id, which the legacy API never shows.
const articleIDDoc = `query ArticleID($slug: String!) { article(slug: $slug) { id } }`

// nodeDoc finds anything by its global id.
const nodeDoc = `query Node($id: ID!) { node(id: $id) { id } }`
