package legacy

import "github.com/conduit-dev/conduit/conduit"

// The wire shapes of the old API. Keys are never omitted: bio and image are
// null when unset, tagList is [] when empty.

type userJSON struct {
	Email    string  `json:"email"`
	Token    string  `json:"token"`
	Username string  `json:"username"`
	Bio      *string `json:"bio"`
	Image    *string `json:"image"`
}

func newUser(s conduit.Session) userJSON {
	return userJSON{Email: s.User.Email, Token: s.Token, Username: s.User.Username, Bio: s.User.Bio, Image: s.User.Image}
}

type profileJSON struct {
	Username  string  `json:"username"`
	Bio       *string `json:"bio"`
	Image     *string `json:"image"`
	Following bool    `json:"following"`
}

func newProfile(p conduit.Profile) profileJSON {
	return profileJSON{Username: p.Username, Bio: p.Bio, Image: p.Image, Following: p.Following}
}

// articleJSON is an article on its own; listedArticleJSON is the same
// without the body, as lists show it.
type articleJSON struct {
	Slug           string      `json:"slug"`
	Title          string      `json:"title"`
	Description    string      `json:"description"`
	Body           string      `json:"body"`
	TagList        []string    `json:"tagList"`
	CreatedAt      timestamp   `json:"createdAt"`
	UpdatedAt      timestamp   `json:"updatedAt"`
	Favorited      bool        `json:"favorited"`
	FavoritesCount int         `json:"favoritesCount"`
	Author         profileJSON `json:"author"`
}

type listedArticleJSON struct {
	Slug           string      `json:"slug"`
	Title          string      `json:"title"`
	Description    string      `json:"description"`
	TagList        []string    `json:"tagList"`
	CreatedAt      timestamp   `json:"createdAt"`
	UpdatedAt      timestamp   `json:"updatedAt"`
	Favorited      bool        `json:"favorited"`
	FavoritesCount int         `json:"favoritesCount"`
	Author         profileJSON `json:"author"`
}

func tagList(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

func newArticle(a conduit.Article) articleJSON {
	return articleJSON{
		Slug: a.Slug, Title: a.Title, Description: a.Description, Body: a.Body,
		TagList: tagList(a.TagList), CreatedAt: timestamp(a.CreatedAt), UpdatedAt: timestamp(a.UpdatedAt),
		Favorited: a.Favorited, FavoritesCount: a.FavoritesCount, Author: newProfile(a.Author),
	}
}

func newListedArticles(page conduit.ArticlePage) articlesJSON {
	out := articlesJSON{Articles: make([]listedArticleJSON, len(page.Articles)), ArticlesCount: page.Total}
	for i, a := range page.Articles {
		out.Articles[i] = listedArticleJSON{
			Slug: a.Slug, Title: a.Title, Description: a.Description,
			TagList: tagList(a.TagList), CreatedAt: timestamp(a.CreatedAt), UpdatedAt: timestamp(a.UpdatedAt),
			Favorited: a.Favorited, FavoritesCount: a.FavoritesCount, Author: newProfile(a.Author),
		}
	}
	return out
}

type articlesJSON struct {
	Articles      []listedArticleJSON `json:"articles"`
	ArticlesCount int                 `json:"articlesCount"`
}

type commentJSON struct {
	ID        int64       `json:"id"`
	CreatedAt timestamp   `json:"createdAt"`
	UpdatedAt timestamp   `json:"updatedAt"`
	Body      string      `json:"body"`
	Author    profileJSON `json:"author"`
}

func newComment(c conduit.Comment) commentJSON {
	return commentJSON{ID: c.ID, CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt), Body: c.Body, Author: newProfile(c.Author)}
}

// The request and response bodies of the routes. They live here rather than
// inside their handlers because the route table names them too: the OpenAPI
// document (openapi.go) is reflected from these very types, so what it
// describes is what the handlers decode and encode.
//
// In a request, a field is required unless it is an optional[T] (a partial
// update) or tagged omitempty (a field that may be left out).

type loginRequest struct {
	User struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"user"`
}

type registerRequest struct {
	User struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"user"`
}

type updateUserRequest struct {
	User struct {
		Username optional[string]  `json:"username"`
		Email    optional[string]  `json:"email"`
		Password optional[string]  `json:"password"`
		Bio      optional[*string] `json:"bio"`
		Image    optional[*string] `json:"image"`
	} `json:"user"`
}

type createArticleRequest struct {
	Article struct {
		Title       string   `json:"title"`
		Description string   `json:"description"`
		Body        string   `json:"body"`
		TagList     []string `json:"tagList,omitempty"`
	} `json:"article"`
}

type updateArticleRequest struct {
	Article struct {
		Title       optional[string]   `json:"title"`
		Description optional[string]   `json:"description"`
		Body        optional[string]   `json:"body"`
		TagList     optional[[]string] `json:"tagList"`
	} `json:"article"`
}

type addCommentRequest struct {
	Comment struct {
		Body string `json:"body"`
	} `json:"comment"`
}

type userResponse struct {
	User userJSON `json:"user"`
}

type profileResponse struct {
	Profile profileJSON `json:"profile"`
}

type articleResponse struct {
	Article articleJSON `json:"article"`
}

type commentResponse struct {
	Comment commentJSON `json:"comment"`
}

type commentsResponse struct {
	Comments []commentJSON `json:"comments"`
}

type tagsResponse struct {
	Tags []string `json:"tags"`
}
