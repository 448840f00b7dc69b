package resolvers_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/resolvers"
)

// do sends a request built by the test and reads the answer.
func do(t *testing.T, method, target, contentType string, body []byte, header map[string]string) result {
	t.Helper()
	r, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return send(t, r, request{header: header})
}

func wantStatus(t *testing.T, res result, status int, contentType string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d\nbody: %s", res.status, status, res.body)
	}
	if got := res.header.Get("Content-Type"); !strings.HasPrefix(got, contentType) {
		t.Fatalf("Content-Type = %q, want %s", got, contentType)
	}
}

const (
	jsonType     = "application/json"
	responseType = "application/graphql-response+json"
)

func TestHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustUser(t, "alice")
	get := func(t *testing.T, params url.Values, header map[string]string) result {
		t.Helper()
		return do(t, http.MethodGet, e.url+"?"+params.Encode(), "", nil, header)
	}
	postRaw := func(t *testing.T, body string, header map[string]string) result {
		t.Helper()
		return do(t, http.MethodPost, e.url, jsonType, []byte(body), header)
	}

	t.Run("GET", func(t *testing.T) {
		res := get(t, url.Values{"query": {`query($u: String!) { profile(username: $u) { username } }`}, "variables": {`{"u":"alice"}`}}, nil)
		wantStatus(t, res, http.StatusOK, jsonType)
		wantJSON(t, res.body, `{"data":{"profile":{"username":"alice"}}}`)
	})
	t.Run("GETTrailingSlash", func(t *testing.T) {
		res := do(t, http.MethodGet, e.url+"/?query=%7B__typename%7D", "", nil, nil)
		wantJSON(t, res.body, `{"data":{"__typename":"Query"}}`)
	})
	t.Run("GETOperationName", func(t *testing.T) {
		res := get(t, url.Values{"query": {`query A { a: __typename } query B { b: __typename }`}, "operationName": {"B"}}, nil)
		wantJSON(t, res.body, `{"data":{"b":"Query"}}`)
	})
	t.Run("GETRefusesMutations", func(t *testing.T) {
		before := e.db.Statements()
		res := get(t, url.Values{"query": {`mutation { login(input: {email: "alice@example.com", password: "` + testPassword + `"}) { token } }`}}, nil)
		wantStatus(t, res, http.StatusMethodNotAllowed, jsonType)
		if got := res.header.Get("Allow"); got != "POST" {
			t.Fatalf("Allow = %q, want POST", got)
		}
		wantErrorCodes(t, res, "BAD_REQUEST")
		if res.hasData() || e.db.Statements() != before {
			t.Fatalf("the mutation ran: %s", res.body)
		}
	})
	t.Run("POSTNeedsContentType", func(t *testing.T) {
		res := do(t, http.MethodPost, e.url, "", []byte(`{"query":"{ __typename }"}`), nil)
		wantStatus(t, res, http.StatusUnsupportedMediaType, jsonType)
		res = do(t, http.MethodPost, e.url, "text/plain", []byte(`{"query":"{ __typename }"}`), nil)
		wantStatus(t, res, http.StatusUnsupportedMediaType, jsonType)
		res = do(t, http.MethodPost, e.url, "application/json; charset=latin1", []byte(`{"query":"{ __typename }"}`), nil)
		wantStatus(t, res, http.StatusUnsupportedMediaType, jsonType)
	})
	t.Run("POSTCharset", func(t *testing.T) {
		res := do(t, http.MethodPost, e.url, "application/json; charset=UTF-8", []byte(`{"query":"{ __typename }"}`), nil)
		wantStatus(t, res, http.StatusOK, jsonType)
	})
	t.Run("OtherMethods", func(t *testing.T) {
		res := do(t, http.MethodPut, e.url, jsonType, []byte(`{"query":"{ __typename }"}`), nil)
		wantStatus(t, res, http.StatusMethodNotAllowed, jsonType)
		if got := res.header.Get("Allow"); got != "GET, POST" {
			t.Fatalf("Allow = %q, want GET, POST", got)
		}
	})
	for _, tc := range []struct{ name, body string }{
		{"ErrMalformedJSON", `{"query": "{ __typename }"`},
		{"ErrEmptyBody", ``},
		{"ErrNotAnObject", `["{ __typename }"]`},
		{"ErrTrailingData", `{"query": "{ __typename }"} {}`},
		{"ErrMissingQuery", `{"qeury": "{ __typename }"}`},
		{"ErrNullQuery", `{"query": null}`},
		{"ErrQueryNotAString", `{"query": {"obj": "ect"}}`},
		{"ErrOperationNameNotAString", `{"query": "{ __typename }", "operationName": 0}`},
		{"ErrVariablesNotAnObject", `{"query": "{ __typename }", "variables": "string"}`},
		{"ErrExtensionsNotAnObject", `{"query": "{ __typename }", "extensions": ["array"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, accept := range []string{jsonType, responseType} {
				res := postRaw(t, tc.body, map[string]string{"Accept": accept})
				wantStatus(t, res, http.StatusBadRequest, accept)
				wantErrorCodes(t, res, "BAD_REQUEST")
				if res.hasData() {
					t.Fatalf("a bad request has a data key: %s", res.body)
				}
			}
		})
	}
	t.Run("NullParameters", func(t *testing.T) {
		res := postRaw(t, `{"query": "{ __typename }", "operationName": null, "variables": null, "extensions": null}`, nil)
		wantStatus(t, res, http.StatusOK, jsonType)
		wantJSON(t, res.body, `{"data":{"__typename":"Query"}}`)
	})
	t.Run("ErrGETVariablesNotJSON", func(t *testing.T) {
		res := get(t, url.Values{"query": {`{ __typename }`}, "variables": {`{`}}, nil)
		wantStatus(t, res, http.StatusBadRequest, jsonType)
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		body := `{"query": "{ __typename }", "variables": {"pad": "` + strings.Repeat("x", 2<<20) + `"}}`
		res := postRaw(t, body, nil)
		wantStatus(t, res, http.StatusRequestEntityTooLarge, jsonType)
	})

	// Requests that the GraphQL layer refuses: 200 for application/json,
	// 400 for application/graphql-response+json, never a data key.
	for _, tc := range []struct{ name, body, code string }{
		{"Parse", `{"query": "{"}`, "GRAPHQL_PARSE_FAILED"},
		{"Validation", `{"query": "{ noSuchField }"}`, "GRAPHQL_VALIDATION_FAILED"},
		{"VariableCoercion", `{"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": null}}`, "GRAPHQL_VALIDATION_FAILED"},
		{"UnknownOperation", `{"query": "query A { __typename }", "operationName": "B"}`, "GRAPHQL_VALIDATION_FAILED"},
	} {
		t.Run("Err"+tc.name, func(t *testing.T) {
			for accept, status := range map[string]int{jsonType: http.StatusOK, responseType: http.StatusBadRequest} {
				res := postRaw(t, tc.body, map[string]string{"Accept": accept})
				wantStatus(t, res, status, accept)
				wantErrorCodes(t, res, tc.code)
				if res.hasData() {
					t.Fatalf("a request error has a data key: %s", res.body)
				}
			}
		})
	}
	t.Run("ExecutionErrorIs200", func(t *testing.T) {
		res := postRaw(t, `{"query": "{ feed { totalCount } }"}`, map[string]string{"Accept": responseType})
		wantStatus(t, res, http.StatusOK, responseType)
		wantErrorCodes(t, res, "UNAUTHENTICATED")
		if !res.hasData() {
			t.Fatalf("an executed operation has no data key: %s", res.body)
		}
	})

	t.Run("Negotiation", func(t *testing.T) {
		for accept, want := range map[string]string{
			"":                                  jsonType,
			"*/*":                               jsonType,
			"application/*":                     jsonType,
			"application/json":                  jsonType,
			"application/graphql-response+json": responseType,
			"application/graphql-response+json, application/json":       responseType,
			"application/json, application/graphql-response+json":       jsonType,
			"application/json;q=0.9, application/graphql-response+json": responseType,
			"application/graphql-response+json;q=0, */*":                jsonType,
			"text/plain": jsonType,
		} {
			res := postRaw(t, `{"query": "{ __typename }"}`, map[string]string{"Accept": accept})
			wantStatus(t, res, http.StatusOK, want)
		}
	})
	t.Run("UTF8", func(t *testing.T) {
		res := postRaw(t, `{"query": "{ __type(name: \"Run🏃Swim🏊\") { name } }"}`, nil)
		wantStatus(t, res, http.StatusOK, jsonType)
		wantJSON(t, res.body, `{"data":{"__type":null}}`)
	})
}

func TestPersistedQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustUser(t, "alice")
	const query = `{ profile(username: "alice") { username } }`
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	post := func(body map[string]any) result {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		return do(t, http.MethodPost, e.url, jsonType, b, nil)
	}

	t.Run("UnknownHash", func(t *testing.T) {
		res := post(map[string]any{"extensions": ext})
		wantErrorCodes(t, res, "PERSISTED_QUERY_NOT_FOUND")
		if res.hasData() {
			t.Fatalf("data key: %s", res.body)
		}
	})
	t.Run("Register", func(t *testing.T) {
		res := post(map[string]any{"query": query, "extensions": ext})
		wantJSON(t, res.body, `{"data":{"profile":{"username":"alice"}}}`)
	})
	t.Run("ByHash", func(t *testing.T) {
		res := post(map[string]any{"extensions": ext})
		wantJSON(t, res.body, `{"data":{"profile":{"username":"alice"}}}`)
	})
	t.Run("ByHashWithGET", func(t *testing.T) {
		b, _ := json.Marshal(ext)
		res := do(t, http.MethodGet, e.url+"?"+url.Values{"extensions": {string(b)}}.Encode(), "", nil, nil)
		wantJSON(t, res.body, `{"data":{"profile":{"username":"alice"}}}`)
	})
	t.Run("ErrWrongHash", func(t *testing.T) {
		res := post(map[string]any{"query": `{ __typename }`, "extensions": ext})
		if len(res.Errors) != 1 || res.hasData() {
			t.Fatalf("a query that does not match its hash ran: %s", res.body)
		}
	})
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	const q = `{ __schema { queryType { name } } }`

	t.Run("On", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		wantJSON(t, e.post(t, request{query: q}).body, `{"data":{"__schema":{"queryType":{"name":"Query"}}}}`)
		res := do(t, http.MethodGet, e.url+"/schema.graphql", "", nil, nil)
		wantStatus(t, res, http.StatusOK, "text/plain")
		for _, want := range []string{"type Article implements Node {", "scalar DateTime", "The signed-in user's own account, or null when the request is anonymous."} {
			if !strings.Contains(string(res.body), want) {
				t.Fatalf("SDL lacks %q:\n%s", want, res.body)
			}
		}
	})
	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(o *resolvers.Options) { o.Introspection = false })
		res := e.post(t, request{query: q})
		wantErrorCodes(t, res, "INTROSPECTION_DISABLED")
		if res.hasData() {
			t.Fatalf("introspection ran while off: %s", res.body)
		}
		res = e.post(t, request{query: `{ ...F } fragment F on Query { __type(name: "Article") { name } }`})
		wantErrorCodes(t, res, "INTROSPECTION_DISABLED")
		res = do(t, http.MethodGet, e.url+"/schema.graphql", "", nil, nil)
		if res.status != http.StatusNotFound {
			t.Fatalf("schema.graphql status = %d, want 404", res.status)
		}
		// Ordinary queries still name their types.
		wantJSON(t, e.post(t, request{query: `{ __typename }`}).body, `{"data":{"__typename":"Query"}}`)
	})
}
