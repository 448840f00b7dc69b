package legacy_test

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var etagRE = regexp.MustCompile(`^"[A-Za-z0-9_-]{22}"$`)

// get sends a GET, with If-None-Match when inm is not empty.
func (a *api) get(path, token, inm string) response {
	a.t.Helper()
	var h http.Header
	if inm != "" {
		h = http.Header{"If-None-Match": {inm}}
	}
	return a.doWith("GET", path, token, "", h)
}

// mustTag GETs path and returns the answer's ETag, checking the headers of
// a tagged 200 on the way.
func (a *api) mustTag(t *testing.T, path, token string) string {
	t.Helper()
	r := a.get(path, token, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status = %d, want 200: %s", path, r.status, r.body)
	}
	checkRevalidation(t, r, token != "")
	return r.header.Get("ETag")
}

// checkRevalidation checks the headers every tagged answer carries.
func checkRevalidation(t *testing.T, r response, signedIn bool) {
	t.Helper()
	if tag := r.header.Get("ETag"); !etagRE.MatchString(tag) {
		t.Errorf("ETag = %q, want a quoted 22-character base64url tag", tag)
	}
	want := "no-cache"
	if signedIn {
		want = "private, no-cache"
	}
	if got := r.header.Values("Cache-Control"); len(got) != 1 || got[0] != want {
		t.Errorf("Cache-Control = %q, want %q", got, want)
	}
	if got := r.header.Values("Vary"); len(got) != 1 || got[0] != "Authorization" {
		t.Errorf("Vary = %q, want [Authorization]", got)
	}
}

// expectNotModified checks a 304: no body, no body headers, the tag.
func expectNotModified(t *testing.T, r response, tag string, signedIn bool) {
	t.Helper()
	if r.status != http.StatusNotModified {
		t.Fatalf("status = %d, want 304; body: %s", r.status, r.body)
	}
	if len(r.body) != 0 {
		t.Errorf("body = %q, want none", r.body)
	}
	for _, h := range []string{"Content-Type", "Content-Length"} {
		if v, ok := r.header[h]; ok {
			t.Errorf("%s = %q, want none on a 304", h, v)
		}
	}
	if r.header.Get("Date") == "" {
		t.Error("Date missing on a 304")
	}
	if got := r.header.Get("ETag"); got != tag {
		t.Errorf("ETag = %q, want %q", got, tag)
	}
	checkRevalidation(t, r, signedIn)
}

func TestConditionalGET(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	john := a.mustRegister("john")
	a.mustCreate(jane, "Post", "go")
	a.mustDo("POST", "/api/articles/post/comments", john, `{"comment":{"body":"first"}}`, 200)
	a.mustDo("POST", "/api/profiles/jane/follow", john, "", 200)

	routes := []struct {
		path      string
		anonymous bool
	}{
		{"/api/articles", true},
		{"/api/articles?tag=go&limit=5", true},
		{"/api/articles/feed", false},
		{"/api/articles/post", true},
		{"/api/articles/post/comments", true},
		{"/api/profiles/jane", true},
		{"/api/tags", true},
	}
	for _, rt := range routes {
		viewers := map[string]string{"SignedIn": john}
		if rt.anonymous {
			viewers["Anonymous"] = ""
		}
		for name, token := range viewers {
			t.Run(name+rt.path, func(t *testing.T) {
				first := a.get(rt.path, token, "")
				if first.status != http.StatusOK {
					t.Fatalf("status = %d, want 200: %s", first.status, first.body)
				}
				checkRevalidation(t, first, token != "")
				tag := first.header.Get("ETag")
				if again := a.get(rt.path, token, ""); again.header.Get("ETag") != tag {
					t.Fatalf("ETag = %q the second time, want %q again", again.header.Get("ETag"), tag)
				}
				weak := "W/" + tag
				for _, inm := range []string{tag, weak, "*", `"other", ` + tag, `W/"a,b", ` + weak + `, "c"`} {
					expectNotModified(t, a.get(rt.path, token, inm), tag, token != "")
				}
				for _, inm := range []string{`"other"`, `W/"other", "else"`, strings.Trim(tag, `"`), tag[:len(tag)-2] + `"`} {
					r := a.get(rt.path, token, inm)
					if r.status != http.StatusOK || !bytes.Equal(r.body, first.body) || r.header.Get("ETag") != tag {
						t.Errorf("If-None-Match %s: status %d, ETag %q, body %s; want 200, %q and the first body", inm, r.status, r.header.Get("ETag"), r.body, tag)
					}
				}
			})
		}
	}

	t.Run("ViewersNeverShareTags", func(t *testing.T) {
		for _, rt := range routes {
			if !rt.anonymous {
				continue
			}
			anon := a.mustTag(t, rt.path, "")
			johns := a.mustTag(t, rt.path, john)
			janes := a.mustTag(t, rt.path, jane)
			if anon == johns || johns == janes || anon == janes {
				t.Fatalf("GET %s: tags anonymous %s, john %s, jane %s; want three different ones", rt.path, anon, johns, janes)
			}
			for _, c := range []struct {
				sender, tag string
			}{{john, anon}, {jane, johns}, {"", johns}, {john, janes}} {
				if r := a.get(rt.path, c.sender, c.tag); r.status != http.StatusOK {
					t.Errorf("GET %s with another viewer's tag %s: status = %d, want 200", rt.path, c.tag, r.status)
				}
			}
		}
		// The tags are the same for everyone; their tags are not.
		if anon, johns := a.get("/api/tags", "", ""), a.get("/api/tags", john, ""); !bytes.Equal(anon.body, johns.body) {
			t.Fatalf("tags differ between viewers: %s and %s", anon.body, johns.body)
		}
	})

	// changed GETs path as token did before and after change, and checks
	// that the old tag no longer matches.
	changed := func(t *testing.T, path, token string, change func()) {
		t.Helper()
		old := a.mustTag(t, path, token)
		change()
		r := a.get(path, token, old)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s with the tag from before the change: status = %d, want 200", path, r.status)
		}
		if tag := r.header.Get("ETag"); tag == old {
			t.Fatalf("GET %s: ETag %s unchanged after the change", path, tag)
		}
		checkRevalidation(t, r, token != "")
	}
	t.Run("ChangeUpdateArticle", func(t *testing.T) {
		changed(t, "/api/articles/post", "", func() {
			a.mustDo("PUT", "/api/articles/post", jane, `{"article":{"body":"rewritten"}}`, 200)
		})
	})
	t.Run("ChangeAddComment", func(t *testing.T) {
		changed(t, "/api/articles/post/comments", "", func() {
			a.mustDo("POST", "/api/articles/post/comments", jane, `{"comment":{"body":"second"}}`, 200)
		})
	})
	t.Run("ChangeFollow", func(t *testing.T) {
		changed(t, "/api/profiles/john", jane, func() {
			a.mustDo("POST", "/api/profiles/john/follow", jane, "", 200)
		})
	})
	t.Run("ChangeFavorite", func(t *testing.T) {
		old := a.mustTag(t, "/api/articles", john)
		changed(t, "/api/articles/post", john, func() {
			a.mustDo("POST", "/api/articles/post/favorite", john, "", 200)
		})
		if r := a.get("/api/articles", john, old); r.status != http.StatusOK {
			t.Fatalf("GET /api/articles after a favorite: status = %d, want 200", r.status)
		}
	})
	t.Run("ChangeFeed", func(t *testing.T) {
		changed(t, "/api/articles/feed", john, func() { a.mustCreate(jane, "Second", "rust") })
	})
	t.Run("ChangeTags", func(t *testing.T) {
		changed(t, "/api/tags", "", func() { a.mustCreate(jane, "Third", "zig") })
	})

	t.Run("CurrentUserStaysNoStore", func(t *testing.T) {
		r := a.get("/api/user", john, "*")
		if r.status != http.StatusOK {
			t.Fatalf("status = %d, want 200", r.status)
		}
		if got := r.header.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
			t.Errorf("Cache-Control = %q, want [no-store]", got)
		}
		if tag, ok := r.header["Etag"]; ok {
			t.Errorf("ETag = %q, want none on an answer with a token", tag)
		}
	})
	t.Run("ErrorsUntagged", func(t *testing.T) {
		r := a.get("/api/articles/nope", "", "*")
		if r.status != http.StatusNotFound {
			t.Fatalf("status = %d, want 404", r.status)
		}
		for _, h := range []string{"Etag", "Cache-Control", "Vary"} {
			if v, ok := r.header[h]; ok {
				t.Errorf("%s = %q, want none on a 404", h, v)
			}
		}
	})
}

// TestConditionalLarge: an answer over the 1 MiB bound goes out as it is
// written, without a tag, and If-None-Match cannot turn it into a 304.
func TestConditionalLarge(t *testing.T) {
	a := newAPI(t)
	jane := a.mustRegister("jane")
	a.mustCreate(jane, "Post")
	body := strings.Repeat("x", 10_000)
	for range 110 {
		a.mustDo("POST", "/api/articles/post/comments", jane, fmt.Sprintf(`{"comment":{"body":%q}}`, body), 200)
	}
	for _, inm := range []string{"", "*"} {
		r := a.get("/api/articles/post/comments", jane, inm)
		if r.status != http.StatusOK {
			t.Fatalf("If-None-Match %q: status = %d, want 200", inm, r.status)
		}
		if n := len(r.body); n <= 1<<20 {
			t.Fatalf("body is %d bytes, want over 1 MiB for this test", n)
		}
		if got := decodeInto[struct{ Comments []struct{ ID int } }](t, r); len(got.Comments) != 110 {
			t.Fatalf("%d comments, want 110", len(got.Comments))
		}
		if tag, ok := r.header["Etag"]; ok {
			t.Errorf("ETag = %q, want none over the bound", tag)
		}
		if got := r.header.Get("Cache-Control"); got != "private, no-cache" {
			t.Errorf("Cache-Control = %q, want private, no-cache", got)
		}
		if got := r.header.Get("Content-Length"); got != fmt.Sprint(len(r.body)) {
			t.Errorf("Content-Length = %q, want %d", got, len(r.body))
		}
	}
}
