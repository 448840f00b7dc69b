package legacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/web"
)

// timeLayout is the wire format of every timestamp: UTC with milliseconds,
// which the old clients' date regex requires (conduit.AppendTimestamp).
const timeLayout = conduit.TimestampLayout

// timestamp encodes a time the way the old backend did.
type timestamp time.Time

// MarshalJSON writes the time in UTC with exactly three fractional digits.
func (t timestamp) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(timeLayout)+2)
	b = append(b, '"')
	b = conduit.AppendTimestamp(b, time.Time(t))
	return append(b, '"'), nil
}

// optional is a request field that tells "absent" from "null".
type optional[T any] struct {
	value T
	set   bool
}

// UnmarshalJSON is only called for keys that are present, null included.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.set = true
	return json.Unmarshal(b, &o.value)
}

func (o optional[T]) domain() conduit.Optional[T] {
	return conduit.Optional[T]{Value: o.value, Set: o.set}
}

// decode reads a JSON request body into a T. An empty body decodes as the
// zero T, since old clients send Content-Type: application/json with no
// body on every kind of request. Unknown keys are ignored.
func decode[T any](r *http.Request) (T, error) {
	var v T
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return v, errTooLarge
		}
		return v, conduit.Errorf(conduit.Invalid, "could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return v, jsonError(err)
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly turn the bytes into U+FFFD, storing
		// something the client did not send.
		return v, conduit.FieldError(conduit.Invalid, invalidUTF8Field(body), "must be valid UTF-8 text")
	}
	return v, nil
}

// invalidUTF8Field names the key whose value holds the first bytes of body
// that are not UTF-8 (the innermost key: "title" in {"article":{"title":…}},
// "tagList" for an element of it), or NoField when a key itself does. body
// is JSON that encoding/json accepted.
func invalidUTF8Field(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	var keys []string   // the key of each open object, "" until one is read
	var inObject []bool // whether each open container is an object
	expectKey := false  // the next string in the current object is a key
	start := int64(0)
	for {
		tok, err := dec.Token()
		if err != nil {
			return conduit.NoField
		}
		end := dec.InputOffset()
		raw := body[start:end]
		start = end
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				inObject = append(inObject, t == '{')
				keys = append(keys, "")
				expectKey = t == '{'
				continue
			default:
				inObject = inObject[:len(inObject)-1]
				keys = keys[:len(keys)-1]
			}
		case string:
			if expectKey {
				keys[len(keys)-1] = t
				if !utf8.Valid(raw) {
					return conduit.NoField
				}
				expectKey = false
				continue
			}
			if !utf8.Valid(raw) {
				for i := len(keys) - 1; i >= 0; i-- {
					if keys[i] != "" {
						return keys[i]
					}
				}
				return conduit.NoField
			}
		}
		// A value ended: in an object, a key comes next.
		expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
	}
}

// errTooLarge marks a body over web.MaxBodyBytes; it maps to 413.
var errTooLarge = conduit.Errorf(conduit.Invalid, "request body too large (limit %d bytes)", web.MaxBodyBytes)

// jsonError explains a decoding failure in the legacy error envelope.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		path := strings.Split(typeErr.Field, ".")
		field := path[len(path)-1]
		if len(path) == 1 {
			// The envelope itself has the wrong type, e.g. {"user": "x"}.
			return conduit.FieldError(conduit.Invalid, field, "must be an object")
		}
		return conduit.FieldError(conduit.Invalid, field, "must be "+kindName(typeErr.Type))
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return conduit.Errorf(conduit.Invalid, "invalid JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	}
	if errors.As(err, &typeErr) {
		return conduit.Errorf(conduit.Invalid, "invalid JSON: the body must be an object")
	}
	return conduit.Errorf(conduit.Invalid, "invalid JSON: %s", err.Error())
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(kindName(t.Elem()), "a "), "an ") + "s"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Pointer:
		return kindName(t.Elem())
	default:
		return "an object"
	}
}

// buffers recycles encoding buffers: a list page is about 10 KB, and
// allocating that afresh for every request shows in the profile.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encode writes v as the JSON response with the status.
func encode[T any](w http.ResponseWriter, status int, v T) {
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer buffers.Put(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every response type here is plain data; this cannot happen short of a bug.
		panic(fmt.Sprintf("legacy: encode %T: %v", v, err))
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	// A known length lets the body go out in one write instead of chunks.
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorBody is the legacy error envelope: {"errors":{"field":["message"]}}.
type errorBody struct {
	Errors map[string][]string `json:"errors"`
}

// generalKey is the envelope's key for messages about no one field, as the
// old backend filed them.
const generalKey = "body"

// general is an envelope holding one message about no field.
func general(message string) errorBody {
	return errorBody{Errors: map[string][]string{generalKey: {message}}}
}

// statusOf is the one table from service error codes to HTTP statuses.
// It covers every code, even TooSlow, which only ends live subscriptions
// and so never reaches a REST client.
var statusOf = map[conduit.Code]int{
	conduit.Invalid:         http.StatusUnprocessableEntity,
	conduit.Conflict:        http.StatusUnprocessableEntity,
	conduit.Unauthenticated: http.StatusUnauthorized,
	conduit.Forbidden:       http.StatusForbidden,
	conduit.NotFound:        http.StatusNotFound,
	conduit.RateLimited:     http.StatusTooManyRequests,
	conduit.Unavailable:     http.StatusServiceUnavailable,
	conduit.TooSlow:         http.StatusServiceUnavailable,
	conduit.Canceled:        web.StatusClientClosedRequest,
	conduit.Internal:        http.StatusInternalServerError,
}

// errorWriter writes errors, logging the internal ones.
type errorWriter struct {
	logger *slog.Logger
}

// write answers err in the legacy error envelope. Internal errors are
// logged with the request id and never shown; the database being down is
// logged by the store, once per outage, not here once per request.
func (ew errorWriter) write(w http.ResponseWriter, r *http.Request, err error) {
	e := conduit.AsError(err)
	status := statusOf[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if err == errTooLarge {
		status = http.StatusRequestEntityTooLarge
	}
	fields := e.Fields
	if status == http.StatusInternalServerError || len(fields) == 0 {
		id := web.RequestIDFromContext(r.Context())
		ew.logger.ErrorContext(r.Context(), "internal error", slog.String("request_id", id), slog.Any("error", err))
		fields = map[string][]string{conduit.NoField: {"internal server error (request id " + id + ")"}}
	}
	if msgs, ok := fields[conduit.NoField]; ok {
		fields = maps.Clone(fields)
		delete(fields, conduit.NoField)
		fields[generalKey] = append(fields[generalKey], msgs...)
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Token realm="conduit"`)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(max(int(e.RetryAfter.Round(time.Second)/time.Second), 1)))
	}
	encode(w, status, errorBody{Errors: fields})
}
