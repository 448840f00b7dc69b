package legacy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/web"
)

// The OpenAPI 3.1 document of the legacy API, built from the route table
// (routes.go), the wire types (dto.go, reflected by schema.go) and the prose
// of operations.go. Nothing in it is written by hand twice: a route, a
// field or a limit exists in the document because it exists in the code.

// OpenAPI 3.1 objects, as much of them as the document uses. Fields are
// written in the order declared.
type (
	document struct {
		OpenAPI    string        `json:"openapi"`
		Info       info          `json:"info"`
		Servers    []server      `json:"servers"`
		Tags       []tag         `json:"tags"`
		Paths      paths         `json:"paths"`
		Components docComponents `json:"components"`
	}
	info struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Summary     string `json:"summary"`
		Description string `json:"description"`
	}
	server struct {
		URL         string `json:"url"`
		Description string `json:"description"`
	}
	tag struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	pathItem struct {
		Parameters []*parameterObject `json:"parameters,omitempty"`
		Get        *operationObject   `json:"get,omitempty"`
		Put        *operationObject   `json:"put,omitempty"`
		Post       *operationObject   `json:"post,omitempty"`
		Delete     *operationObject   `json:"delete,omitempty"`
	}
	operationObject struct {
		Tags        []string                   `json:"tags"`
		Summary     string                     `json:"summary"`
		Description string                     `json:"description"`
		OperationID string                     `json:"operationId"`
		Deprecated  bool                       `json:"deprecated"`
		Parameters  []*parameterObject         `json:"parameters,omitempty"`
		RequestBody *requestBody               `json:"requestBody,omitempty"`
		Responses   map[string]*responseObject `json:"responses"`
		Security    []map[string][]string      `json:"security"`
		// GraphQL names the field that replaces the operation.
		GraphQL string `json:"x-graphql-replacement"`
	}
	parameterObject struct {
		Name        string  `json:"name"`
		In          string  `json:"in"`
		Description string  `json:"description"`
		Required    bool    `json:"required"`
		Schema      *schema `json:"schema"`
		Example     any     `json:"example,omitempty"`
	}
	requestBody struct {
		Description string               `json:"description,omitempty"`
		Required    bool                 `json:"required"`
		Content     map[string]mediaType `json:"content"`
	}
	mediaType struct {
		Schema   *schema            `json:"schema"`
		Examples map[string]example `json:"examples,omitempty"`
	}
	example struct {
		Summary string `json:"summary,omitempty"`
		Value   any    `json:"value"`
	}
	responseObject struct {
		Description string                   `json:"description"`
		Headers     map[string]*headerObject `json:"headers,omitempty"`
		Content     map[string]mediaType     `json:"content,omitempty"`
	}
	headerObject struct {
		Ref         string  `json:"$ref,omitempty"`
		Description string  `json:"description,omitempty"`
		Required    bool    `json:"required,omitempty"`
		Schema      *schema `json:"schema,omitempty"`
	}
	docComponents struct {
		Schemas         map[string]*schema        `json:"schemas"`
		Headers         map[string]*headerObject  `json:"headers"`
		SecuritySchemes map[string]securityScheme `json:"securitySchemes"`
	}
	securityScheme struct {
		Type         string `json:"type"`
		Description  string `json:"description"`
		Name         string `json:"name,omitempty"`
		In           string `json:"in,omitempty"`
		Scheme       string `json:"scheme,omitempty"`
		BearerFormat string `json:"bearerFormat,omitempty"`
	}
	// paths keeps the order of the route table.
	paths = ordered[*pathItem]
)

// parameter is a query parameter of a route.
type parameter struct {
	name, description string
	schema            *schema
	example           any
}

// pathParameters describes the parameters of the route patterns.
var pathParameters = map[string]*parameterObject{
	"username": {Description: "The user's username (compared in NFKC form, whatever its case).", Schema: &schema{Type: "string"}, Example: "jake"},
	"slug":     {Description: "The article's slug.", Schema: &schema{Type: "string"}, Example: "how-to-train-your-dragon"},
	"id": {Description: "The comment's id. One that is not a positive integer answers 404.",
		Schema: &schema{Type: "integer", Format: "int64", Minimum: ptr(1)}, Example: 1},
}

// Names of the security schemes and of the shared headers.
const (
	schemeToken  = "Token"
	schemeBearer = "Bearer"
	headerID     = "X-Request-Id"
	headerRetry  = "Retry-After"
	headerAuth   = "WWW-Authenticate"
	headerStore  = "Cache-Control"
	headerDepr   = "Deprecation"
	headerSunset = "Sunset"
	headerLink   = "Link"
	headerETag   = "ETag"
	headerVary   = "Vary"
	jsonType     = "application/json"
)

// OpenAPIJSON returns the OpenAPI document of the legacy API, as served at
// /api/openapi.json.
func OpenAPIJSON() []byte { return openAPI().json }

// OpenAPIYAML returns the same document in YAML, as served at
// /api/openapi.yaml.
func OpenAPIYAML() []byte { return openAPI().yaml }

// openAPI builds the document once: it depends on nothing but the code.
var openAPI = sync.OnceValue(func() struct{ json, yaml []byte } {
	doc := buildDocument()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		panic("legacy: encode the OpenAPI document: " + err.Error())
	}
	y, err := yaml.JSONToYAML(b.Bytes())
	if err != nil {
		panic("legacy: the OpenAPI document in YAML: " + err.Error())
	}
	return struct{ json, yaml []byte }{b.Bytes(), y}
})

var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

func buildDocument() *document {
	r := newReflector()
	doc := &document{
		OpenAPI: "3.1.0",
		Info: info{
			Title:       "Conduit legacy REST API",
			Version:     "1.1.0",
			Summary:     "The RealWorld Conduit REST API as this server answers it. Deprecated: new clients use GraphQL at /graphql.",
			Description: infoDescription,
		},
		Servers: []server{{URL: "/", Description: "This server: the document is served by the API it describes."}},
		Components: docComponents{
			Headers: map[string]*headerObject{
				headerID: {Description: "The request's id: the caller's `X-Request-Id` when it is short and printable, a new one otherwise. Logs and 500 answers name it.",
					Required: true, Schema: &schema{Type: "string"}},
				headerRetry: {Description: "Whole seconds to wait before trying again.", Required: true, Schema: &schema{Type: "integer", Minimum: ptr(1)}},
				headerAuth:  {Description: "The scheme to authenticate with.", Required: true, Schema: &schema{Type: "string", Examples: []any{`Token realm="conduit"`}}},
				headerStore: {Description: "An answer that carries a token, or a 410, is kept out of every cache.", Required: true, Schema: &schema{Type: "string", Examples: []any{"no-store"}}},
				headerDepr: {Description: "When the operation is (or will be) deprecated, as `@` and a Unix time (RFC 9745). Sent once the server's operator announces the retirement (`LEGACY_DEPRECATED_AT`).",
					Schema: &schema{Type: "string", Pattern: `^@-?[0-9]+$`, Examples: []any{"@1798761600"}}},
				headerSunset: {Description: "When the operation is expected to stop answering, as an HTTP date (RFC 8594). Sent with `Deprecation` when a sunset is set.",
					Schema: &schema{Type: "string", Pattern: `^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$`, Examples: []any{"Mon, 01 Mar 2027 00:00:00 GMT"}}},
				headerLink: {Description: "Sent with `Deprecation`, and with every 410: the operation's section of the migration guide (`rel=\"deprecation\"`), titled with the GraphQL field that replaces it.",
					Schema: &schema{Type: "string", Examples: []any{`</docs/migration.md#tags>; rel="deprecation"; type="text/markdown"; title="replaced by the GraphQL field Query.tags"`}}},
				headerETag: {Description: "The answer's strong entity tag, made from its body and, for a request with a token, from who sent it: " +
					"one viewer's tag never matches another's answer, nor an anonymous one. Send it back in `If-None-Match` to be answered 304 while nothing changed. " +
					"Sent with every 200 and 304 of a GET but one whose body is over 1 MiB, which goes out as it is written, untagged.",
					Schema: &schema{Type: "string", Pattern: `^"[A-Za-z0-9_-]{22}"$`, Examples: []any{`"q1b9XwJz0cT3k5Lm8Yp2Aw"`}}},
				headerVary: {Description: "`Authorization`: the answer depends on the token sent (or on none being sent).",
					Required: true, Schema: &schema{Type: "string", Examples: []any{"Authorization"}}},
			},
			SecuritySchemes: map[string]securityScheme{
				schemeToken: {Type: "apiKey", In: "header", Name: "Authorization",
					Description: "The legacy form: the header `Authorization: Token <jwt>`, with the token from sign-in, sign-up or the current user. Enter `Token <jwt>` whole."},
				schemeBearer: {Type: "http", Scheme: "bearer", BearerFormat: "JWT",
					Description: "The same token as `Authorization: Bearer <jwt>`, which this server accepts too (and GraphQL clients use)."},
			},
		},
	}
	for _, t := range docTags {
		doc.Tags = append(doc.Tags, tag{Name: t.name, Description: t.description})
	}
	for _, rt := range routes {
		path := apiPrefix + rt.pattern
		i := slices.IndexFunc(doc.Paths, func(e member[*pathItem]) bool { return e.key == path })
		if i < 0 {
			item := &pathItem{}
			for _, m := range pathParam.FindAllStringSubmatch(rt.pattern, -1) {
				p := *pathParameters[m[1]]
				p.Name, p.In, p.Required = m[1], "path", true
				item.Parameters = append(item.Parameters, &p)
			}
			doc.Paths = append(doc.Paths, member[*pathItem]{path, item})
			i = len(doc.Paths) - 1
		}
		op := rt.doc.object(r, rt.method, path)
		item := doc.Paths[i].value
		switch rt.method {
		case http.MethodGet:
			item.Get = op
		case http.MethodPut:
			item.Put = op
		case http.MethodPost:
			item.Post = op
		case http.MethodDelete:
			item.Delete = op
		default:
			panic("legacy: the document has no place for " + rt.method)
		}
	}
	doc.Components.Schemas = r.schemas
	return doc
}

// object is the operation's OpenAPI Operation Object.
func (o operation) object(r *reflector, method, path string) *operationObject {
	op := &operationObject{
		Tags:        []string{o.tag},
		Summary:     o.summary,
		OperationID: o.id,
		Deprecated:  true,
		GraphQL:     o.graphql,
		Description: fmt.Sprintf("%s\n\n**Auth:** %s.\n\n**Deprecated:** use the GraphQL field `%s` (`POST /graphql`); "+
			"docs/migration.md shows this call beside it.", o.description, accessText[o.auth], o.graphql),
		Responses: map[string]*responseObject{},
	}
	for _, q := range o.query {
		op.Parameters = append(op.Parameters, &parameterObject{Name: q.name, In: "query", Description: q.description, Schema: q.schema, Example: q.example})
	}
	op.Parameters = append(op.Parameters, clientNameParameter)
	cond := conditional(method, o)
	if cond {
		op.Parameters = append(op.Parameters, ifNoneMatchParameter)
	}
	switch o.auth {
	case Public:
		op.Security = []map[string][]string{}
	case Optional:
		op.Security = []map[string][]string{{}, {schemeToken: {}}, {schemeBearer: {}}}
	default:
		op.Security = []map[string][]string{{schemeToken: {}}, {schemeBearer: {}}}
	}
	if o.request != nil {
		op.RequestBody = &requestBody{
			Required: true,
			Content: map[string]mediaType{jsonType: {
				Schema:   r.schemaOf(o.request, true, ""),
				Examples: map[string]example{"example": {Value: json.RawMessage(o.requestExample)}},
			}},
		}
	}

	success := &responseObject{Description: http.StatusText(o.status), Headers: headers(headerID)}
	if o.noStore {
		success.Headers = headers(headerID, headerStore)
	}
	if cond {
		success.Headers = revalidationHeaders()
		op.Responses[strconv.Itoa(http.StatusNotModified)] = &responseObject{
			Description: "Not Modified: `If-None-Match` matched the answer's `ETag`. The body is empty; the headers are those of the 200 it stands for.",
			Headers:     revalidationHeaders(),
		}
	}
	if o.response != nil {
		body, err := json.Marshal(o.response)
		if err != nil {
			panic(fmt.Sprintf("legacy: the example of %s %s: %v", method, path, err))
		}
		success.Content = map[string]mediaType{jsonType: {
			Schema:   r.schemaOf(reflect.TypeOf(o.response), false, ""),
			Examples: map[string]example{"example": {Value: json.RawMessage(body)}},
		}}
	} else {
		success.Description += ": the body is empty."
	}
	op.Responses[strconv.Itoa(o.status)] = success

	for _, f := range o.allFailures(method + " " + path) {
		key := strconv.Itoa(f.status)
		res, ok := op.Responses[key]
		if !ok {
			res = &responseObject{
				Headers: headers(headerID),
				Content: map[string]mediaType{jsonType: {Schema: r.schemaOf(reflect.TypeFor[errorBody](), false, ""), Examples: map[string]example{}}},
			}
			switch f.status {
			case http.StatusUnauthorized:
				res.Headers = headers(headerID, headerAuth)
			case http.StatusTooManyRequests, http.StatusServiceUnavailable:
				res.Headers = headers(headerID, headerRetry)
			case http.StatusGone:
				res.Headers = headers(headerID, headerStore)
				res.Headers[headerLink] = &headerObject{Description: "The operation's section of the migration guide.", Required: true, Schema: &schema{Type: "string"}}
			}
			op.Responses[key] = res
		}
		if res.Description != "" {
			res.Description += " "
		}
		res.Description += f.when
		name := exampleName(f.example)
		if _, dup := res.Content[jsonType].Examples[name]; dup {
			panic(fmt.Sprintf("legacy: %s %s has two %d examples named %s", method, path, f.status, name))
		}
		res.Content[jsonType].Examples[name] = example{Value: f.example}
	}
	// Any answer may announce the retirement.
	for _, res := range op.Responses {
		for _, h := range []string{headerDepr, headerSunset, headerLink} {
			if res.Headers[h] == nil {
				res.Headers[h] = &headerObject{Ref: "#/components/headers/" + h}
			}
		}
	}
	return op
}

// clientNameParameter is the header a client names itself in.
var clientNameParameter = &parameterObject{
	Name: ClientNameHeader, In: "header",
	Description: fmt.Sprintf("Names the client in the server's counts of the calls to this API, which tell its operators who still calls what before they retire it. "+
		"Letters, digits and `._-/:@+` are kept (white space becomes `-`), up to %d bytes; without it the client is counted by the family of its `User-Agent`. "+
		"It changes nothing in the answer.", maxClientName),
	Schema:  &schema{Type: "string"},
	Example: "ios-app/4.2",
}

// ifNoneMatchParameter is the header of a conditional GET.
var ifNoneMatchParameter = &parameterObject{
	Name: "If-None-Match", In: "header",
	Description: "Entity tags from earlier answers (a list, `W/` tags compared weakly, or `*`): when one matches the answer's `ETag`, " +
		"the answer is 304 with no body. Only a tag given to the same viewer can match.",
	Schema:  &schema{Type: "string"},
	Example: `"q1b9XwJz0cT3k5Lm8Yp2Aw"`,
}

// revalidationHeaders are those of a conditional GET's 200 and 304.
func revalidationHeaders() map[string]*headerObject {
	h := headers(headerID, headerETag, headerVary)
	h[headerStore] = &headerObject{
		Description: "`no-cache` for an anonymous request, `private, no-cache` for one with a token: a cache may keep the answer, " +
			"a shared cache only an anonymous one, and must revalidate it with its `ETag` before each reuse.",
		Required: true, Schema: &schema{Type: "string", Pattern: `^(private, )?no-cache$`},
	}
	return h
}

// conditional tells whether an operation's answers carry an ETag and honour
// If-None-Match: every GET but the one that returns a token, which no cache
// may keep.
func conditional(method string, o operation) bool {
	return method == http.MethodGet && !o.noStore
}

// headers refers to the shared headers by name.
func headers(names ...string) map[string]*headerObject {
	h := map[string]*headerObject{}
	for _, n := range names {
		h[n] = &headerObject{Ref: "#/components/headers/" + n}
	}
	return h
}

// exampleName names an error example after its first message.
func exampleName(e errorBody) string {
	keys := make([]string, 0, len(e.Errors))
	for k := range e.Errors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	msg := keys[0] + " " + e.Errors[keys[0]][0]
	if keys[0] == generalKey {
		msg = e.Errors[keys[0]][0]
	}
	var b strings.Builder
	for _, c := range strings.ToLower(msg) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	name := strings.TrimSuffix(b.String(), "-")
	// A few words name it; the value says the rest.
	if parts := strings.Split(name, "-"); len(parts) > 4 {
		name = strings.Join(parts[:4], "-")
	}
	return name
}

var accessText = map[Access]string{
	Public:            "none: a token is not looked at",
	Optional:          "optional: anonymous callers are answered, and a token that is sent must be valid",
	Required:          "required",
	AuthorOnly:        "required, and only the article's author may",
	CommentAuthorOnly: "required, and only the comment's author may",
}

// allFailures are the route's own failures and those every route of its
// kind can answer, in status order; name is the route's method and path.
func (o operation) allFailures(name string) []failure {
	var fs []failure
	switch o.auth {
	case Public:
	case Optional:
		fs = append(fs, failure{http.StatusUnauthorized,
			"A token was sent and it does not verify, has expired, was revoked by a password change, or its user is gone: a token sent is never ignored.",
			fieldError("token", "invalid token")})
	default:
		fs = append(fs, failure{http.StatusUnauthorized,
			"No token, or one that does not verify, has expired, was revoked by a password change, or whose user is gone.",
			general("authentication required")})
	}
	switch o.auth {
	case AuthorOnly:
		fs = append(fs, failure{http.StatusForbidden, "The article is someone else's.", general("forbidden")})
	case CommentAuthorOnly:
		fs = append(fs, failure{http.StatusForbidden, "The comment is someone else's.", general("forbidden")})
	}
	fs = append(fs, o.failures...)
	if o.request != nil {
		fs = append(fs,
			failure{http.StatusRequestEntityTooLarge, fmt.Sprintf("The body is over %d bytes (1 MiB).", web.MaxBodyBytes), general(errTooLarge.Fields[conduit.NoField][0])},
			failure{http.StatusUnprocessableEntity, "The body is not JSON, a field has the wrong type, or text is not valid UTF-8 or holds NUL.",
				general("invalid JSON at byte 9: invalid character '}' looking for beginning of value")},
		)
	}
	if o.rateLimited {
		fs = append(fs, failure{http.StatusTooManyRequests, "Too many attempts from this client address (or, signing in, for this account).",
			general("too many attempts; try again in 42 seconds")})
	}
	fs = append(fs,
		failure{http.StatusGone, "The legacy API is being retired: the server's operator switched it off, or scheduled a brownout that refused this call. " +
			"The message names the GraphQL field to use instead and the migration guide; `Link` points at the guide. Not sent unless configured.",
			general(name + " has been retired. " + replacementText(o.graphql, DefaultGuideURL+"#"+guideAnchor(o.graphql)))},
		failure{http.StatusInternalServerError, "A fault of the server; the message names the request id, and the log has the details.",
			general("internal server error (request id 4f3c2a1b0e9d8c7b6a5f4e3d)")},
		failure{http.StatusServiceUnavailable, "The database is down or too slow (the request timed out), or this replica is busy: try again after `Retry-After` seconds.",
			general("the service is temporarily unavailable; try again shortly")},
	)
	slices.SortStableFunc(fs, func(a, b failure) int { return a.status - b.status })
	return fs
}

const infoDescription = `The REST API that clients of the old Conduit backend use, served under ` + "`/api`" + ` beside GraphQL at ` + "`/graphql`" + `, over the same accounts, data and rules. Every operation is **deprecated**: each names the GraphQL field that replaces it, and the repository's docs/migration.md shows each call beside its replacement. docs/legacy-api.md tells the decisions a client owner needs.

This document is generated from the server's own route table and wire types, and every response of the server's tests is validated against it.

- **JSON in and out**, in one-key envelopes (` + "`{\"user\":…}`, `{\"article\":…}`" + `). Responses carry ` + "`Content-Type: application/json; charset=utf-8`" + `. Every key is always present: ` + "`bio`" + ` and ` + "`image`" + ` are ` + "`null`" + ` when unset. Unknown keys in a request are ignored; an empty body reads as ` + "`{}`" + `.
- **Auth:** ` + "`Authorization: Token <jwt>`" + ` (` + "`Bearer <jwt>`" + ` is accepted too). A token that is sent is honoured or refused with 401, even on routes open to anonymous callers (but sign-in, sign-up and tags look at none).
- **Errors:** ` + "`{\"errors\":{\"<field>\":[\"<message>\"]}}`" + `; messages about no one field are filed under ` + "`body`" + `.
- **Timestamps:** UTC with milliseconds, ` + "`2026-12-01T10:00:00.000Z`" + `.
- **Conditional GETs:** every GET but the current user's answers 200 with an ` + "`ETag`" + ` (one viewer's never matches another's) and ` + "`Vary: Authorization`" + `; an ` + "`If-None-Match`" + ` that matches it gets 304 with no body.
- **Lists** are newest first; ` + "`limit`" + ` (20 unless given, at most 100) and ` + "`offset`" + ` page them; list items carry no ` + "`body`" + `.
- **Limits:** a body over 1 MiB is refused with 413; text fields have the lengths given in the schemas (a longer value is a 422); a request that takes longer than the server's request timeout (5 s unless configured), or that finds the database down, is answered 503 with ` + "`Retry-After`" + `, as is one a busy replica sheds; sign-ins and sign-ups are rate limited (429 with ` + "`Retry-After`" + `).`
