package parity_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The parity check of each row of the matrix. Each does something through
// one surface and reads it back through the other, then the other way
// round, with users and articles of its own.

func checkRegister(t *testing.T, w *world) {
	t.Run("REST to GraphQL", func(t *testing.T) {
		r := mustREST[restUser](t, w.server, nobody, "POST", "/api/users",
			`{"user":{"username":"reg-rest","email":"reg-rest@example.com","password":"reg-rest-password"}}`, http.StatusCreated)
		for _, scheme := range []string{"Token", "Bearer"} {
			got := w.viewerGraphQL(t, actor{token: r.User.Token, scheme: scheme})
			agree(t, "viewer with the REST token as "+scheme, got, &r.User.account)
		}
		agree(t, "GraphQL profile", w.profileGraphQL(t, nobody, "reg-rest"),
			&profile{Username: "reg-rest", Bio: r.User.Bio, Image: r.User.Image})
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		p := mustGraphQL[sessionPayload](t, w.server, nobody, registerDoc,
			obj{"input": obj{"username": "reg-gql", "email": "reg-gql@example.com", "password": "reg-gql-password"}})
		for _, scheme := range []string{"Token", "Bearer"} {
			got := w.accountREST(t, actor{token: *p.Token, scheme: scheme})
			agree(t, "GET /api/user with the GraphQL token as "+scheme, got, *p.User)
		}
		agree(t, "REST profile", w.profileREST(t, nobody, "reg-gql"),
			profile{Username: "reg-gql", Bio: p.User.Bio, Image: p.User.Image})
	})
}

func checkLogin(t *testing.T, w *world) {
	viaREST := w.signUpREST(t, "login-rest")
	viaGraphQL := w.signUpGraphQL(t, "login-gql")
	t.Run("REST to GraphQL", func(t *testing.T) {
		// Signed up over GraphQL, signed in over REST (email in another case).
		r := mustREST[restUser](t, w.server, nobody, "POST", "/api/users/login",
			`{"user":{"email":"`+strings.ToUpper(viaGraphQL.email)+`","password":"`+viaGraphQL.password+`"}}`, http.StatusOK)
		for _, scheme := range []string{"Token", "Bearer"} {
			agree(t, "viewer with the REST login token as "+scheme, w.viewerGraphQL(t, actor{token: r.User.Token, scheme: scheme}), &r.User.account)
		}
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		p := mustGraphQL[sessionPayload](t, w.server, nobody, loginDoc,
			obj{"input": obj{"email": strings.ToUpper(viaREST.email), "password": viaREST.password}})
		for _, scheme := range []string{"Token", "Bearer"} {
			agree(t, "GET /api/user with the GraphQL login token as "+scheme, w.accountREST(t, actor{token: *p.Token, scheme: scheme}), *p.User)
		}
	})
	t.Run("same account", func(t *testing.T) {
		r := mustREST[restUser](t, w.server, nobody, "POST", "/api/users/login",
			`{"user":{"email":"`+viaREST.email+`","password":"`+viaREST.password+`"}}`, http.StatusOK)
		p := mustGraphQL[sessionPayload](t, w.server, nobody, loginDoc, obj{"input": obj{"email": viaREST.email, "password": viaREST.password}})
		agree(t, "GraphQL login user", *p.User, r.User.account)
	})
}

func checkViewer(t *testing.T, w *world) {
	for _, name := range []string{"alice", "bob"} {
		a := w.actors[name]
		t.Run(name, func(t *testing.T) {
			agree(t, "viewer", w.viewerGraphQL(t, a), new(w.accountREST(t, a)))
		})
	}
}

func checkUpdateViewer(t *testing.T, w *world) {
	t.Run("REST to GraphQL", func(t *testing.T) {
		a := w.signUpREST(t, "upd-rest")
		r := mustREST[restUser](t, w.server, a, "PUT", "/api/user",
			`{"user":{"bio":"From REST","image":"https://example.com/rest.png"}}`, http.StatusOK)
		fresh := actor{token: r.User.Token}
		agree(t, "viewer with the fresh REST token", w.viewerGraphQL(t, fresh), &r.User.account)
		agree(t, "GraphQL profile", w.profileGraphQL(t, nobody, "upd-rest"),
			&profile{Username: "upd-rest", Bio: r.User.Bio, Image: r.User.Image})

		// "" clears on REST; GraphQL reads null.
		r = mustREST[restUser](t, w.server, a, "PUT", "/api/user", `{"user":{"bio":""}}`, http.StatusOK)
		got := w.viewerGraphQL(t, a)
		if got.Bio != nil {
			t.Errorf("viewer.bio = %q, want null", *got.Bio)
		}
		agree(t, "viewer after clearing bio", got, &r.User.account)
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		a := w.signUpGraphQL(t, "upd-gql")
		p := mustGraphQL[sessionPayload](t, w.server, a, updateViewerDoc,
			obj{"input": obj{"username": "upd-gql-renamed", "bio": "From GraphQL", "image": nil}})
		if p.Token == nil {
			t.Fatal("updateViewer.token = null, want a fresh token as PUT /api/user gives")
		}
		agree(t, "GET /api/user with the fresh GraphQL token", w.accountREST(t, actor{token: *p.Token}), *p.User)
		agree(t, "REST profile", w.profileREST(t, nobody, "upd-gql-renamed"),
			profile{Username: "upd-gql-renamed", Bio: p.User.Bio, Image: nil})
		w.rest404(t, "GET", "/api/profiles/upd-gql", "profile not found")
		if got := w.profileGraphQL(t, nobody, "upd-gql"); got != nil {
			t.Errorf("profile(upd-gql) = %+v, want null after the rename", got)
		}

		// An empty update renews the token, as PUT /api/user {"user":{}} does.
		renewed := mustGraphQL[sessionPayload](t, w.server, a, updateViewerDoc, obj{"input": obj{}})
		r := mustREST[restUser](t, w.server, a, "PUT", "/api/user", `{"user":{}}`, http.StatusOK)
		agree(t, "empty updateViewer user", *renewed.User, r.User.account)
		if renewed.Token == nil {
			t.Fatal("updateViewer(input: {}).token = null, want a token")
		}
		agree(t, "GET /api/user with the renewed token", w.accountREST(t, actor{token: *renewed.Token}), r.User.account)
	})
	// Settings forms send every field, an empty password when it is left
	// alone: "" keeps username, email and password, and clears bio and image.
	t.Run("blank fields kept", func(t *testing.T) {
		blank := `{"username":"","email":"","password":"","bio":"Kept the rest","image":""}`
		var input obj
		mustDecode(t, []byte(blank), &input)
		a := w.signUpREST(t, "blank-rest")
		r := mustREST[restUser](t, w.server, a, "PUT", "/api/user", `{"user":`+blank+`}`, http.StatusOK)
		b := w.signUpGraphQL(t, "blank-gql")
		p := mustGraphQL[sessionPayload](t, w.server, b, updateViewerDoc, obj{"input": input})
		kept := "Kept the rest"
		for _, c := range []struct {
			as  actor
			got account
		}{{a, r.User.account}, {b, *p.User}} {
			want := account{Username: c.as.username, Email: c.as.email, Bio: &kept}
			agree(t, c.as.username+" after a blank update", c.got, want)
			agree(t, c.as.username+" read back through GraphQL", *w.viewerGraphQL(t, c.as), want)
			// The token from before the update still works (the previous
			// line), and the password still signs in: it did not change.
			mustREST[restUser](t, w.server, nobody, "POST", "/api/users/login",
				`{"user":{"email":"`+c.as.email+`","password":"`+c.as.password+`"}}`, http.StatusOK)
		}
	})
	// A new password revokes every token issued before it, on both surfaces.
	t.Run("password change revokes older tokens", func(t *testing.T) {
		a := w.signUpREST(t, "revoke-rest")
		r := mustREST[restUser](t, w.server, a, "PUT", "/api/user", `{"user":{"password":"another-password"}}`, http.StatusOK)
		b := w.signUpGraphQL(t, "revoke-gql")
		p := mustGraphQL[sessionPayload](t, w.server, b, updateViewerDoc, obj{"input": obj{"password": "another-password"}})
		for _, c := range []struct{ old, fresh actor }{{a, actor{token: r.User.Token}}, {b, actor{token: *p.Token}}} {
			if res := w.server.rest(t, c.old, "GET", "/api/user", ""); res.status != http.StatusUnauthorized ||
				!strings.Contains(string(res.body), "token revoked") {
				t.Errorf("%s: GET /api/user with the old token = %d %s, want 401 token revoked", c.old.username, res.status, res.body)
			}
			res := w.server.graphql(t, c.old, viewerDoc, nil)
			if len(res.Errors) != 1 || res.Errors[0].Extensions.Code != "UNAUTHENTICATED" {
				t.Errorf("%s: viewer with the old token = %+v, want one UNAUTHENTICATED error", c.old.username, res)
			}
			agree(t, c.old.username+" with the fresh token", w.viewerGraphQL(t, c.fresh).Username, c.old.username)
		}
	})
}

func checkProfile(t *testing.T, w *world) {
	author := w.signUpREST(t, "prof-author")
	mustREST[restUser](t, w.server, author, "PUT", "/api/user", `{"user":{"bio":"Writes things","image":"https://example.com/p.png"}}`, http.StatusOK)
	follower := w.signUpGraphQL(t, "prof-follower")
	stranger := w.signUpREST(t, "prof-stranger")
	mustREST[restProfile](t, w.server, follower, "POST", "/api/profiles/prof-author/follow", "", http.StatusOK)

	for _, c := range []struct {
		name     string
		as       actor
		username string
	}{
		{"anonymous", nobody, "prof-author"},
		{"follower", follower, "prof-author"},
		{"stranger", stranger, "prof-author"},
		{"themself", author, "prof-author"},
		{"no bio", author, "prof-follower"},
	} {
		t.Run(c.name, func(t *testing.T) {
			agree(t, "GraphQL profile", w.profileGraphQL(t, c.as, c.username), new(w.profileREST(t, c.as, c.username)))
		})
	}
}

func checkFollowProfile(t *testing.T, w *world) {
	a := w.signUpREST(t, "fol-a")
	b := w.signUpGraphQL(t, "fol-b")
	t.Run("REST to GraphQL", func(t *testing.T) {
		for range 2 { // following twice changes nothing
			r := mustREST[restProfile](t, w.server, a, "POST", "/api/profiles/fol-b/follow", `{"user":{"email":"ignored"}}`, http.StatusOK)
			agree(t, "GraphQL profile", w.profileGraphQL(t, a, "fol-b"), &r.Profile)
		}
		if !w.profileREST(t, a, "fol-b").Following {
			t.Error("following = false after POST /api/profiles/fol-b/follow, want true")
		}
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		for range 2 {
			p := mustGraphQL[profilePayload](t, w.server, b, followProfileDoc, obj{"input": obj{"username": "fol-a"}})
			agree(t, "REST profile", w.profileREST(t, b, "fol-a"), *p.Profile)
			if !p.Profile.Following {
				t.Error("followProfile: following = false, want true")
			}
		}
	})
}

func checkUnfollowProfile(t *testing.T, w *world) {
	a := w.signUpREST(t, "unf-a")
	b := w.signUpGraphQL(t, "unf-b")
	mustREST[restProfile](t, w.server, a, "POST", "/api/profiles/unf-b/follow", "", http.StatusOK)
	mustGraphQL[profilePayload](t, w.server, b, followProfileDoc, obj{"input": obj{"username": "unf-a"}})
	t.Run("REST to GraphQL", func(t *testing.T) {
		for range 2 { // unfollowing twice changes nothing
			r := mustREST[restProfile](t, w.server, a, "DELETE", "/api/profiles/unf-b/follow", "", http.StatusOK)
			agree(t, "GraphQL profile", w.profileGraphQL(t, a, "unf-b"), &r.Profile)
			if r.Profile.Following {
				t.Error("following = true after DELETE /api/profiles/unf-b/follow, want false")
			}
		}
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		for range 2 {
			p := mustGraphQL[profilePayload](t, w.server, b, unfollowProfileDoc, obj{"input": obj{"username": "unf-a"}})
			agree(t, "REST profile", w.profileREST(t, b, "unf-a"), *p.Profile)
			if p.Profile.Following {
				t.Error("unfollowProfile: following = true, want false")
			}
		}
	})
}

func checkFeed(t *testing.T, w *world) {
	reader := w.signUpREST(t, "feed-reader")
	restAuthor := w.signUpREST(t, "feed-rest-author")
	gqlAuthor := w.signUpGraphQL(t, "feed-gql-author")
	mustREST[restProfile](t, w.server, reader, "POST", "/api/profiles/feed-gql-author/follow", "", http.StatusOK)
	mustGraphQL[profilePayload](t, w.server, reader, followProfileDoc, obj{"input": obj{"username": "feed-rest-author"}})
	w.createREST(t, restAuthor, "Feed one", "feed-b", "feed-a")
	liked := w.createGraphQL(t, gqlAuthor, "Feed two", "feed-a")
	w.createREST(t, restAuthor, "Feed three")
	w.createGraphQL(t, gqlAuthor, "Feed four")
	mustREST[restArticle](t, w.server, reader, "POST", "/api/articles/"+liked.Slug+"/favorite", "", http.StatusOK)

	t.Run("first page", func(t *testing.T) {
		r := mustREST[restArticles](t, w.server, reader, "GET", "/api/articles/feed", "", http.StatusOK)
		g := mustGraphQL[connection](t, w.server, reader, feedDoc, nil)
		agree(t, "feed", g.page(), r.page())
		if r.ArticlesCount != 4 {
			t.Errorf("articlesCount = %d, want 4", r.ArticlesCount)
		}
	})
	t.Run("pages", func(t *testing.T) {
		comparePages(t, w, reader, "/api/articles/feed?", feedDoc, obj{}, 4)
	})
	t.Run("follows nobody", func(t *testing.T) {
		loner := w.signUpGraphQL(t, "feed-loner")
		r := mustREST[restArticles](t, w.server, loner, "GET", "/api/articles/feed", "", http.StatusOK)
		g := mustGraphQL[connection](t, w.server, loner, feedDoc, nil)
		agree(t, "empty feed", g.page(), r.page())
		if r.ArticlesCount != 0 || len(r.Articles) != 0 {
			t.Errorf("feed = %+v, want empty with articlesCount 0", r)
		}
	})
}

// comparePages walks a list in pages of size 1 to n+1 on both surfaces:
// REST with limit and offset, GraphQL with first and the previous page's
// endCursor. The pages, the totals and "is there more" must agree.
func comparePages(t *testing.T, w *world, as actor, restPrefix, doc string, vars obj, total int) {
	t.Helper()
	for size := 1; size <= total+1; size++ {
		var after any
		for offset := 0; ; offset += size {
			r := mustREST[restArticles](t, w.server, as, "GET", restPrefix+"limit="+itoa(size)+"&offset="+itoa(offset), "", http.StatusOK)
			v := obj{"first": size, "after": after}
			for k, x := range vars {
				v[k] = x
			}
			g := mustGraphQL[connection](t, w.server, as, doc, v)
			agree(t, "page of "+itoa(size)+" at "+itoa(offset), g.page(), r.page())
			if more := offset+len(r.Articles) < r.ArticlesCount; g.PageInfo.HasNextPage != more {
				t.Errorf("hasNextPage = %v at offset %d, size %d; REST has %d of %d", g.PageInfo.HasNextPage, offset, size, offset+len(r.Articles), r.ArticlesCount)
			}
			if !g.PageInfo.HasNextPage || t.Failed() {
				break
			}
			after = *g.PageInfo.EndCursor
		}
	}
}

func checkArticles(t *testing.T, w *world) {
	a := w.signUpREST(t, "list-a")
	b := w.signUpGraphQL(t, "list-b")
	viewer := w.signUpREST(t, "list-viewer")
	one := w.createREST(t, a, "List one", "list-y", "list-x")
	two := w.createGraphQL(t, a, "List two", "list-x")
	three := w.createGraphQL(t, b, "List three", "list-y")
	mustGraphQL[articlePayload](t, w.server, b, favoriteArticleDoc, obj{"input": obj{"slug": one.Slug}})
	mustREST[restArticle](t, w.server, a, "POST", "/api/articles/"+three.Slug+"/favorite", "", http.StatusOK)
	mustREST[restArticle](t, w.server, viewer, "POST", "/api/articles/"+two.Slug+"/favorite", "", http.StatusOK)
	mustGraphQL[profilePayload](t, w.server, viewer, followProfileDoc, obj{"input": obj{"username": "list-b"}})

	for _, c := range []struct {
		name   string
		query  string // REST
		filter obj    // GraphQL
		want   int
	}{
		{"no filter", "", nil, -1},
		{"tag", "tag=list-x", obj{"tag": "list-x"}, 2},
		{"author", "author=list-a", obj{"author": "list-a"}, 2},
		{"favorited", "favorited=list-b", obj{"favoritedBy": "list-b"}, 1},
		{"tag and author", "tag=list-y&author=list-b", obj{"tag": "list-y", "author": "list-b"}, 1},
		{"tag and favorited", "tag=list-y&favorited=list-a", obj{"tag": "list-y", "favoritedBy": "list-a"}, 1},
		{"unknown author", "author=nobody-at-all", obj{"author": "nobody-at-all"}, 0},
		{"unknown tag", "tag=no-such-tag", obj{"tag": "no-such-tag"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, as := range []actor{nobody, viewer} {
				r := mustREST[restArticles](t, w.server, as, "GET", "/api/articles?"+c.query, "", http.StatusOK)
				g := mustGraphQL[connection](t, w.server, as, articlesDoc, obj{"filter": c.filter})
				agree(t, "articles as "+orAnonymous(as), g.page(), r.page())
				if c.want >= 0 && r.ArticlesCount != c.want {
					t.Errorf("articlesCount = %d, want %d", r.ArticlesCount, c.want)
				}
			}
		})
	}
	t.Run("pages", func(t *testing.T) {
		comparePages(t, w, viewer, "/api/articles?author=list-a&", articlesDoc, obj{"filter": obj{"author": "list-a"}}, 2)
		comparePages(t, w, viewer, "/api/articles?tag=list-y&", articlesDoc, obj{"filter": obj{"tag": "list-y"}}, 2)
	})
}

func checkCreateArticle(t *testing.T, w *world) {
	a := w.signUpREST(t, "create-a")
	t.Run("REST to GraphQL", func(t *testing.T) {
		r := mustREST[restArticle](t, w.server, a, "POST", "/api/articles",
			`{"article":{"title":"Created over REST","description":"D","body":"B","tagList":["zeta"," alpha ","alpha",""]}}`, http.StatusCreated)
		if want := []string{"alpha", "zeta"}; !slices.Equal(r.Article.TagList, want) {
			t.Errorf("tagList = %q, want %q", r.Article.TagList, want)
		}
		for _, as := range []actor{nobody, a} {
			agree(t, "GraphQL article as "+orAnonymous(as), w.articleGraphQL(t, as, r.Article.Slug), new(w.articleREST(t, as, r.Article.Slug)))
		}
		agree(t, "GraphQL article as its author", w.articleGraphQL(t, a, r.Article.Slug), &r.Article)
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		p := mustGraphQL[articlePayload](t, w.server, a, createArticleDoc,
			obj{"input": obj{"title": "Created over GraphQL", "description": "D", "body": "B", "tagList": []string{"zeta", " alpha ", "alpha", ""}}})
		agree(t, "REST article as its author", w.articleREST(t, a, p.Article.Slug), *p.Article)
		agree(t, "REST article anonymously", w.articleREST(t, nobody, p.Article.Slug), *w.articleGraphQL(t, nobody, p.Article.Slug))
	})
	t.Run("same title on both", func(t *testing.T) {
		r := w.createREST(t, a, "Twice told")
		g := w.createGraphQL(t, a, "Twice told")
		if r.Slug != "twice-told" || g.Slug == r.Slug || !strings.HasPrefix(g.Slug, "twice-told-") {
			t.Errorf("slugs = %q (REST), %q (GraphQL); want twice-told and twice-told-<suffix>", r.Slug, g.Slug)
		}
		g2 := w.createGraphQL(t, a, "Told twice")
		r2 := w.createREST(t, a, "Told twice")
		if g2.Slug != "told-twice" || r2.Slug == g2.Slug || !strings.HasPrefix(r2.Slug, "told-twice-") {
			t.Errorf("slugs = %q (GraphQL), %q (REST); want told-twice and told-twice-<suffix>", g2.Slug, r2.Slug)
		}
	})
}

func checkArticle(t *testing.T, w *world) {
	author := w.signUpGraphQL(t, "art-author")
	fan := w.signUpREST(t, "art-fan")
	stranger := w.signUpGraphQL(t, "art-stranger")
	a := w.createGraphQL(t, author, "Read on both", "b-tag", "a-tag")
	mustREST[restArticle](t, w.server, fan, "POST", "/api/articles/"+a.Slug+"/favorite", "", http.StatusOK)
	mustREST[restProfile](t, w.server, fan, "POST", "/api/profiles/art-author/follow", "", http.StatusOK)
	for _, c := range []struct {
		name string
		as   actor
	}{{"anonymous", nobody}, {"fan", fan}, {"stranger", stranger}, {"author", author}} {
		t.Run(c.name, func(t *testing.T) {
			agree(t, "GraphQL article", w.articleGraphQL(t, c.as, a.Slug), new(w.articleREST(t, c.as, a.Slug)))
		})
	}
}

func checkUpdateArticle(t *testing.T, w *world) {
	a := w.signUpREST(t, "upd-art")
	t.Run("REST to GraphQL", func(t *testing.T) {
		old := w.createGraphQL(t, a, "Before REST edit", "kept")
		r := mustREST[restArticle](t, w.server, a, "PUT", "/api/articles/"+old.Slug,
			`{"article":{"title":"After REST edit","description":"New D"}}`, http.StatusOK)
		if r.Article.Slug != "after-rest-edit" {
			t.Errorf("slug = %q, want after-rest-edit", r.Article.Slug)
		}
		if r.Article.CreatedAt != old.CreatedAt {
			t.Errorf("createdAt = %s, want %s as it was", r.Article.CreatedAt, old.CreatedAt)
		}
		agree(t, "GraphQL article under the new slug", w.articleGraphQL(t, a, r.Article.Slug), &r.Article)
		if got := w.articleGraphQL(t, a, old.Slug); got != nil {
			t.Errorf("article(%q) = %+v, want null: the slug moved", old.Slug, got)
		}
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		old := w.createREST(t, a, "Before GraphQL edit", "gone", "also-gone")
		p := mustGraphQL[articlePayload](t, w.server, a, updateArticleDoc,
			obj{"input": obj{"slug": old.Slug, "title": "After GraphQL edit", "body": "New B", "tagList": nil}})
		if len(p.Article.TagList) != 0 || p.Article.TagList == nil {
			t.Errorf("tagList = %#v, want [] after tagList: null", p.Article.TagList)
		}
		agree(t, "REST article under the new slug", w.articleREST(t, a, "after-graphql-edit"), *p.Article)
		w.rest404(t, "GET", "/api/articles/"+old.Slug, "article not found")
	})
	t.Run("tags on both", func(t *testing.T) {
		x := w.createREST(t, a, "Retagged")
		r := mustREST[restArticle](t, w.server, a, "PUT", "/api/articles/"+x.Slug, `{"article":{"tagList":["q","p","q"]}}`, http.StatusOK)
		agree(t, "GraphQL article", w.articleGraphQL(t, nobody, x.Slug).TagList, r.Article.TagList)
		p := mustGraphQL[articlePayload](t, w.server, a, updateArticleDoc, obj{"input": obj{"slug": x.Slug, "tagList": []string{"s", "r"}}})
		agree(t, "REST article", w.articleREST(t, a, x.Slug), *p.Article)
	})
}

func checkDeleteArticle(t *testing.T, w *world) {
	a := w.signUpGraphQL(t, "del-art")
	t.Run("REST to GraphQL", func(t *testing.T) {
		x := w.createGraphQL(t, a, "Deleted over REST")
		id := w.articleID(t, x.Slug)
		r := w.rest(t, a, "DELETE", "/api/articles/"+x.Slug, "")
		if r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("DELETE: status %d, body %q; want 204 and no body", r.status, r.body)
		}
		if got := w.articleGraphQL(t, a, x.Slug); got != nil {
			t.Errorf("article = %+v, want null after DELETE", got)
		}
		if got := rootField(t, w.graphql(t, a, nodeDoc, obj{"id": id}).Data); string(got) != "null" {
			t.Errorf("node(%s) = %s, want null", id, got)
		}
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		x := w.createREST(t, a, "Deleted over GraphQL")
		id := w.articleID(t, x.Slug)
		p := mustGraphQL[struct {
			DeletedArticleID string `json:"deletedArticleId"`
		}](t, w.server, a, deleteArticleDoc, obj{"input": obj{"slug": x.Slug}})
		if p.DeletedArticleID != id {
			t.Errorf("deletedArticleId = %q, want %q", p.DeletedArticleID, id)
		}
		w.rest404(t, "GET", "/api/articles/"+x.Slug, "article not found")
		w.rest404(t, "DELETE", "/api/articles/"+x.Slug, "article not found")
	})
}

func checkComments(t *testing.T, w *world) {
	author := w.signUpREST(t, "com-author")
	other := w.signUpGraphQL(t, "com-other")
	fan := w.signUpREST(t, "com-fan")
	mustGraphQL[profilePayload](t, w.server, fan, followProfileDoc, obj{"input": obj{"username": "com-other"}})
	x := w.createREST(t, author, "Much discussed")
	w.commentREST(t, author, x.Slug, "one, over REST")
	w.commentGraphQL(t, other, x.Slug, "two, over GraphQL")
	w.commentREST(t, other, x.Slug, "three, over REST")
	w.commentGraphQL(t, author, x.Slug, "four, over GraphQL")

	for _, as := range []actor{nobody, fan, author} {
		t.Run(orAnonymous(as), func(t *testing.T) {
			r := mustREST[restComments](t, w.server, as, "GET", "/api/articles/"+x.Slug+"/comments", "", http.StatusOK)
			g := w.commentsGraphQL(t, as, x.Slug, 100, nil)
			agree(t, "GraphQL comments", g.legacy(t), r.Comments)
			if g.Comments.TotalCount != len(r.Comments) || len(r.Comments) != 4 {
				t.Errorf("totalCount = %d, REST has %d comments; want 4 on both", g.Comments.TotalCount, len(r.Comments))
			}
		})
	}
	t.Run("pages", func(t *testing.T) {
		r := mustREST[restComments](t, w.server, nobody, "GET", "/api/articles/"+x.Slug+"/comments", "", http.StatusOK)
		var got []comment
		var after any
		for {
			g := w.commentsGraphQL(t, nobody, x.Slug, 3, after)
			got = append(got, g.legacy(t)...)
			if !g.Comments.PageInfo.HasNextPage {
				break
			}
			after = *g.Comments.PageInfo.EndCursor
		}
		agree(t, "GraphQL comments page by page", got, r.Comments)
	})
	t.Run("no comments", func(t *testing.T) {
		y := w.createGraphQL(t, author, "Nothing to say")
		r := mustREST[restComments](t, w.server, nobody, "GET", "/api/articles/"+y.Slug+"/comments", "", http.StatusOK)
		g := w.commentsGraphQL(t, nobody, y.Slug, 20, nil)
		agree(t, "GraphQL comments", g.legacy(t), r.Comments)
	})
}

func checkAddComment(t *testing.T, w *world) {
	author := w.signUpGraphQL(t, "add-com")
	x := w.createGraphQL(t, author, "Commented on")
	t.Run("REST to GraphQL", func(t *testing.T) {
		c := w.commentREST(t, author, x.Slug, "Over REST")
		g := w.commentsGraphQL(t, author, x.Slug, 1, nil)
		if len(g.Comments.Nodes) != 1 {
			t.Fatalf("comments = %+v, want the new one first", g.Comments.Nodes)
		}
		agree(t, "newest GraphQL comment", g.Comments.Nodes[0].legacy(t), c)
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		c := w.commentGraphQL(t, author, x.Slug, "Over GraphQL")
		r := mustREST[restComments](t, w.server, author, "GET", "/api/articles/"+x.Slug+"/comments", "", http.StatusOK)
		if len(r.Comments) == 0 {
			t.Fatal("no comments over REST")
		}
		agree(t, "newest REST comment", r.Comments[0], c.legacy(t))
	})
}

func checkDeleteComment(t *testing.T, w *world) {
	author := w.signUpREST(t, "del-com")
	x := w.createREST(t, author, "Comments come and go")
	kept := w.commentREST(t, author, x.Slug, "kept")
	t.Run("REST to GraphQL", func(t *testing.T) {
		c := w.commentGraphQL(t, author, x.Slug, "made over GraphQL, deleted over REST")
		r := w.rest(t, author, "DELETE", "/api/articles/"+x.Slug+"/comments/"+itoa64(commentDBID(t, c.ID)), "")
		if r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("DELETE: status %d, body %q; want 204 and no body", r.status, r.body)
		}
		agree(t, "GraphQL comments", w.commentsGraphQL(t, author, x.Slug, 100, nil).legacy(t), []comment{kept})
		if got := rootField(t, w.graphql(t, author, nodeDoc, obj{"id": c.ID}).Data); string(got) != "null" {
			t.Errorf("node(%s) = %s, want null", c.ID, got)
		}
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		c := w.commentREST(t, author, x.Slug, "made over REST, deleted over GraphQL")
		// A GraphQL client finds the id in the article's comments.
		var id string
		for _, n := range w.commentsGraphQL(t, author, x.Slug, 100, nil).Comments.Nodes {
			if n.Body == c.Body && n.CreatedAt == c.CreatedAt {
				id = n.ID
			}
		}
		if commentDBID(t, id) != c.ID {
			t.Fatalf("GraphQL id %q names comment %d, want %d", id, commentDBID(t, id), c.ID)
		}
		p := mustGraphQL[struct {
			DeletedCommentID string `json:"deletedCommentId"`
		}](t, w.server, author, deleteCommentDoc, obj{"input": obj{"articleSlug": x.Slug, "commentId": id}})
		if p.DeletedCommentID != id {
			t.Errorf("deletedCommentId = %q, want %q", p.DeletedCommentID, id)
		}
		r := mustREST[restComments](t, w.server, author, "GET", "/api/articles/"+x.Slug+"/comments", "", http.StatusOK)
		agree(t, "REST comments", r.Comments, []comment{kept})
		w.rest404(t, "DELETE", "/api/articles/"+x.Slug+"/comments/"+itoa64(c.ID), "comment not found")
	})
	t.Run("on another article", func(t *testing.T) {
		y := w.createGraphQL(t, author, "Another article")
		w.rest404(t, "DELETE", "/api/articles/"+y.Slug+"/comments/"+itoa64(kept.ID), "comment not found")
		res := w.graphql(t, author, deleteCommentDoc, obj{"input": obj{"articleSlug": y.Slug, "commentId": globalCommentID(kept.ID)}})
		if len(res.Errors) != 1 || res.Errors[0].Extensions.Code != "NOT_FOUND" {
			t.Errorf("GraphQL errors = %+v, want one NOT_FOUND", res.Errors)
		}
	})
}

func checkFavoriteArticle(t *testing.T, w *world) {
	author := w.signUpREST(t, "fav-author")
	a := w.signUpREST(t, "fav-a")
	b := w.signUpGraphQL(t, "fav-b")
	x := w.createREST(t, author, "Much liked")
	t.Run("REST to GraphQL", func(t *testing.T) {
		for range 2 { // favoriting twice changes nothing
			r := mustREST[restArticle](t, w.server, a, "POST", "/api/articles/"+x.Slug+"/favorite", "", http.StatusOK)
			if !r.Article.Favorited || r.Article.FavoritesCount != 1 {
				t.Errorf("favorited, favoritesCount = %v, %d; want true, 1", r.Article.Favorited, r.Article.FavoritesCount)
			}
			agree(t, "GraphQL article", w.articleGraphQL(t, a, x.Slug), &r.Article)
		}
		g := mustGraphQL[connection](t, w.server, nobody, articlesDoc, obj{"filter": obj{"favoritedBy": "fav-a"}})
		if len(g.Nodes) != 1 || g.Nodes[0].Slug != x.Slug || g.TotalCount != 1 {
			t.Errorf("articles favorited by fav-a = %+v, want only %s", g.Nodes, x.Slug)
		}
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		for range 2 {
			p := mustGraphQL[articlePayload](t, w.server, b, favoriteArticleDoc, obj{"input": obj{"slug": x.Slug}})
			if !p.Article.Favorited || p.Article.FavoritesCount != 2 {
				t.Errorf("favorited, favoritesCount = %v, %d; want true, 2", p.Article.Favorited, p.Article.FavoritesCount)
			}
			agree(t, "REST article", w.articleREST(t, b, x.Slug), *p.Article)
		}
		r := mustREST[restArticles](t, w.server, nobody, "GET", "/api/articles?favorited=fav-b", "", http.StatusOK)
		if len(r.Articles) != 1 || r.Articles[0].Slug != x.Slug || r.ArticlesCount != 1 {
			t.Errorf("articles favorited by fav-b = %+v, want only %s", r.Articles, x.Slug)
		}
	})
}

func checkUnfavoriteArticle(t *testing.T, w *world) {
	author := w.signUpGraphQL(t, "unfav-author")
	a := w.signUpREST(t, "unfav-a")
	b := w.signUpGraphQL(t, "unfav-b")
	x := w.createGraphQL(t, author, "Liked, then not")
	mustREST[restArticle](t, w.server, a, "POST", "/api/articles/"+x.Slug+"/favorite", "", http.StatusOK)
	mustGraphQL[articlePayload](t, w.server, b, favoriteArticleDoc, obj{"input": obj{"slug": x.Slug}})
	t.Run("REST to GraphQL", func(t *testing.T) {
		for range 2 { // unfavoriting twice changes nothing
			r := mustREST[restArticle](t, w.server, a, "DELETE", "/api/articles/"+x.Slug+"/favorite", "", http.StatusOK)
			if r.Article.Favorited || r.Article.FavoritesCount != 1 {
				t.Errorf("favorited, favoritesCount = %v, %d; want false, 1", r.Article.Favorited, r.Article.FavoritesCount)
			}
			agree(t, "GraphQL article", w.articleGraphQL(t, a, x.Slug), &r.Article)
		}
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		for range 2 {
			p := mustGraphQL[articlePayload](t, w.server, b, unfavoriteArticleDoc, obj{"input": obj{"slug": x.Slug}})
			if p.Article.Favorited || p.Article.FavoritesCount != 0 {
				t.Errorf("favorited, favoritesCount = %v, %d; want false, 0", p.Article.Favorited, p.Article.FavoritesCount)
			}
			agree(t, "REST article", w.articleREST(t, b, x.Slug), *p.Article)
		}
	})
}

func checkTags(t *testing.T, w *world) {
	a := w.signUpREST(t, "tagger")
	compare := func(t *testing.T) []string {
		t.Helper()
		r := mustREST[restTags](t, w.server, nobody, "GET", "/api/tags", "", http.StatusOK)
		g := mustGraphQL[[]string](t, w.server, nobody, tagsDoc, nil)
		agree(t, "GraphQL tags", g, r.Tags)
		return r.Tags
	}
	t.Run("REST to GraphQL", func(t *testing.T) {
		w.createREST(t, a, "Tagged over REST", "tagrow-b", "tagrow-a")
		w.createREST(t, a, "Tagged over REST again", "tagrow-b")
		tags := compare(t)
		if i, j := slices.Index(tags, "tagrow-b"), slices.Index(tags, "tagrow-a"); i < 0 || j < 0 || i > j {
			t.Errorf("tags = %q, want tagrow-b (used twice) before tagrow-a (once)", tags)
		}
	})
	t.Run("GraphQL to REST", func(t *testing.T) {
		w.createGraphQL(t, a, "Tagged over GraphQL", "tagrow-a", "tagrow-c")
		w.createGraphQL(t, a, "Tagged over GraphQL again", "tagrow-a")
		tags := compare(t)
		if i, j := slices.Index(tags, "tagrow-a"), slices.Index(tags, "tagrow-b"); i < 0 || j < 0 || i > j {
			t.Errorf("tags = %q, want tagrow-a (used three times) before tagrow-b (twice)", tags)
		}
	})
}

// Helpers that act or read through one surface.

func (w *world) signUpREST(t *testing.T, username string) actor {
	t.Helper()
	a := actor{username: username, email: username + "@example.com", password: username + "-password"}
	r := mustREST[restUser](t, w.server, nobody, "POST", "/api/users",
		`{"user":{"username":"`+a.username+`","email":"`+a.email+`","password":"`+a.password+`"}}`, http.StatusCreated)
	a.token = r.User.Token
	return a
}

func (w *world) signUpGraphQL(t *testing.T, username string) actor {
	t.Helper()
	a := actor{username: username, email: username + "@example.com", password: username + "-password"}
	p := mustGraphQL[sessionPayload](t, w.server, nobody, registerDoc,
		obj{"input": obj{"username": a.username, "email": a.email, "password": a.password}})
	a.token = *p.Token
	return a
}

func (w *world) accountREST(t *testing.T, as actor) account {
	t.Helper()
	return mustREST[restUser](t, w.server, as, "GET", "/api/user", "", http.StatusOK).User.account
}

func (w *world) viewerGraphQL(t *testing.T, as actor) *account {
	t.Helper()
	return mustGraphQL[*account](t, w.server, as, viewerDoc, nil)
}

func (w *world) profileREST(t *testing.T, as actor, username string) profile {
	t.Helper()
	return mustREST[restProfile](t, w.server, as, "GET", "/api/profiles/"+url.PathEscape(username), "", http.StatusOK).Profile
}

func (w *world) profileGraphQL(t *testing.T, as actor, username string) *profile {
	t.Helper()
	return mustGraphQL[*profile](t, w.server, as, profileDoc, obj{"username": username})
}

func (w *world) createREST(t *testing.T, as actor, title string, tags ...string) article {
	t.Helper()
	body, err := json.Marshal(obj{"article": obj{"title": title, "description": "About " + title, "body": "All of " + title, "tagList": tags}})
	if err != nil {
		t.Fatal(err)
	}
	return mustREST[restArticle](t, w.server, as, "POST", "/api/articles", string(body), http.StatusCreated).Article
}

func (w *world) createGraphQL(t *testing.T, as actor, title string, tags ...string) article {
	t.Helper()
	return *mustGraphQL[articlePayload](t, w.server, as, createArticleDoc,
		obj{"input": obj{"title": title, "description": "About " + title, "body": "All of " + title, "tagList": tags}}).Article
}

func (w *world) articleREST(t *testing.T, as actor, slug string) article {
	t.Helper()
	return mustREST[restArticle](t, w.server, as, "GET", "/api/articles/"+slug, "", http.StatusOK).Article
}

func (w *world) articleGraphQL(t *testing.T, as actor, slug string) *article {
	t.Helper()
	return mustGraphQL[*article](t, w.server, as, articleDoc, obj{"slug": slug})
}

func (w *world) articleID(t *testing.T, slug string) string {
	t.Helper()
	a := mustGraphQL[*struct{ ID string }](t, w.server, nobody, articleIDDoc, obj{"slug": slug})
	if a == nil {
		t.Fatalf("article(%q) = null", slug)
	}
	return a.ID
}

func (w *world) commentREST(t *testing.T, as actor, slug, body string) comment {
	t.Helper()
	b, err := json.Marshal(obj{"comment": obj{"body": body}})
	if err != nil {
		t.Fatal(err)
	}
	return mustREST[restComment](t, w.server, as, "POST", "/api/articles/"+slug+"/comments", string(b), http.StatusOK).Comment
}

func (w *world) commentGraphQL(t *testing.T, as actor, slug, body string) gqlComment {
	t.Helper()
	return *mustGraphQL[commentPayload](t, w.server, as, addCommentDoc, obj{"input": obj{"articleSlug": slug, "body": body}}).Comment
}

func (w *world) commentsGraphQL(t *testing.T, as actor, slug string, first int, after any) commentsAnswer {
	t.Helper()
	a := mustGraphQL[*commentsAnswer](t, w.server, as, commentsDoc, obj{"slug": slug, "first": first, "after": after})
	if a == nil {
		t.Fatalf("article(%q) = null", slug)
	}
	return *a
}

// rest404 fails unless the legacy call is a 404 saying message.
func (w *world) rest404(t *testing.T, method, path, message string) {
	t.Helper()
	res := w.rest(t, w.actors["alice"], method, path, "")
	if res.status != http.StatusNotFound || !strings.Contains(string(res.body), message) {
		t.Errorf("%s %s: status %d, body %s; want 404 saying %q", method, path, res.status, res.body, message)
	}
}

func orAnonymous(a actor) string {
	if a.username == "" {
		return "anonymous"
	}
	return a.username
}

func itoa(n int) string { return itoa64(int64(n)) }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
