package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/app"
	"github.com/conduit-dev/conduit/conduit"
)

// badText is text no column can hold, as each part of a request carries
// it: in a URL (escaped), in JSON (NUL escaped, invalid UTF-8 as raw bytes).
type badText struct {
	name, url, json string
	// decodeMsg is what the legacy JSON decoder says of it, before the
	// service sees it ("" when the service is the one to refuse it).
	decodeMsg string
}

var badTexts = []badText{
	{name: "NUL", url: "x%00y", json: `x\u0000y`},
	{name: "InvalidUTF8", url: "x%FFy", json: "x\xffy", decodeMsg: "must be valid UTF-8 text"},
}

const malformed = "must be valid UTF-8 text without NUL characters"

// TestHostileText sends text PostgreSQL cannot store (NUL, invalid UTF-8)
// in every JSON field, path parameter and query parameter of both
// surfaces: each is a client mistake (422 naming the field, 404 for a
// lookup, a GraphQL user or request error), never a 500, and nothing is
// written.
func TestHostileText(t *testing.T) {
	t.Parallel()
	s := newSite(t, app.Config{}, conduit.Config{})
	token := s.register(t, "hank")
	slug := s.article(t, token, "Target")
	s.do(t, "POST", "/api/articles/"+slug+"/comments", token, `{"comment":{"body":"hi"}}`).want(t, http.StatusOK, "")
	commentID := strconv.FormatInt(s.count(t, `SELECT id FROM comments`), 10)
	rows := func() string {
		return fmt.Sprint(s.count(t, `SELECT count(*) FROM users`), s.count(t, `SELECT count(*) FROM articles`),
			s.count(t, `SELECT count(*) FROM comments`), s.count(t, `SELECT count(*) FROM favorites`),
			s.count(t, `SELECT count(*) FROM follows`), s.count(t, `SELECT count(*) FROM tags`),
			s.count(t, `SELECT (extract(epoch FROM max(updated_at)) * 1000)::bigint FROM users`), s.count(t, `SELECT (extract(epoch FROM max(updated_at)) * 1000)::bigint FROM articles`))
	}
	before := rows()
	inputs := 0

	// Legacy JSON fields: {"envelope":{field: bad}} with the other fields valid.
	type jsonCase struct {
		method, path, envelope string
		fields                 map[string]string // the valid request; each is made bad in turn
	}
	for _, c := range []jsonCase{
		{"POST", "/api/users/login", "user", map[string]string{"email": "hank@example.com", "password": "password1"}},
		{"POST", "/api/users", "user", map[string]string{"username": "newbie", "email": "newbie@example.com", "password": "password1"}},
		{"PUT", "/api/user", "user", map[string]string{"username": "hank2", "email": "hank2@example.com", "password": "password2", "bio": "b", "image": "i"}},
		{"POST", "/api/articles", "article", map[string]string{"title": "t", "description": "d", "body": "b", "tagList": "tag"}},
		{"PUT", "/api/articles/" + slug, "article", map[string]string{"title": "t2", "description": "d", "body": "b", "tagList": "tag"}},
		{"POST", "/api/articles/" + slug + "/comments", "comment", map[string]string{"body": "b"}},
	} {
		for field := range c.fields {
			for _, bad := range badTexts {
				t.Run(fmt.Sprintf("%s %s %s %s", c.method, c.path, field, bad.name), func(t *testing.T) {
					inputs++
					var parts []string
					for f, v := range c.fields {
						if f == field {
							v = bad.json
						}
						if f == "tagList" {
							parts = append(parts, fmt.Sprintf(`"%s":["%s"]`, f, v))
						} else {
							parts = append(parts, fmt.Sprintf(`"%s":"%s"`, f, v))
						}
					}
					body := `{"` + c.envelope + `":{` + strings.Join(parts, ",") + `}}`
					msg := bad.decodeMsg
					if msg == "" {
						msg = malformed
						if field == "tagList" {
							msg = "tags " + malformed
						}
					}
					want, _ := json.Marshal(map[string]any{"errors": map[string][]string{field: {msg}}})
					s.do(t, c.method, c.path, token, body).want(t, http.StatusUnprocessableEntity, string(want))
				})
			}
		}
	}

	// Legacy path and query parameters.
	articleGone := `{"errors":{"body":["article not found"]}}`
	for _, bad := range badTexts {
		for _, c := range []struct{ method, path, body, want string }{
			{"GET", "/api/profiles/{bad}", "", `{"errors":{"body":["profile not found"]}}`},
			{"POST", "/api/profiles/{bad}/follow", "", `{"errors":{"body":["profile not found"]}}`},
			{"DELETE", "/api/profiles/{bad}/follow", "", `{"errors":{"body":["profile not found"]}}`},
			{"GET", "/api/articles/{bad}", "", articleGone},
			{"PUT", "/api/articles/{bad}", `{"article":{"title":"x"}}`, articleGone},
			{"DELETE", "/api/articles/{bad}", "", articleGone},
			{"POST", "/api/articles/{bad}/favorite", "", articleGone},
			{"DELETE", "/api/articles/{bad}/favorite", "", articleGone},
			{"GET", "/api/articles/{bad}/comments", "", articleGone},
			{"POST", "/api/articles/{bad}/comments", `{"comment":{"body":"x"}}`, articleGone},
			{"DELETE", "/api/articles/{bad}/comments/" + commentID, "", articleGone},
			{"DELETE", "/api/articles/" + slug + "/comments/{bad}", "", `{"errors":{"body":["comment not found"]}}`},
		} {
			path := strings.ReplaceAll(c.path, "{bad}", bad.url)
			t.Run(c.method+" "+path, func(t *testing.T) {
				inputs++
				s.do(t, c.method, path, token, c.body).want(t, http.StatusNotFound, c.want)
			})
		}
		for _, c := range []struct{ path, field, msg string }{
			{"/api/articles?tag={bad}", "tag", malformed},
			{"/api/articles?author={bad}", "author", malformed},
			{"/api/articles?favorited={bad}", "favorited", malformed},
			{"/api/articles?limit={bad}", "limit", "must be an integer"},
			{"/api/articles?offset={bad}", "offset", "must be an integer"},
			{"/api/articles/feed?limit={bad}", "limit", "must be an integer"},
			{"/api/articles/feed?offset={bad}", "offset", "must be an integer"},
		} {
			path := strings.ReplaceAll(c.path, "{bad}", bad.url)
			t.Run("GET "+path, func(t *testing.T) {
				inputs++
				want, _ := json.Marshal(map[string]any{"errors": map[string][]string{c.field: {c.msg}}})
				s.do(t, "GET", path, token, "").want(t, http.StatusUnprocessableEntity, string(want))
			})
		}
	}

	// GraphQL: NUL in variables reaches the service; invalid UTF-8 makes
	// the whole body malformed JSON text, a request error.
	type gqlCase struct {
		name, doc, vars string // vars holds {bad}
		want            string // the data, or the errors' codes as "errors:CODE"
	}
	userError := func(mutation, field string) string {
		msg := field + " " + malformed
		if field == "tagList" {
			msg = "tagList tags " + malformed
		}
		return fmt.Sprintf(`{"%s":{"userErrors":[{"field":["input","%s"],"message":"%s","code":"INVALID"}]}}`, mutation, field, msg)
	}
	var gql []gqlCase
	for _, f := range []string{"username", "email", "password"} {
		gql = append(gql, gqlCase{"register " + f, `mutation($input: RegisterInput!) { register(input: $input) { userErrors { field message code } } }`,
			strings.Replace(`{"input":{"username":"nova","email":"nova@example.com","password":"password1"}}`, `"`+f+`":"`, `"`+f+`":"{bad}`, 1),
			userError("register", f)})
	}
	for _, f := range []string{"email", "password"} {
		gql = append(gql, gqlCase{"login " + f, `mutation($input: LoginInput!) { login(input: $input) { userErrors { field message code } } }`,
			strings.Replace(`{"input":{"email":"hank@example.com","password":"password1"}}`, `"`+f+`":"`, `"`+f+`":"{bad}`, 1),
			userError("login", f)})
	}
	for _, f := range []string{"username", "email", "password", "bio", "image"} {
		gql = append(gql, gqlCase{"updateViewer " + f, `mutation($input: UpdateViewerInput!) { updateViewer(input: $input) { userErrors { field message code } } }`,
			`{"input":{"` + f + `":"{bad}"}}`, userError("updateViewer", f)})
	}
	for _, f := range []string{"title", "description", "body"} {
		gql = append(gql, gqlCase{"createArticle " + f, `mutation($input: CreateArticleInput!) { createArticle(input: $input) { userErrors { field message code } } }`,
			strings.Replace(`{"input":{"title":"t","description":"d","body":"b","tagList":[]}}`, `"`+f+`":"`, `"`+f+`":"{bad}`, 1),
			userError("createArticle", f)})
		gql = append(gql, gqlCase{"updateArticle " + f, `mutation($input: UpdateArticleInput!) { updateArticle(input: $input) { userErrors { field message code } } }`,
			`{"input":{"slug":"` + slug + `","` + f + `":"{bad}"}}`, userError("updateArticle", f)})
	}
	gql = append(gql,
		gqlCase{"createArticle tagList", `mutation($input: CreateArticleInput!) { createArticle(input: $input) { userErrors { field message code } } }`,
			`{"input":{"title":"t","description":"d","body":"b","tagList":["{bad}"]}}`, userError("createArticle", "tagList")},
		gqlCase{"addComment body", `mutation($input: AddCommentInput!) { addComment(input: $input) { userErrors { field message code } } }`,
			`{"input":{"articleSlug":"` + slug + `","body":"{bad}"}}`, userError("addComment", "body")},
		gqlCase{"addComment slug", `mutation($input: AddCommentInput!) { addComment(input: $input) { userErrors { field } } }`,
			`{"input":{"articleSlug":"{bad}","body":"b"}}`, "errors:NOT_FOUND"},
		gqlCase{"updateArticle slug", `mutation($input: UpdateArticleInput!) { updateArticle(input: $input) { userErrors { field } } }`,
			`{"input":{"slug":"{bad}","title":"t"}}`, "errors:NOT_FOUND"},
		gqlCase{"deleteArticle slug", `mutation($input: DeleteArticleInput!) { deleteArticle(input: $input) { userErrors { field } } }`,
			`{"input":{"slug":"{bad}"}}`, "errors:NOT_FOUND"},
		gqlCase{"favoriteArticle slug", `mutation($input: FavoriteArticleInput!) { favoriteArticle(input: $input) { userErrors { field } } }`,
			`{"input":{"slug":"{bad}"}}`, "errors:NOT_FOUND"},
		gqlCase{"followProfile username", `mutation($input: FollowProfileInput!) { followProfile(input: $input) { userErrors { field } } }`,
			`{"input":{"username":"{bad}"}}`, "errors:NOT_FOUND"},
		gqlCase{"article slug", `query($s: String!) { article(slug: $s) { title } }`, `{"s":"{bad}"}`, `{"article":null}`},
		gqlCase{"profile username", `query($s: String!) { profile(username: $s) { username } }`, `{"s":"{bad}"}`, `{"profile":null}`},
		gqlCase{"articles tag", `query($s: String!) { articles(filter: {tag: $s}) { totalCount } }`, `{"s":"{bad}"}`, "errors:BAD_USER_INPUT"},
		gqlCase{"articles author", `query($s: String!) { articles(filter: {author: $s}) { totalCount } }`, `{"s":"{bad}"}`, "errors:BAD_USER_INPUT"},
		gqlCase{"articles cursor", `query($s: String!) { articles(after: $s) { totalCount } }`, `{"s":"{bad}"}`, "errors:BAD_USER_INPUT"},
		gqlCase{"node id", `query($s: ID!) { node(id: $s) { id } }`, `{"s":"{bad}"}`, `{"node":null}`},
	)
	for _, bad := range badTexts {
		for _, c := range gql {
			t.Run("GraphQL "+c.name+" "+bad.name, func(t *testing.T) {
				inputs++
				body := `{"query":` + strconv.Quote(c.doc) + `,"variables":` + strings.ReplaceAll(c.vars, "{bad}", bad.json) + `}`
				r := s.do(t, "POST", "/graphql", token, body)
				if bad.decodeMsg != "" {
					r.want(t, http.StatusBadRequest, `{"errors":[{"message":"the request body is not valid UTF-8","extensions":{"code":"BAD_REQUEST"}}]}`)
					return
				}
				var res struct {
					Data   json.RawMessage
					Errors []struct{ Extensions map[string]any }
				}
				if r.status != http.StatusOK || json.Unmarshal(r.body, &res) != nil {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				if code, ok := strings.CutPrefix(c.want, "errors:"); ok {
					if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != code {
						t.Fatalf("response %s, want one %s error", r.body, code)
					}
					return
				}
				if len(res.Errors) != 0 {
					t.Fatalf("errors: %s", r.body)
				}
				reply{status: 200, body: res.Data}.want(t, 200, c.want)
			})
		}
	}

	if after := rows(); after != before {
		t.Errorf("rows changed: %s, then %s", before, after)
	}
	if ls := s.logs.lines(map[string]any{"level": "ERROR"}); len(ls) != 0 {
		t.Errorf("errors logged: %v", ls)
	}
	if inputs < 76 {
		t.Errorf("%d hostile inputs, want at least the 76 of the report", inputs)
	}
}
