package legacy

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/conduit-dev/conduit/conduit"
)

// param returns the decoded path parameter.
func param(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// noStore keeps a response that carries a token out of every cache.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// handles "POST /api/users/login"
func handleLogin(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[loginRequest](r)
		if err != nil {
			ew.write(w, r, err)
			return
		}
		s, err := svc.Login(r.Context(), conduit.LoginInput{Email: req.User.Email, Password: req.User.Password})
		if err != nil {
			ew.write(w, r, err)
			return
		}
		noStore(w)
		encode(w, http.StatusOK, userResponse{User: newUser(s)})
	}
}

// handles "POST /api/users"
func handleRegister(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[registerRequest](r)
		if err != nil {
			ew.write(w, r, err)
			return
		}
		s, err := svc.Register(r.Context(), conduit.RegisterInput{
			Username: req.User.Username, Email: req.User.Email, Password: req.User.Password,
		})
		if err != nil {
			ew.write(w, r, err)
			return
		}
		noStore(w)
		encode(w, http.StatusCreated, userResponse{User: newUser(s)})
	}
}

// handles "GET /api/user"
func handleCurrentUser(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := svc.CurrentUser(r.Context())
		if err != nil {
			ew.write(w, r, err)
			return
		}
		noStore(w)
		encode(w, http.StatusOK, userResponse{User: newUser(s)})
	}
}

// handles "PUT /api/user"
func handleUpdateUser(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[updateUserRequest](r)
		if err != nil {
			ew.write(w, r, err)
			return
		}
		u := req.User
		s, err := svc.UpdateUser(r.Context(), conduit.UpdateUserInput{
			Username: u.Username.domain(), Email: u.Email.domain(), Password: u.Password.domain(),
			Bio: u.Bio.domain(), Image: u.Image.domain(),
		})
		if err != nil {
			ew.write(w, r, err)
			return
		}
		noStore(w)
		encode(w, http.StatusOK, userResponse{User: newUser(s)})
	}
}

// handleProfileAction makes the handler of a route that names a user and
// returns their profile: "GET /api/profiles/{username}"
// ((*conduit.Service).Profile), and "POST" and
// "DELETE /api/profiles/{username}/follow" (Follow, Unfollow; any body is
// ignored).
func handleProfileAction(action func(*conduit.Service, context.Context, string) (conduit.Profile, error)) handlerMaker {
	return func(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			p, err := action(svc, r.Context(), param(r, "username"))
			if err != nil {
				ew.write(w, r, err)
				return
			}
			encode(w, http.StatusOK, profileResponse{Profile: newProfile(p)})
		}
	}
}

// pageParams reads limit (default 20, at least 1) and offset (default 0,
// not negative) from the query string.
func pageParams(q url.Values) (conduit.Page, error) {
	p := conduit.Page{Limit: conduit.DefaultPageSize}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			return p, conduit.FieldError(conduit.Invalid, "limit", "must be an integer")
		case n < 1:
			return p, conduit.FieldError(conduit.Invalid, "limit", "must be at least 1")
		}
		p.Limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			return p, conduit.FieldError(conduit.Invalid, "offset", "must be an integer")
		case n < 0:
			return p, conduit.FieldError(conduit.Invalid, "offset", "must not be negative")
		}
		p.Offset = n
	}
	return p, nil
}

// handles "GET /api/articles/feed"
func handleFeed(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := pageParams(r.URL.Query())
		if err != nil {
			ew.write(w, r, err)
			return
		}
		page, err := svc.Feed(r.Context(), p)
		if err != nil {
			ew.write(w, r, err)
			return
		}
		encode(w, http.StatusOK, newListedArticles(page))
	}
}

// handles "GET /api/articles"
func handleArticles(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p, err := pageParams(q)
		if err != nil {
			ew.write(w, r, err)
			return
		}
		f := conduit.ArticleFilter{Tag: q.Get("tag"), Author: q.Get("author"), FavoritedBy: q.Get("favorited")}
		page, err := svc.Articles(r.Context(), f, p)
		if err != nil {
			ew.write(w, r, err)
			return
		}
		encode(w, http.StatusOK, newListedArticles(page))
	}
}

// handleArticleAction makes the handler of a route that names an article
// and returns it: "GET /api/articles/{slug}" ((*conduit.Service).Article),
// and "POST" and "DELETE /api/articles/{slug}/favorite" (Favorite,
// Unfavorite).
func handleArticleAction(action func(*conduit.Service, context.Context, string) (conduit.Article, error)) handlerMaker {
	return func(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			a, err := action(svc, r.Context(), param(r, "slug"))
			if err != nil {
				ew.write(w, r, err)
				return
			}
			encode(w, http.StatusOK, articleResponse{Article: newArticle(a)})
		}
	}
}

// handles "POST /api/articles"
func handleCreateArticle(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[createArticleRequest](r)
		if err != nil {
			ew.write(w, r, err)
			return
		}
		a := req.Article
		art, err := svc.CreateArticle(r.Context(), conduit.CreateArticleInput{
			Title: a.Title, Description: a.Description, Body: a.Body, TagList: a.TagList,
		})
		if err != nil {
			ew.write(w, r, err)
			return
		}
		encode(w, http.StatusCreated, articleResponse{Article: newArticle(art)})
	}
}

// handles "PUT /api/articles/{slug}"
func handleUpdateArticle(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[updateArticleRequest](r)
		if err != nil {
			ew.write(w, r, err)
			return
		}
		a := req.Article
		art, err := svc.UpdateArticle(r.Context(), param(r, "slug"), conduit.UpdateArticleInput{
			Title: a.Title.domain(), Description: a.Description.domain(), Body: a.Body.domain(), TagList: a.TagList.domain(),
		})
		if err != nil {
			ew.write(w, r, err)
			return
		}
		encode(w, http.StatusOK, articleResponse{Article: newArticle(art)})
	}
}

// handles "DELETE /api/articles/{slug}"
func handleDeleteArticle(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := svc.DeleteArticle(r.Context(), param(r, "slug")); err != nil {
			ew.write(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// handles "GET /api/articles/{slug}/comments"
func handleComments(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cs, err := svc.Comments(r.Context(), param(r, "slug"))
		if err != nil {
			ew.write(w, r, err)
			return
		}
		out := commentsResponse{Comments: make([]commentJSON, len(cs))}
		for i, c := range cs {
			out.Comments[i] = newComment(c)
		}
		encode(w, http.StatusOK, out)
	}
}

// handles "POST /api/articles/{slug}/comments"
func handleAddComment(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[addCommentRequest](r)
		if err != nil {
			ew.write(w, r, err)
			return
		}
		c, err := svc.AddComment(r.Context(), param(r, "slug"), req.Comment.Body)
		if err != nil {
			ew.write(w, r, err)
			return
		}
		encode(w, http.StatusOK, commentResponse{Comment: newComment(c)})
	}
}

// handles "DELETE /api/articles/{slug}/comments/{id}"
func handleDeleteComment(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(param(r, "id"), 10, 64)
		if err != nil || id <= 0 {
			// No comment can have such an id.
			ew.write(w, r, conduit.NotFoundError(conduit.ThingComment, nil))
			return
		}
		if err := svc.DeleteComment(r.Context(), param(r, "slug"), id); err != nil {
			ew.write(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// handles "GET /api/tags"
func handleTags(svc *conduit.Service, ew errorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tags, err := svc.Tags(r.Context())
		if err != nil {
			ew.write(w, r, err)
			return
		}
		if tags == nil {
			tags = []string{}
		}
		encode(w, http.StatusOK, tagsResponse{Tags: tags})
	}
}
