package resolvers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conduit-dev/conduit/web"
)

// The media types of GraphQL responses. application/graphql-response+json
// lets the status code tell request errors (400) from executed operations
// (200); plain application/json answers 200 to anything the GraphQL layer
// understood, as older clients expect.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaHTML            = "text/html"
)

// The HTTP transports of the GraphQL endpoint, plugged into gqlgen's
// handler.Server beside its own SSE and WebSocket transports. gqlgen's
// transport.POST and transport.GET differ from the GraphQL-over-HTTP
// specification where its SHOULDs are concerned (a request error answers
// "data": null, and a validation error 200 under
// application/graphql-response+json when the Accept header lists it after
// another type), echo the request body in their decoding errors, and take
// invalid UTF-8 as U+FFFD; these keep to the specification and to our
// limits. Each is what a fix of the upstream transports would look like:
// the same Supports/Do, with the parsing and the writing below.

// postTransport serves POST with a JSON body. It takes every POST that is
// not a WebSocket upgrade (SSE is tried first), so that a wrong
// Content-Type gets a 415 rather than gqlgen's "transport not supported".
type postTransport struct{ logger *slog.Logger }

func (postTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && r.Header.Get("Upgrade") == ""
}

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	params, bad := paramsFromBody(r)
	execute(w, r, exec, t.logger, start, params, bad)
}

// getTransport serves GET with URL parameters, queries only.
type getTransport struct{ logger *slog.Logger }

func (getTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

// Do answers with an ETag and honours If-None-Match (web.Conditional): a
// query changes nothing and returns no token, so its answer may be kept and
// revalidated, unlike POST's, which stay no-store.
func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	web.Conditional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params, bad := paramsFromURL(r.URL.RawQuery)
		execute(w, r, exec, t.logger, start, params, bad)
	})).ServeHTTP(w, r)
}

// graphiQLTransport answers a browser's GET (one that prefers text/html)
// with the GraphiQL page; it comes before getTransport.
type graphiQLTransport struct{ page http.Handler }

func (graphiQLTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == "" &&
		negotiate(r.Header.Get("Accept"), true) == mediaHTML
}

func (t graphiQLTransport) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	t.page.ServeHTTP(w, r)
}

// otherMethods answers what no other transport takes: 405, naming the
// methods that are served. It comes last.
type otherMethods struct{ logger *slog.Logger }

func (otherMethods) Supports(*http.Request) bool { return true }

func (t otherMethods) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	w.Header().Set("Allow", "GET, POST")
	message := "GraphQL is served over GET and POST only"
	if r.Header.Get("Upgrade") != "" {
		message = "only WebSocket upgrades are served (graphql-transport-ws or graphql-ws)"
	}
	writeRequestError(w, t.logger, negotiate(r.Header.Get("Accept"), false), &requestError{status: http.StatusMethodNotAllowed, message: message})
}

// execute runs the operation a GET or POST request carries and writes its
// response.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, logger *slog.Logger, start time.Time, params *graphql.RawParams, bad *requestError) {
	accept := negotiate(r.Header.Get("Accept"), false)
	if bad != nil {
		writeRequestError(w, logger, accept, bad)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		write(w, logger, accept, requestErrorStatus(accept), &response{Errors: resp.Errors, Extensions: resp.Extensions})
		return
	}
	switch op := opCtx.Operation.Operation; {
	case op == ast.Subscription:
		// One answer per request cannot carry a stream.
		writeRequestError(w, logger, accept, &requestError{status: requestErrorStatus(accept), message: "subscriptions are served over WebSocket " +
			"(graphql-transport-ws) and server-sent events (POST with Accept: text/event-stream), not as one response"})
		return
	case r.Method == http.MethodGet && op != ast.Query:
		// GET must be safe: a link or a prefetch may not change anything.
		w.Header().Set("Allow", "POST")
		writeRequestError(w, logger, accept, &requestError{status: http.StatusMethodNotAllowed, message: "only queries may be sent with GET; send mutations with POST"})
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	status := http.StatusOK
	if resp == nil {
		resp = &graphql.Response{Errors: gqlerror.List{{Message: "the operation produced no result"}}}
	}
	if len(resp.Data) == 0 {
		status = requestErrorStatus(accept)
	}
	write(w, logger, accept, status, &response{Errors: resp.Errors, Data: resp.Data, Extensions: resp.Extensions})
}

// writeRequestError answers a request that never reached the executor.
func writeRequestError(w http.ResponseWriter, logger *slog.Logger, accept string, bad *requestError) {
	write(w, logger, accept, bad.status, &response{Errors: gqlerror.List{{
		Message:    bad.message,
		Extensions: map[string]any{"code": "BAD_REQUEST"},
	}}})
}

// requestError is a request that is not a well-formed GraphQL-over-HTTP
// request; it is answered with status and no execution.
type requestError struct {
	status  int
	message string
}

func badRequest(format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// response is the body of every GraphQL answer over GET and POST. Data is
// left out, not null, when the operation never ran.
type response struct {
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

// requestErrorStatus is the status of an operation that did not run
// (a document that does not parse or validate, variables that do not fit,
// a limit exceeded): 400 where the media type lets the status speak,
// 200 for application/json.
func requestErrorStatus(accept string) int {
	if accept == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// The Content-Type values of the JSON answers, made once.
var contentTypes = map[string]string{
	mediaJSON:            mediaJSON + "; charset=utf-8",
	mediaGraphQLResponse: mediaGraphQLResponse + "; charset=utf-8",
}

// internalErrorBody answers when a response cannot be encoded.
const internalErrorBody = `{"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`

// write sends resp with the status. The data gqlgen produced is already
// JSON and goes out as it is; only the errors and extensions, usually
// absent, go through encoding/json. The body is assembled in a pooled
// buffer, so that it goes out in one write with its Content-Length.
func write(w http.ResponseWriter, logger *slog.Logger, mediaType string, status int, resp *response) {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := encodeResponse(buf, resp); err != nil {
		logger.Error("graphql: encode response", slog.Any("error", err))
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(internalErrorBody)
	}
	ct, ok := contentTypes[mediaType]
	if !ok {
		ct = mediaType + "; charset=utf-8"
	}
	header := w.Header()
	header.Set("Content-Type", ct)
	header.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// encodeResponse writes resp to buf as json.Marshal would write a response
// (the same keys in the same order, empty ones left out), except that the
// data, JSON already, is copied rather than validated and compacted again:
// it is the same JSON, but <, >, & and U+2028/U+2029 in strings come out
// as gqlgen wrote them, not escaped as \u003c and so on (the legacy surface
// does not escape them either).
func encodeResponse(buf *bytes.Buffer, resp *response) error {
	enc := json.NewEncoder(buf)
	sep := byte('{')
	member := func(name string, v any) error {
		buf.WriteByte(sep)
		sep = ','
		buf.WriteString(name)
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // the newline Encode ends with
		return nil
	}
	if len(resp.Errors) > 0 {
		if err := member(`"errors":`, resp.Errors); err != nil {
			return err
		}
	}
	if len(resp.Data) > 0 {
		buf.WriteByte(sep)
		sep = ','
		buf.WriteString(`"data":`)
		buf.Write(resp.Data)
	}
	if len(resp.Extensions) > 0 {
		if err := member(`"extensions":`, resp.Extensions); err != nil {
			return err
		}
	}
	if sep == '{' {
		buf.WriteByte('{')
	}
	buf.WriteByte('}')
	return nil
}

// maxPooledBuffer is the largest buffer kept for reuse; a rare huge
// response should not pin its memory.
const maxPooledBuffer = 1 << 20

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer {
	return buffers.Get().(*bytes.Buffer)
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	buffers.Put(b)
}

// paramsFromBody reads a POST request: a JSON object with query,
// operationName, variables and extensions.
func paramsFromBody(r *http.Request) (*graphql.RawParams, *requestError) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, &requestError{status: http.StatusUnsupportedMediaType, message: "send the request with Content-Type: application/json"}
	}
	// The header as nearly every client sends it needs no parsing.
	if ct != mediaJSON {
		mediaType, ctParams, err := mime.ParseMediaType(ct)
		if err != nil || mediaType != mediaJSON {
			return nil, &requestError{status: http.StatusUnsupportedMediaType, message: fmt.Sprintf("unsupported Content-Type %q; send application/json", ct)}
		}
		if cs, ok := ctParams["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return nil, &requestError{status: http.StatusUnsupportedMediaType, message: fmt.Sprintf("unsupported charset %q; send utf-8", cs)}
		}
	}
	// The body is read into a pooled buffer: what is kept of it (the raw
	// fields, the query string) is copied out by json.Unmarshal.
	buf := getBuffer()
	defer putBuffer(buf)
	if n := r.ContentLength; n > 0 && n <= maxPooledBuffer {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(r.Body)
	body := buf.Bytes()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &requestError{status: http.StatusRequestEntityTooLarge, message: fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)}
		}
		return nil, badRequest("could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("the request body is empty; send a JSON object with a query")
	}
	if !utf8.Valid(body) {
		// encoding/json would turn the bytes into U+FFFD: the operation
		// would run on text the client did not send.
		return nil, badRequest("the request body is not valid UTF-8")
	}
	// One JSON value and nothing after it, as decodeJSON takes; the
	// parameters stay raw slices of the pooled buffer, which newParams
	// decodes into values of their own (a later member of the same name
	// wins, as json.Unmarshal into a map has it).
	var raw rawParams
	if !json.Valid(body) || !objectMembers(body, raw.set) {
		return nil, badRequest("the request body is not a JSON object")
	}
	return newParams(raw)
}

// paramsFromURL reads a GET request: query and operationName as strings,
// variables and extensions as JSON text.
func paramsFromURL(rawQuery string) (*graphql.RawParams, *requestError) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("the URL's query string is malformed")
	}
	for _, vs := range values {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, badRequest("the URL's query string is not valid UTF-8")
			}
		}
	}
	// query and operationName are strings already, with no JSON to read.
	p := graphql.RawParams{Query: values.Get("query"), OperationName: values.Get("operationName")}
	for _, param := range []struct {
		name string
		dst  *map[string]any
	}{{"variables", &p.Variables}, {"extensions", &p.Extensions}} {
		if v := values.Get(param.name); v != "" {
			// JSON, as a body is checked whole before its parameters are
			// read (plainStringObject needs it valid).
			if b := []byte(v); !json.Valid(b) || decodeParam(b, param.dst) != nil {
				return nil, badRequest("the %s parameter must be an object", param.name)
			}
		}
	}
	return withQuery(&p)
}

// rawParams holds the JSON text of each parameter a request gives, nil for
// one it leaves out.
type rawParams struct{ query, operationName, variables, extensions []byte }

// set keeps raw as the parameter name; other names are ignored.
func (p *rawParams) set(name, raw []byte) {
	switch string(name) {
	case "query":
		p.query = raw
	case "operationName":
		p.operationName = raw
	case "variables":
		p.variables = raw
	case "extensions":
		p.extensions = raw
	}
}

// newParams checks the parameters of a request for their types: strings
// for query and operationName, objects for variables and extensions, null
// or absent for any of them. The query may be left out only by a client
// that sends a persisted query's hash instead.
func newParams(fields rawParams) (*graphql.RawParams, *requestError) {
	var p graphql.RawParams
	var query, opName *string
	for _, param := range []struct {
		name, want string
		raw        []byte
		dst        any
	}{
		{"query", "a string", fields.query, &query},
		{"operationName", "a string", fields.operationName, &opName},
		{"variables", "an object", fields.variables, &p.Variables},
		{"extensions", "an object", fields.extensions, &p.Extensions},
	} {
		if param.raw == nil {
			continue
		}
		// Pointers, maps and slices stay nil for JSON null, as for absence.
		if err := decodeParam(param.raw, param.dst); err != nil {
			return nil, badRequest("the %s parameter must be %s", param.name, param.want)
		}
	}
	p.Query, p.OperationName = value(query), value(opName)
	return withQuery(&p)
}

// withQuery returns p when it has a query, or the hash of a persisted
// query instead.
func withQuery(p *graphql.RawParams) (*graphql.RawParams, *requestError) {
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, badRequest("the query parameter is missing")
	}
	return p, nil
}

// decodeParam decodes the value of one parameter into dst. Strings hold
// no numbers, so they skip decodeJSON's Decoder; so does null, which
// leaves dst as it is, nil.
func decodeParam(raw json.RawMessage, dst any) error {
	if p, ok := dst.(**string); ok {
		if s, ok := jsonString(raw); ok {
			*p = &s
			return nil
		}
		return json.Unmarshal(raw, dst)
	}
	if string(raw) == "null" {
		return nil
	}
	if p, ok := dst.(*map[string]any); ok {
		if m, ok := plainStringObject(raw); ok {
			*p = m
			return nil
		}
	}
	return decodeJSON(raw, dst)
}

// plainStringObject returns the object raw holds when raw is an object
// whose members are all strings (jsonString), as the variables
// of most requests are (`{"slug":"..."}`): what decodeJSON returns for it,
// without a Decoder, which allocates its own buffer and reflects over the
// map. A later member of a name wins, as in decodeJSON. raw must be valid
// JSON, as objectMembers needs: a body is checked whole, the parameters of
// a GET each (paramsFromURL).
func plainStringObject(raw []byte) (map[string]any, bool) {
	m, plain := map[string]any{}, true
	isObject := objectMembers(raw, func(name, value []byte) {
		if !plain {
			return
		}
		s, ok := jsonString(value)
		if !ok {
			plain = false
			return
		}
		m[string(name)] = s
	})
	return m, isObject && plain
}

// jsonString returns the string raw holds when raw is a JSON string: what
// json.Unmarshal returns for it, without a second pass to validate, a
// decoder's state and a copy through a reflected value. That is nine
// allocations of every request whose query has a line break, as every
// client that prints its documents sends them. What it does not take
// (invalid UTF-8, a lone surrogate, which encoding/json replaces, an
// invalid escape, a raw control character, not a string) is left to
// json.Unmarshal, for its answer or its error. No library function does
// this: strconv.Unquote reads Go's escapes, not JSON's.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	in := raw[1 : len(raw)-1]
	if !utf8.Valid(in) {
		return "", false
	}
	i := 0
	for i < len(in) && in[i] >= 0x20 && in[i] != '"' && in[i] != '\\' {
		i++
	}
	if i == len(in) {
		return string(in), true
	}
	out := append(make([]byte, 0, len(in)), in[:i]...)
	for i < len(in) {
		c := in[i]
		if c < 0x20 || c == '"' {
			return "", false
		}
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 == len(in) {
			return "", false
		}
		switch e := in[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(in[i+2:])
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				// Only a pair, \uD83D\uDE00: a lone half is json's to replace.
				var lo rune
				if len(in) < i+12 || in[i+6] != '\\' || in[i+7] != 'u' {
					return "", false
				}
				if lo, ok = hex4(in[i+8:]); !ok {
					return "", false
				}
				if r = utf16.DecodeRune(r, lo); r == utf8.RuneError {
					return "", false
				}
				i += 6
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default:
			return "", false
		}
		i += 2
	}
	// out is not written again: the string can hold its bytes, as a
	// strings.Builder's does.
	return unsafe.String(unsafe.SliceData(out), len(out)), true
}

// hex4 reads the four hexadecimal digits b starts with.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// decodeJSON decodes exactly one JSON value, keeping numbers as
// json.Number (gqlgen's scalars read them) and refusing trailing data.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// negotiate picks the media type of the response from an Accept header.
// Each offer takes the quality of the most specific media range that
// matches it; the offer with the highest quality wins, then the one matched
// most specifically, then the one the client listed first. A missing header
// and wildcards mean application/json, which is also the answer when
// nothing offered is acceptable. text/html (GraphiQL) is offered to GET only.
func negotiate(accept string, offerHTML bool) string {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON
	}
	type mediaRange struct {
		mediaType string
		q         float64
	}
	var ranges []mediaRange
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if qs, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(qs, 64); err != nil {
				continue
			}
		}
		ranges = append(ranges, mediaRange{mt, q})
	}
	offers := []string{mediaJSON, mediaGraphQLResponse}
	if offerHTML {
		offers = append(offers, mediaHTML)
	}
	best, bestQ, bestSpec, bestPos := mediaJSON, 0.0, -1, len(ranges)
	for _, offer := range offers {
		q, spec, pos := 0.0, -1, len(ranges)
		for i, r := range ranges {
			if s := specificity(r.mediaType, offer); s > spec {
				q, spec, pos = r.q, s, i
			}
		}
		if q > bestQ || q == bestQ && q > 0 && (spec > bestSpec || spec == bestSpec && pos < bestPos) {
			best, bestQ, bestSpec, bestPos = offer, q, spec, pos
		}
	}
	return best
}

// specificity tells how closely the media range rng matches the media type
// offer: 2 for the type itself, 1 for type/*, 0 for */*, -1 for no match.
func specificity(rng, offer string) int {
	switch {
	case rng == offer:
		return 2
	case rng == "*/*":
		return 0
	case strings.HasSuffix(rng, "/*") && strings.HasPrefix(offer, strings.TrimSuffix(rng, "*")):
		return 1
	}
	return -1
}
