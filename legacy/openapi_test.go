package legacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/goccy/go-yaml"

	"github.com/conduit-dev/conduit/legacy"
)

// loadOpenAPI loads the document the server serves and validates it as
// OpenAPI 3.1, examples included.
var loadOpenAPI = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(legacy.OpenAPIJSON())
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return doc, nil
})

func mustOpenAPI(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := loadOpenAPI()
	if err != nil {
		t.Fatalf("the OpenAPI document: %v", err)
	}
	return doc
}

// findOperation finds the operation of the document that serves method and
// path the way the server's router does (a trailing slash is ignored, a
// static segment wins over a parameter), with the path parameters. ok is
// false when the document has no operation there.
func findOperation(doc *openapi3.T, method, path string) (*routers.Route, map[string]string, bool) {
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	var best *routers.Route
	var bestParams map[string]string
	bestStatic := -1
	for tmpl, item := range doc.Paths.Map() {
		op := item.GetOperation(method)
		if op == nil {
			continue
		}
		want := strings.Split(tmpl, "/")
		if len(want) != len(segs) {
			continue
		}
		params, static := map[string]string{}, 0
		ok := true
		for i, w := range want {
			switch {
			case strings.HasPrefix(w, "{"):
				if segs[i] == "" {
					ok = false
				}
				v, err := url.PathUnescape(segs[i])
				if err != nil {
					v = segs[i]
				}
				params[strings.Trim(w, "{}")] = v
			case w == segs[i]:
				static++
			default:
				ok = false
			}
		}
		if ok && static > bestStatic {
			best = &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op}
			bestParams, bestStatic = params, static
		}
	}
	return best, bestParams, best != nil
}

// checkOpenAPI fails t when the answer to req is not what the document
// says (openAPIProblem).
func checkOpenAPI(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := openAPIProblem(req, status, header, body); err != nil {
		t.Fatalf("OpenAPI: %v", err)
	}
}

// openAPIProblem says how the answer to req is not what the document says
// the operation answers: a status it does not list, a header it requires
// missing, a body that does not match the schema (which allows no key it
// does not name), or a body where it documents none. A request that no
// operation serves must still be answered in the error envelope.
func openAPIProblem(req *http.Request, status int, header http.Header, body []byte) error {
	doc, err := loadOpenAPI()
	if err != nil {
		return fmt.Errorf("the document: %w", err)
	}
	route, params, ok := findOperation(doc, req.Method, req.URL.Path)
	if !ok {
		errs := doc.Components.Schemas["Errors"].Value
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("%s %s is no operation, and its %d answer is not JSON: %s", req.Method, req.URL.Path, status, body)
		}
		if err := errs.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			return fmt.Errorf("%s %s is no operation, and its %d answer is not the error envelope: %v", req.Method, req.URL.Path, status, err)
		}
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("the %d answer to %s %s is not what %s %s documents: %v\nbody: %s",
			status, req.Method, req.URL.Path, route.Method, route.Path, err, body)
	}
	if res := route.Operation.Responses.Status(status).Value; len(res.Content) == 0 && len(body) > 0 {
		return fmt.Errorf("%s %s documents no body for %d, and the answer has one: %s", route.Method, route.Path, status, body)
	}
	return nil
}

// TestOpenAPICheckCatches makes sure the check of every answer has teeth:
// it refuses answers that differ from the document in each way it guards.
func TestOpenAPICheckCatches(t *testing.T) {
	a := newAPI(t)
	token := a.mustRegister("jane")
	req := func(method, path string) *http.Request {
		r, err := http.NewRequest(method, a.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	get := func(path, token string) (*http.Request, response) {
		return req("GET", path), a.do("GET", path, token, "")
	}
	tagsReq, tags := get("/api/tags", "")
	userReq, user := get("/api/user", token)
	// Accepted as they are.
	for _, c := range []struct {
		r   *http.Request
		res response
	}{{tagsReq, tags}, {userReq, user}} {
		if err := openAPIProblem(c.r, c.res.status, c.res.header, c.res.body); err != nil {
			t.Fatalf("the real answer: %v", err)
		}
	}
	without := func(h http.Header, name string) http.Header {
		c := h.Clone()
		c.Del(name)
		return c
	}
	for _, c := range []struct {
		name   string
		r      *http.Request
		status int
		header http.Header
		body   string
	}{
		{"an undocumented status", tagsReq, http.StatusTeapot, tags.header, string(tags.body)},
		{"an undocumented key", tagsReq, 200, tags.header, `{"tags":[],"total":0}`},
		{"a missing key", userReq, 200, user.header, `{"user":{"email":"jane@example.com","token":"x.y.z","username":"jane","bio":null}}`},
		{"a wrong type", tagsReq, 200, tags.header, `{"tags":"dragons"}`},
		{"null where it is not allowed", userReq, 200, user.header, strings.Replace(string(user.body), `"username":"jane"`, `"username":null`, 1)},
		{"a timestamp without milliseconds", req("GET", "/api/articles"), 200, tags.header,
			`{"articles":[{"slug":"s","title":"t","description":"d","tagList":[],"createdAt":"2026-12-01T10:00:00Z","updatedAt":"2026-12-01T10:00:00.000Z","favorited":false,"favoritesCount":0,"author":{"username":"u","bio":null,"image":null,"following":false}}],"articlesCount":1}`},
		{"a body in a list item", req("GET", "/api/articles"), 200, tags.header,
			`{"articles":[{"slug":"s","title":"t","description":"d","body":"b","tagList":[],"createdAt":"2026-12-01T10:00:00.000Z","updatedAt":"2026-12-01T10:00:00.000Z","favorited":false,"favoritesCount":0,"author":{"username":"u","bio":null,"image":null,"following":false}}],"articlesCount":1}`},
		{"an error outside the envelope", tagsReq, 503, tags.header, `{"error":"down"}`},
		{"a 503 without Retry-After", tagsReq, 503, tags.header, `{"errors":{"body":["down"]}}`},
		{"a 200 without X-Request-Id", tagsReq, 200, without(tags.header, "X-Request-Id"), string(tags.body)},
		{"a token without Cache-Control: no-store", userReq, 200, without(user.header, "Cache-Control"), string(user.body)},
		{"a body on a 204", req("DELETE", "/api/articles/a-slug"), 204, tags.header, `{}`},
		{"an unknown route without the envelope", req("GET", "/api/nothing"), 404, tags.header, `not found`},
	} {
		if err := openAPIProblem(c.r, c.status, c.header, []byte(c.body)); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// TestOpenAPIValid loads the served document as kin-openapi does, which
// checks it against OpenAPI 3.1, its examples against its schemas
// included.
func TestOpenAPIValid(t *testing.T) {
	doc := mustOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
}

// TestOpenAPIMatchesRoutes fails when an operation of the route table is
// not in the document, or the document has one the table does not: the
// method, the path, the operationId, the GraphQL replacement, the
// deprecation and the security follow the table.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := mustOpenAPI(t)
	documented := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+path] = op
		}
	}
	routes := legacy.Routes()
	if len(routes) != 19 {
		t.Errorf("len(legacy.Routes()) = %d, want 19", len(routes))
	}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		op, ok := documented[key]
		if !ok {
			t.Errorf("%s is served but not documented", key)
			continue
		}
		delete(documented, key)
		if op.OperationID != r.OperationID {
			t.Errorf("%s: operationId = %q, want %q", key, op.OperationID, r.OperationID)
		}
		if !op.Deprecated {
			t.Errorf("%s is not marked deprecated", key)
		}
		if got := op.Extensions["x-graphql-replacement"]; got != r.GraphQL {
			t.Errorf("%s: x-graphql-replacement = %v, want %q", key, got, r.GraphQL)
		}
		if !strings.Contains(op.Description, "`"+r.GraphQL+"`") {
			t.Errorf("%s: the description does not name %s", key, r.GraphQL)
		}
		// No requirement at all, or an empty one among them, lets
		// anonymous callers in.
		anonymous, token := len(*op.Security) == 0, false
		for _, req := range *op.Security {
			anonymous = anonymous || len(req) == 0
			_, hasToken := req["Token"]
			_, hasBearer := req["Bearer"]
			token = token || hasToken || hasBearer
		}
		if want := r.Auth != legacy.Public; token != want {
			t.Errorf("%s (auth %s): takes a token = %v, want %v", key, r.Auth, token, want)
		}
		if want := r.Auth == legacy.Public || r.Auth == legacy.Optional; anonymous != want {
			t.Errorf("%s (auth %s): anonymous callers allowed = %v, want %v", key, r.Auth, anonymous, want)
		}
	}
	for key := range documented {
		t.Errorf("%s is documented but not served", key)
	}
}

// TestOpenAPIErrorCases checks the statuses each operation documents
// beyond its success: the ones every operation can answer, and those that
// follow from its kind.
func TestOpenAPIErrorCases(t *testing.T) {
	doc := mustOpenAPI(t)
	for _, r := range legacy.Routes() {
		op := doc.Paths.Find(r.Path).GetOperation(r.Method)
		has := func(status int) bool { return op.Responses.Status(status) != nil }
		header := func(status int, name string) bool {
			res := op.Responses.Status(status)
			return res != nil && res.Value.Headers[name] != nil && res.Value.Headers[name].Value.Required
		}
		key := r.Method + " " + r.Path
		for _, s := range []int{500, 503} {
			if !has(s) {
				t.Errorf("%s documents no %d", key, s)
			}
		}
		if !header(503, "Retry-After") {
			t.Errorf("%s: 503 without a required Retry-After", key)
		}
		if r.Auth != legacy.Public && !header(401, "WWW-Authenticate") {
			t.Errorf("%s (auth %s): no 401 with WWW-Authenticate", key, r.Auth)
		}
		if (r.Auth == legacy.AuthorOnly || r.Auth == legacy.CommentAuthorOnly) != has(403) {
			t.Errorf("%s (auth %s): documents 403 = %v", key, r.Auth, has(403))
		}
		if body := op.RequestBody != nil; body != has(413) || body && !has(422) {
			t.Errorf("%s: a request body = %v, but 413 = %v and 422 = %v", key, body, has(413), has(422))
		}
		if limited := r.OperationID == "login" || r.OperationID == "register"; limited != header(429, "Retry-After") {
			t.Errorf("%s: 429 with Retry-After = %v, want %v", key, !limited, limited)
		}
		if strings.Contains(r.Path, "{") && !has(404) {
			t.Errorf("%s names something in its path and documents no 404", key)
		}
		// Every GET but the current user's, whose answer carries a token,
		// is conditional: its 304 has no body and the 200's tag.
		if conditional := r.Method == "GET" && r.OperationID != "getCurrentUser"; conditional != has(304) || conditional && !header(200, "Cache-Control") {
			t.Errorf("%s: documents 304 = %v and a 200 with Cache-Control = %v, want %v", key, has(304), header(200, "Cache-Control"), conditional)
		} else if conditional && (!header(304, "Cache-Control") || !header(304, "Vary") || len(op.Responses.Status(304).Value.Content) != 0) {
			t.Errorf("%s: the 304 has a body, or lacks Cache-Control or Vary", key)
		}
		for status, res := range op.Responses.Map() {
			if status == "304" {
				continue
			}
			if status[0] != '2' && res.Value.Content.Get("application/json").Schema.Ref != "#/components/schemas/Errors" {
				t.Errorf("%s: %s is not answered with the error envelope", key, status)
			}
		}
	}
}

// TestOpenAPILimits checks that the service's text limits are in the
// request schemas.
func TestOpenAPILimits(t *testing.T) {
	doc := mustOpenAPI(t)
	field := func(component, envelope, name string) *openapi3.Schema {
		t.Helper()
		s := doc.Components.Schemas[component].Value.Properties[envelope].Value.Properties[name]
		if s == nil {
			t.Fatalf("%s has no %s.%s", component, envelope, name)
		}
		return s.Value
	}
	for _, c := range []struct {
		component, envelope, name string
		min, max                  uint64
	}{
		{"RegisterRequest", "user", "username", 0, 64},
		{"RegisterRequest", "user", "email", 0, 254},
		{"RegisterRequest", "user", "password", 8, 72},
		{"UpdateUserRequest", "user", "username", 0, 64},
		{"UpdateUserRequest", "user", "password", 8, 72},
		{"UpdateUserRequest", "user", "bio", 0, 300},
		{"UpdateUserRequest", "user", "image", 0, 2048},
		{"NewArticleRequest", "article", "title", 0, 255},
		{"NewArticleRequest", "article", "description", 0, 300},
		{"NewArticleRequest", "article", "body", 0, 100_000},
		{"UpdateArticleRequest", "article", "body", 0, 100_000},
		{"NewCommentRequest", "comment", "body", 0, 10_000},
	} {
		s := field(c.component, c.envelope, c.name)
		if s.MinLength != c.min || s.MaxLength == nil || *s.MaxLength != c.max {
			t.Errorf("%s %s.%s: minLength %d, maxLength %v; want %d, %d", c.component, c.envelope, c.name, s.MinLength, s.MaxLength, c.min, c.max)
		}
	}
	tags := field("NewArticleRequest", "article", "tagList")
	if tags.MaxItems == nil || *tags.MaxItems != 32 || tags.Items.Value.MaxLength == nil || *tags.Items.Value.MaxLength != 64 {
		t.Errorf("tagList: maxItems %v, items' maxLength %v; want 32, 64", tags.MaxItems, tags.Items.Value.MaxLength)
	}
}

// TestOpenAPIServed fetches the document in JSON and YAML from the server:
// both are the same document.
func TestOpenAPIServed(t *testing.T) {
	a := newAPI(t)
	j := a.do("GET", "/api/openapi.json", "", "")
	y := a.do("GET", "/api/openapi.yaml", "", "")
	for _, c := range []struct {
		r  response
		ct string
	}{{j, "application/json; charset=utf-8"}, {y, "application/yaml; charset=utf-8"}} {
		if c.r.status != http.StatusOK || c.r.header.Get("Content-Type") != c.ct {
			t.Fatalf("status %d, Content-Type %q; want 200, %s", c.r.status, c.r.header.Get("Content-Type"), c.ct)
		}
		if got := c.r.header.Get("Content-Security-Policy"); got != "default-src 'none'; frame-ancestors 'none'" {
			t.Errorf("Content-Security-Policy = %q, want the chain's", got)
		}
	}
	if !bytes.Equal(j.body, legacy.OpenAPIJSON()) {
		t.Error("/api/openapi.json is not legacy.OpenAPIJSON()")
	}
	var fromJSON, fromYAML any
	if err := json.Unmarshal(j.body, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(y.body, &fromYAML); err != nil {
		t.Fatal(err)
	}
	jb, _ := json.Marshal(fromJSON)
	yb, _ := json.Marshal(fromYAML)
	if !bytes.Equal(jb, yb) {
		t.Error("the YAML document is not the JSON one")
	}
	// The YAML loads as OpenAPI too: status codes stay strings.
	if _, err := openapi3.NewLoader().LoadFromData(y.body); err != nil {
		t.Errorf("load the YAML document: %v", err)
	}
}

// TestOpenAPIExamplesMatchTheWire checks that every example of a success
// is shaped like what the server sends: the timestamp format included.
func TestOpenAPIExamplesMatchTheWire(t *testing.T) {
	doc := mustOpenAPI(t)
	ts := regexp.MustCompile(`"(createdAt|updatedAt)":"2026-12-01T1\d:\d{2}:00\.000Z"`)
	for _, r := range legacy.Routes() {
		op := doc.Paths.Find(r.Path).GetOperation(r.Method)
		for status, res := range op.Responses.Map() {
			mt := res.Value.Content.Get("application/json")
			if mt == nil {
				continue
			}
			if len(mt.Examples) == 0 {
				t.Errorf("%s %s: %s has no example", r.Method, r.Path, status)
			}
			for name, ex := range mt.Examples {
				b, _ := json.Marshal(ex.Value.Value)
				if strings.Contains(string(b), "At\":") && !ts.Match(b) {
					t.Errorf("%s %s %s %s: timestamps not in the wire format: %s", r.Method, r.Path, status, name, b)
				}
			}
		}
	}
	if !slices.ContainsFunc(legacy.Routes(), func(r legacy.Route) bool { return r.Path == "/api/articles" }) {
		t.Fatal("no /api/articles")
	}
	list := doc.Components.Schemas["ListedArticle"].Value
	if _, ok := list.Properties["body"]; ok {
		t.Error("ListedArticle has a body; list items carry none")
	}
}
