package resolvers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

// TestConditionalGET checks ETag and If-None-Match on GET queries, and
// that POST stays uncached.
func TestConditionalGET(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.mustUser(t, "alice")
	bob := e.mustUser(t, "bob")
	e.mustArticle(t, alice, "Post")
	query := `{ article(slug: "post") { title favorited favoritesCount author { username following } } }`
	target := e.url + "?" + url.Values{"query": {query}}.Encode()
	get := func(t *testing.T, u user, inm string) result {
		t.Helper()
		h := map[string]string{}
		if inm != "" {
			h["If-None-Match"] = inm
		}
		r, err := http.NewRequest(http.MethodGet, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		return send(t, r, request{token: u.token, header: h})
	}
	tagRE := regexp.MustCompile(`^"[A-Za-z0-9_-]{22}"$`)
	// tagged checks a 200 with a tag and returns the tag.
	tagged := func(t *testing.T, r result, cacheControl string) string {
		t.Helper()
		wantStatus(t, r, http.StatusOK, jsonType)
		tag := r.header.Get("ETag")
		if !tagRE.MatchString(tag) {
			t.Fatalf("ETag = %q, want a quoted 22-character base64url tag", tag)
		}
		if got := r.header.Values("Cache-Control"); len(got) != 1 || got[0] != cacheControl {
			t.Errorf("Cache-Control = %q, want [%s]", got, cacheControl)
		}
		if got := r.header.Values("Vary"); len(got) != 1 || got[0] != "Authorization" {
			t.Errorf("Vary = %q, want [Authorization]", got)
		}
		return tag
	}
	notModified := func(t *testing.T, r result, tag, cacheControl string) {
		t.Helper()
		if r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Fatalf("status = %d, body %q; want 304 and none", r.status, r.body)
		}
		for _, h := range []string{"Content-Type", "Content-Length"} {
			if v, ok := r.header[h]; ok {
				t.Errorf("%s = %q, want none on a 304", h, v)
			}
		}
		if got := r.header.Get("ETag"); got != tag {
			t.Errorf("ETag = %q, want %q", got, tag)
		}
		if got := r.header.Get("Cache-Control"); got != cacheControl {
			t.Errorf("Cache-Control = %q, want %s", got, cacheControl)
		}
		if got := r.header.Get("Vary"); got != "Authorization" {
			t.Errorf("Vary = %q, want Authorization", got)
		}
	}

	t.Run("Anonymous", func(t *testing.T) {
		first := get(t, user{}, "")
		wantJSON(t, first.body, `{"data":{"article":{"title":"Post","favorited":false,"favoritesCount":0,"author":{"username":"alice","following":false}}}}`)
		tag := tagged(t, first, "no-cache")
		for _, inm := range []string{tag, "W/" + tag, "*", `"x", W/"y", ` + tag} {
			notModified(t, get(t, user{}, inm), tag, "no-cache")
		}
		if r := get(t, user{}, `"x"`); r.status != http.StatusOK || !bytes.Equal(r.body, first.body) {
			t.Fatalf("If-None-Match \"x\": status %d, body %s; want 200 and the body", r.status, r.body)
		}
	})
	t.Run("SignedIn", func(t *testing.T) {
		tag := tagged(t, get(t, bob, ""), "private, no-cache")
		notModified(t, get(t, bob, tag), tag, "private, no-cache")
	})
	t.Run("ViewersNeverShareTags", func(t *testing.T) {
		anon := tagged(t, get(t, user{}, ""), "no-cache")
		alices := tagged(t, get(t, alice, ""), "private, no-cache")
		bobs := tagged(t, get(t, bob, ""), "private, no-cache")
		// Alice and Bob see the same body (neither favorited it, and one
		// cannot follow oneself), yet their tags differ.
		if anon == alices || alices == bobs || anon == bobs {
			t.Fatalf("tags anonymous %s, alice %s, bob %s; want three different ones", anon, alices, bobs)
		}
		for _, c := range []struct {
			sender user
			tag    string
		}{{bob, alices}, {alice, bobs}, {bob, anon}, {user{}, bobs}} {
			if r := get(t, c.sender, c.tag); r.status != http.StatusOK {
				t.Errorf("%q sending tag %s: status = %d, want 200", c.sender.username, c.tag, r.status)
			}
		}
	})
	t.Run("ChangeFavorite", func(t *testing.T) {
		old := tagged(t, get(t, bob, ""), "private, no-cache")
		oldAnon := tagged(t, get(t, user{}, ""), "no-cache")
		e.mustFavorite(t, bob, "post")
		r := get(t, bob, old)
		if tag := tagged(t, r, "private, no-cache"); tag == old {
			t.Fatalf("ETag %s unchanged after the favorite", tag)
		}
		wantJSON(t, r.body, `{"data":{"article":{"title":"Post","favorited":true,"favoritesCount":1,"author":{"username":"alice","following":false}}}}`)
		if r := get(t, user{}, oldAnon); r.status != http.StatusOK {
			t.Fatalf("anonymous after the favorite: status = %d, want 200", r.status)
		}
	})
	t.Run("ChangeFollow", func(t *testing.T) {
		old := tagged(t, get(t, bob, ""), "private, no-cache")
		e.mustFollow(t, bob, alice)
		if tag := tagged(t, get(t, bob, old), "private, no-cache"); tag == old {
			t.Fatalf("ETag %s unchanged after the follow", tag)
		}
	})
	t.Run("POSTStaysNoStore", func(t *testing.T) {
		r := e.post(t, request{query: query, header: map[string]string{"If-None-Match": "*"}})
		wantStatus(t, r, http.StatusOK, jsonType)
		if got := r.header.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
			t.Errorf("Cache-Control = %q, want [no-store]", got)
		}
		if v, ok := r.header["Etag"]; ok {
			t.Errorf("ETag = %q, want none on POST", v)
		}
	})
	t.Run("GETErrorsStayNoStore", func(t *testing.T) {
		r := do(t, http.MethodGet, e.url+"?"+url.Values{"query": {`mutation { login(input: {email: "alice@example.com", password: "` + testPassword + `"}) { token } }`}}.Encode(), "", nil,
			map[string]string{"If-None-Match": "*"})
		wantStatus(t, r, http.StatusMethodNotAllowed, jsonType)
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", got)
		}
		if v, ok := r.header["Etag"]; ok {
			t.Errorf("ETag = %q, want none on a 405", v)
		}
	})
}
