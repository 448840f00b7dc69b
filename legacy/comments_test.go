package legacy_test

import (
	"fmt"
	"net/http"
	"testing"
)

func TestAddComment(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	a.mustCreate(jane, "Post")
	t.Run("OK", func(t *testing.T) {
		a.do("POST", "/api/articles/post/comments", jane, `{"comment":{"body":"Thank you so much!"}}`).
			expect(t, 200, `{"comment":{"id":1,"createdAt":"<time>","updatedAt":"<time>","body":"Thank you so much!","author":{"username":"jane","bio":null,"image":null,"following":false}}}`)
	})
	t.Run("ErrBlank", func(t *testing.T) {
		a.do("POST", "/api/articles/post/comments", jane, `{"comment":{"body":""}}`).expect(t, 422, `{"errors":{"body":["can't be blank"]}}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a.do("POST", "/api/articles/nope/comments", jane, `{"comment":{"body":"x"}}`).expect(t, 404, `{"errors":{"body":["article not found"]}}`)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("POST", "/api/articles/post/comments", "", `{"comment":{"body":"x"}}`).expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
}

func TestComments(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	a.mustCreate(jane, "Post")
	t.Run("Empty", func(t *testing.T) {
		a.do("GET", "/api/articles/post/comments", "", "").expect(t, 200, `{"comments":[]}`)
	})
	a.mustDo("POST", "/api/articles/post/comments", jane, `{"comment":{"body":"first"}}`, 200)
	a.mustDo("POST", "/api/articles/post/comments", john, `{"comment":{"body":"second"}}`, 200)
	a.mustDo("POST", "/api/profiles/john/follow", jane, "", 200)
	t.Run("OK", func(t *testing.T) {
		a.do("GET", "/api/articles/post/comments", jane, "").expect(t, 200, `{"comments":[`+
			`{"id":2,"createdAt":"<time>","updatedAt":"<time>","body":"second","author":{"username":"john","bio":null,"image":null,"following":true}},`+
			`{"id":1,"createdAt":"<time>","updatedAt":"<time>","body":"first","author":{"username":"jane","bio":null,"image":null,"following":false}}]}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a.do("GET", "/api/articles/nope/comments", "", "").expect(t, 404, `{"errors":{"body":["article not found"]}}`)
	})
}

func TestDeleteComment(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	a.mustCreate(jane, "Post")
	a.mustCreate(jane, "Other")
	a.mustDo("POST", "/api/articles/post/comments", john, `{"comment":{"body":"by john"}}`, 200)
	path := "/api/articles/post/comments/1"
	t.Run("ErrForbidden", func(t *testing.T) {
		a.do("DELETE", path, jane, "").expect(t, 403, `{"errors":{"body":["forbidden"]}}`)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		a.do("DELETE", path, "", "").expect(t, 401, `{"errors":{"body":["authentication required"]}}`)
	})
	t.Run("ErrOtherArticle", func(t *testing.T) {
		a.do("DELETE", "/api/articles/other/comments/1", john, "").expect(t, 404, `{"errors":{"body":["comment not found"]}}`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, id := range []string{"999", "abc", "-1"} {
			a.do("DELETE", "/api/articles/post/comments/"+id, john, "").expect(t, 404, `{"errors":{"body":["comment not found"]}}`)
		}
		a.do("DELETE", "/api/articles/nope/comments/1", john, "").expect(t, 404, `{"errors":{"body":["article not found"]}}`)
	})
	t.Run("OK", func(t *testing.T) {
		r := a.do("DELETE", path, john, "")
		if r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("status %d body %q, want 204 and no body", r.status, r.body)
		}
		a.do("GET", "/api/articles/post/comments", "", "").expect(t, 200, `{"comments":[]}`)
		a.do("DELETE", path, john, "").expect(t, 404, `{"errors":{"body":["comment not found"]}}`)
	})
}

// TestConstantStatements proves that a page costs the same number of SQL
// statements whatever its size, anonymous or signed in.
func TestConstantStatements(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	a.mustDo("POST", "/api/profiles/jane/follow", john, "", 200)
	for i := range 60 {
		a.mustCreate(jane, fmt.Sprintf("Article %d", i), "t1", fmt.Sprintf("t%d", i%4))
		if i%2 == 0 {
			a.mustDo("POST", fmt.Sprintf("/api/articles/article-%d/favorite", i), john, "", 200)
		}
		a.mustDo("POST", fmt.Sprintf("/api/articles/article-%d/comments", i%3), john, `{"comment":{"body":"c"}}`, 200)
	}
	count := func(path, token string) int64 {
		before := a.store.Statements()
		a.mustDo("GET", path, token, "", 200)
		return a.store.Statements() - before
	}
	for _, tc := range []struct{ name, small, large, token string }{
		{"ListAnonymous", "/api/articles?limit=1", "/api/articles?limit=50", ""},
		{"ListSignedIn", "/api/articles?limit=1", "/api/articles?limit=50", john},
		{"ListFiltered", "/api/articles?limit=1&tag=t1&favorited=john", "/api/articles?limit=50&tag=t1&favorited=john", john},
		{"Feed", "/api/articles/feed?limit=1", "/api/articles/feed?limit=50", john},
		{"Comments", "/api/articles/article-2/comments", "/api/articles/article-0/comments", john},
	} {
		t.Run(tc.name, func(t *testing.T) {
			small, large := count(tc.small, tc.token), count(tc.large, tc.token)
			t.Logf("statements per request: %d (small page), %d (large page)", small, large)
			if small != large {
				t.Fatalf("statements: %d for the small page, %d for the large one; want equal", small, large)
			}
			if large > 2 {
				t.Errorf("statements per page = %d, want at most 2", large)
			}
		})
	}
}
