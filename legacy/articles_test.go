package legacy_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCreateArticle(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	t.Run("OK", func(t *testing.T) {
		a.do("POST", "/api/articles", jane, `{"article":{"title":"How to train your dragon","description":"Ever wonder how?","body":"You have to believe","tagList":["reactjs"," angularjs ","dragons","","reactjs"]}}`).
			expect(t, http.StatusCreated, `{"article":{"slug":"how-to-train-your-dragon","title":"How to train your dragon","description":"Ever wonder how?","body":"You have to believe","tagList":["angularjs","dragons","reactjs"],"createdAt":"<time>","updatedAt":"<time>","favorited":false,"favoritesCount":0,"author":{"username":"jane","bio":null,"image":null,"following":false}}}`)
	})
	t.Run("NoTags", func(t *testing.T) {
		r := a.mustDo("POST", "/api/articles", jane, `{"article":{"title":"Crème brûlée, à la française!","description":"d","body":"b"}}`, http.StatusCreated)
		got := decodeInto[struct{ Article articleBody }](t, r).Article
		if got.Slug != "creme-brulee-a-la-francaise" || got.TagList == nil || len(got.TagList) != 0 {
			t.Fatalf("slug = %q, tagList = %#v; want creme-brulee-a-la-francaise and []", got.Slug, got.TagList)
		}
	})
	t.Run("SlugClashGetsSuffix", func(t *testing.T) {
		john := a.mustRegister("john")
		slug := a.mustCreate(john, "How to train your dragon")
		if !regexp.MustCompile(`^how-to-train-your-dragon-[a-z0-9]{6}$`).MatchString(slug) {
			t.Fatalf("slug = %q, want how-to-train-your-dragon-<suffix>", slug)
		}
	})
	t.Run("ErrBlank", func(t *testing.T) {
		a.do("POST", "/api/articles", jane, `{"article":{"title":"","body":"  "}}`).
			expect(t, 422, `{"errors":{"body":["can't be blank"],"description":["can't be blank"],"title":["can't be blank"]}}`)
	})
	t.Run("ErrWrongType", func(t *testing.T) {
		a.do("POST", "/api/articles", jane, `{"article":{"title":"t","description":"d","body":"b","tagList":"go"}}`).
			expect(t, 422, `{"errors":{"tagList":["must be an array of strings"]}}`)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("POST", "/api/articles", "", `{"article":{"title":"t","description":"d","body":"b"}}`).
			expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
}

func TestGetArticle(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	slug := a.mustCreate(jane, "Hello", "b", "a")
	a.mustDo("POST", "/api/articles/"+slug+"/favorite", john, "", 200)
	a.mustDo("POST", "/api/profiles/jane/follow", john, "", 200)
	t.Run("OK", func(t *testing.T) {
		a.do("GET", "/api/articles/hello", "", "").
			expect(t, 200, `{"article":{"slug":"hello","title":"Hello","description":"about Hello","body":"all of Hello","tagList":["a","b"],"createdAt":"<time>","updatedAt":"<time>","favorited":false,"favoritesCount":1,"author":{"username":"jane","bio":null,"image":null,"following":false}}}`)
		a.do("GET", "/api/articles/hello", john, "").
			expect(t, 200, `{"article":{"slug":"hello","title":"Hello","description":"about Hello","body":"all of Hello","tagList":["a","b"],"createdAt":"<time>","updatedAt":"<time>","favorited":true,"favoritesCount":1,"author":{"username":"jane","bio":null,"image":null,"following":true}}}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a.do("GET", "/api/articles/nope", "", "").expect(t, 404, `{"errors":{"body":["article not found"]}}`)
	})
}

func TestUpdateArticle(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	slug := a.mustCreate(jane, "First title", "x")
	before := decodeInto[struct{ Article articleBody }](t, a.mustDo("GET", "/api/articles/"+slug, "", "", 200)).Article
	time.Sleep(5 * time.Millisecond) // so that updatedAt can move
	t.Run("OK", func(t *testing.T) {
		r := a.do("PUT", "/api/articles/first-title", jane, `{"article":{"title":"Second title","body":"new body"}}`)
		r.expect(t, 200, `{"article":{"slug":"second-title","title":"Second title","description":"about First title","body":"new body","tagList":["x"],"createdAt":"<time>","updatedAt":"<time>","favorited":false,"favoritesCount":0,"author":{"username":"jane","bio":null,"image":null,"following":false}}}`)
		after := decodeInto[struct{ Article articleBody }](t, r).Article
		if after.CreatedAt != before.CreatedAt || after.UpdatedAt <= before.UpdatedAt {
			t.Fatalf("createdAt %s -> %s, updatedAt %s -> %s: want createdAt kept and updatedAt moved", before.CreatedAt, after.CreatedAt, before.UpdatedAt, after.UpdatedAt)
		}
		a.mustDo("GET", "/api/articles/first-title", "", "", 404)
		a.mustDo("GET", "/api/articles/second-title", "", "", 200)
	})
	t.Run("OnlyDescription", func(t *testing.T) {
		a.do("PUT", "/api/articles/second-title", jane, `{"article":{"description":"new description"}}`).
			expect(t, 200, `{"article":{"slug":"second-title","title":"Second title","description":"new description","body":"new body","tagList":["x"],"createdAt":"<time>","updatedAt":"<time>","favorited":false,"favoritesCount":0,"author":{"username":"jane","bio":null,"image":null,"following":false}}}`)
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		a.do("PUT", "/api/articles/second-title", john, `{"article":{"title":"Mine now"}}`).expect(t, 403, `{"errors":{"body":["forbidden"]}}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a.do("PUT", "/api/articles/nope", jane, `{"article":{"title":"x"}}`).expect(t, 404, `{"errors":{"body":["article not found"]}}`)
	})
	t.Run("ErrBlank", func(t *testing.T) {
		a.do("PUT", "/api/articles/second-title", jane, `{"article":{"title":" "}}`).expect(t, 422, `{"errors":{"title":["can't be blank"]}}`)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("PUT", "/api/articles/second-title", "", `{"article":{"title":"x"}}`).expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
}

func TestDeleteArticle(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	slug := a.mustCreate(jane, "Doomed", "gone")
	a.mustDo("POST", "/api/articles/"+slug+"/comments", john, `{"comment":{"body":"first"}}`, 200)
	a.mustDo("POST", "/api/articles/"+slug+"/favorite", john, "", 200)
	t.Run("ErrForbidden", func(t *testing.T) {
		a.do("DELETE", "/api/articles/doomed", john, "").expect(t, 403, `{"errors":{"body":["forbidden"]}}`)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("DELETE", "/api/articles/doomed", "", "").expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
	t.Run("OK", func(t *testing.T) {
		r := a.do("DELETE", "/api/articles/doomed", jane, "")
		if r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("status %d body %q, want 204 and no body", r.status, r.body)
		}
		a.do("GET", "/api/articles/doomed", "", "").expect(t, 404, `{"errors":{"body":["article not found"]}}`)
		a.do("GET", "/api/tags", "", "").expect(t, 200, `{"tags":[]}`)
		a.do("GET", "/api/articles?favorited=john", "", "").expect(t, 200, `{"articles":[],"articlesCount":0}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a.do("DELETE", "/api/articles/doomed", jane, "").expect(t, 404, `{"errors":{"body":["article not found"]}}`)
	})
}

// listed returns the slugs of a list response and checks that no item has a body.
func listed(t *testing.T, r response) ([]string, int) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), `"body"`) {
		t.Fatalf("list items carry a body: %s", r.body)
	}
	got := decodeInto[struct {
		Articles      []articleBody
		ArticlesCount int
	}](t, r)
	slugs := []string{}
	for _, a := range got.Articles {
		slugs = append(slugs, a.Slug)
	}
	return slugs, got.ArticlesCount
}

func TestListArticles(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	a.mustCreate(jane, "One", "go", "db")
	a.mustCreate(john, "Two", "go")
	a.mustCreate(jane, "Three", "rust")
	a.mustDo("POST", "/api/articles/one/favorite", john, "", 200)
	a.mustDo("POST", "/api/articles/two/favorite", john, "", 200)
	a.mustDo("POST", "/api/articles/two/favorite", jane, "", 200)

	t.Run("Shape", func(t *testing.T) {
		a.do("GET", "/api/articles?author=john", jane, "").
			expect(t, 200, `{"articles":[{"slug":"two","title":"Two","description":"about Two","tagList":["go"],"createdAt":"<time>","updatedAt":"<time>","favorited":true,"favoritesCount":2,"author":{"username":"john","bio":null,"image":null,"following":false}}],"articlesCount":1}`)
	})
	tests := []struct {
		name, query string
		want        []string
		count       int
	}{
		{"NewestFirst", "", []string{"three", "two", "one"}, 3},
		{"Tag", "?tag=go", []string{"two", "one"}, 2},
		{"Author", "?author=jane", []string{"three", "one"}, 2},
		{"Favorited", "?favorited=john", []string{"two", "one"}, 2},
		{"FiltersCombine", "?favorited=john&author=jane&tag=go", []string{"one"}, 1},
		{"UnknownTag", "?tag=cobol", []string{}, 0},
		{"UnknownAuthor", "?author=nobody", []string{}, 0},
		{"UnknownFavoriter", "?favorited=nobody", []string{}, 0},
		{"Limit", "?limit=2", []string{"three", "two"}, 3},
		{"Offset", "?limit=2&offset=2", []string{"one"}, 3},
		{"OffsetPastEnd", "?offset=10", []string{}, 3},
		{"TrailingSlash", "/?tag=rust", []string{"three"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slugs, count := listed(t, a.do("GET", "/api/articles"+tt.query, "", ""))
			if fmt.Sprint(slugs) != fmt.Sprint(tt.want) || count != tt.count {
				t.Fatalf("slugs = %v (count %d), want %v (count %d)", slugs, count, tt.want, tt.count)
			}
		})
	}
	t.Run("ErrBadPage", func(t *testing.T) {
		a.do("GET", "/api/articles?limit=abc", "", "").expect(t, 422, `{"errors":{"limit":["must be an integer"]}}`)
		a.do("GET", "/api/articles?limit=0", "", "").expect(t, 422, `{"errors":{"limit":["must be at least 1"]}}`)
		a.do("GET", "/api/articles?offset=-1", "", "").expect(t, 422, `{"errors":{"offset":["must not be negative"]}}`)
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		a.do("GET", "/api/articles", "bad", "").expect(t, 401, `{"errors":{"token":["invalid token"]}}`)
	})
	t.Run("LimitCappedAt100", func(t *testing.T) {
		for i := range 100 {
			a.mustCreate(john, fmt.Sprintf("Bulk %d", i))
		}
		slugs, count := listed(t, a.do("GET", "/api/articles?limit=500", "", ""))
		if len(slugs) != 100 || count != 103 {
			t.Fatalf("got %d articles of %d, want 100 of 103", len(slugs), count)
		}
	})
}

func TestFeed(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	a.mustRegister("joan")
	a.mustCreate(john, "By John")
	t.Run("Empty", func(t *testing.T) {
		a.do("GET", "/api/articles/feed", jane, "").expect(t, 200, `{"articles":[],"articlesCount":0}`)
	})
	t.Run("OK", func(t *testing.T) {
		a.mustDo("POST", "/api/profiles/john/follow", jane, "", 200)
		a.mustCreate(john, "Also by John", "news")
		joan := a.do("POST", "/api/users/login", "", `{"user":{"email":"joan@example.com","password":"password1"}}`)
		a.mustCreate(decodeInto[struct{ User struct{ Token string } }](t, joan).User.Token, "By Joan")
		a.do("GET", "/api/articles/feed?limit=1", jane, "").
			expect(t, 200, `{"articles":[{"slug":"also-by-john","title":"Also by John","description":"about Also by John","tagList":["news"],"createdAt":"<time>","updatedAt":"<time>","favorited":false,"favoritesCount":0,"author":{"username":"john","bio":null,"image":null,"following":true}}],"articlesCount":2}`)
		slugs, count := listed(t, a.do("GET", "/api/articles/feed/", jane, ""))
		if fmt.Sprint(slugs) != "[also-by-john by-john]" || count != 2 {
			t.Fatalf("feed = %v (%d), want [also-by-john by-john] (2)", slugs, count)
		}
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("GET", "/api/articles/feed", "", "").expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
	t.Run("ErrBadPage", func(t *testing.T) {
		a.do("GET", "/api/articles/feed?offset=x", jane, "").expect(t, 422, `{"errors":{"offset":["must be an integer"]}}`)
	})
}

func TestFavorite(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	a.mustCreate(jane, "Fav")
	want := `{"article":{"slug":"fav","title":"Fav","description":"about Fav","body":"all of Fav","tagList":[],"createdAt":"<time>","updatedAt":"<time>","favorited":true,"favoritesCount":1,"author":{"username":"jane","bio":null,"image":null,"following":false}}}`
	t.Run("OK", func(t *testing.T) {
		a.do("POST", "/api/articles/fav/favorite", john, "").expect(t, 200, want)
	})
	t.Run("Idempotent", func(t *testing.T) {
		a.do("POST", "/api/articles/fav/favorite", john, "").expect(t, 200, want)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a.do("POST", "/api/articles/nope/favorite", john, "").expect(t, 404, `{"errors":{"body":["article not found"]}}`)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("POST", "/api/articles/fav/favorite", "", "").expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
}

func TestUnfavorite(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	a.mustCreate(jane, "Fav")
	a.mustDo("POST", "/api/articles/fav/favorite", john, "", 200)
	want := `{"article":{"slug":"fav","title":"Fav","description":"about Fav","body":"all of Fav","tagList":[],"createdAt":"<time>","updatedAt":"<time>","favorited":false,"favoritesCount":0,"author":{"username":"jane","bio":null,"image":null,"following":false}}}`
	t.Run("OK", func(t *testing.T) {
		a.do("DELETE", "/api/articles/fav/favorite", john, "").expect(t, 200, want)
	})
	t.Run("Idempotent", func(t *testing.T) {
		a.do("DELETE", "/api/articles/fav/favorite", john, "").expect(t, 200, want)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a.do("DELETE", "/api/articles/nope/favorite", john, "").expect(t, 404, `{"errors":{"body":["article not found"]}}`)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("DELETE", "/api/articles/fav/favorite", "", "").expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
}

func TestTags(t *testing.T) {
	a := newAPI(t)
	t.Run("Empty", func(t *testing.T) {
		a.do("GET", "/api/tags", "", "").expect(t, 200, `{"tags":[]}`)
	})
	jane := a.mustRegister("jane")
	a.mustCreate(jane, "A", "go", "zig", "db")
	a.mustCreate(jane, "B", "go", "db")
	a.mustCreate(jane, "C", "go")
	t.Run("MostUsedFirst", func(t *testing.T) {
		a.do("GET", "/api/tags", "", "").expect(t, 200, `{"tags":["go","db","zig"]}`)
	})
	t.Run("IgnoresBadToken", func(t *testing.T) {
		a.do("GET", "/api/tags", "bad", "").expect(t, 200, `{"tags":["go","db","zig"]}`)
	})
}
