package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/conduit-dev/conduit/legacy"
)

// Step is one call of a sequence. It names users, articles and comments by
// symbols of the sequence ("a", "x1"), not by what a backend made of them,
// so that the same step can be played on both backends, and played again
// under another prefix while a difference is being reduced.
//
// In Args, Query and Body, "{p}" stands for the sequence's prefix (user
// "a" is called "{p}a" on both backends), "{slug:x}" for the slug the
// backend gave article x, and "{comment:k}" for the id it gave comment k.
type Step struct {
	// Op is the operationId of the legacy route the step calls.
	Op string `json:"op"`
	// Args are the route's path parameters: "username", "slug", "id".
	Args map[string]string `json:"args,omitempty"`
	// Query is the query string, without "?".
	Query string `json:"query,omitempty"`
	// As is the caller: a user symbol, "" for an anonymous call, or
	// AsForged or AsGarbage for a token that must be refused.
	As string `json:"as,omitempty"`
	// Body is the JSON request body, if any.
	Body string `json:"body,omitempty"`
	// Bind names what the answer creates or renews, when it succeeds: the
	// user whose token a user envelope carries, the article whose slug an
	// article envelope carries, the comment whose id a comment carries.
	Bind string `json:"bind,omitempty"`
	// Note says what the step is about ("taken username"), for the report.
	Note string `json:"note,omitempty"`
}

// The callers that are not users.
const (
	// AsForged sends a token shaped like a JWT whose signature is wrong.
	AsForged = "!forged"
	// AsGarbage sends an Authorization header with no JWT in it.
	AsGarbage = "!garbage"
)

// forgedToken has the three parts of a JWT; nobody signed it.
const forgedToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.Zm9yZ2VkLXNpZ25hdHVyZS1ub3QtdmFsaWQ"

// route is where an operation lives.
type route struct{ method, path string }

// routes maps each legacy operationId to its method and path, from the
// legacy package's own table, so that the steps cannot call a route that
// the API does not have.
var routes = func() map[string]route {
	m := map[string]route{}
	for _, r := range legacy.Routes() {
		m[r.OperationID] = route{r.Method, strings.TrimPrefix(r.Path, "/api")}
	}
	return m
}()

// Operations returns the operationIds of the legacy API in the order of
// the contract.
func Operations() []string {
	var ids []string
	for _, r := range legacy.Routes() {
		ids = append(ids, r.OperationID)
	}
	return ids
}

// session is what one backend has told one play of a sequence: the
// tokens of its users, the slugs of its articles and the ids of its
// comments, each under the sequence's symbol.
type session struct {
	prefix    string
	tokens    map[string]string
	slugs     map[string]string // symbol -> slug
	articleOf map[string]string // slug -> symbol
	comments  map[string]string // symbol -> id, as the JSON number's text
	commentOf map[string]string // id -> symbol
}

func newSession(prefix string) *session {
	return &session{
		prefix: prefix, tokens: map[string]string{},
		slugs: map[string]string{}, articleOf: map[string]string{},
		comments: map[string]string{}, commentOf: map[string]string{},
	}
}

var placeholder = regexp.MustCompile(`\{(slug|comment):([a-z0-9]+)\}`)

// expand fills in a step's text for this session. An article or comment
// the session never heard of (its creation failed, or was left out while
// reducing) becomes a slug or id that names nothing, the same on both
// backends.
func (s *session) expand(text string) string {
	text = strings.ReplaceAll(text, "{p}", s.prefix)
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		switch sub[1] {
		case "slug":
			if slug, ok := s.slugs[sub[2]]; ok {
				return slug
			}
			return s.prefix + "-never-created-" + sub[2]
		default:
			if id, ok := s.comments[sub[2]]; ok {
				return id
			}
			return "999999999"
		}
	})
}

// request is a step as one backend receives it.
type request struct {
	Method string `json:"method"`
	Path   string `json:"path"` // under the base URL, with the query
	Auth   string `json:"auth,omitempty"`
	Body   string `json:"body,omitempty"`
}

// request fills in the step for this session.
func (s *session) request(st Step) (request, error) {
	rt, ok := routes[st.Op]
	if !ok {
		return request{}, fmt.Errorf("step calls %q, which is no legacy operation", st.Op)
	}
	path := rt.path
	for name, v := range st.Args {
		path = strings.Replace(path, "{"+name+"}", url.PathEscape(s.expand(v)), 1)
	}
	if strings.Contains(path, "{") {
		return request{}, fmt.Errorf("step %s lacks a parameter of %s", st.Op, rt.path)
	}
	if st.Query != "" {
		path += "?" + s.expand(st.Query)
	}
	r := request{Method: rt.method, Path: path, Body: s.expand(st.Body)}
	switch st.As {
	case "":
	case AsForged:
		r.Auth = "Token " + forgedToken
	case AsGarbage:
		r.Auth = "Token not-a-token"
	default:
		// A user whose sign-up failed or was left out calls anonymously.
		if t := s.tokens[st.As]; t != "" {
			r.Auth = "Token " + t
		}
	}
	return r, nil
}

// answer is what a backend answered.
type answer struct {
	Status int    `json:"status"`
	Body   string `json:"body,omitempty"`
}

// backend is one of the two servers compared.
type backend struct {
	base   string // such as http://127.0.0.1:5000/api
	client *http.Client
}

// maxBody bounds what is read of one answer.
const maxBody = 4 << 20

func (b backend) do(ctx context.Context, r request) (answer, error) {
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, b.base+r.Path, body)
	if err != nil {
		return answer{}, err
	}
	// As the old clients do, on every request.
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if r.Auth != "" {
		req.Header.Set("Authorization", r.Auth)
	}
	res, err := b.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: read the answer: %w", r.Method, r.Path, err)
	}
	return answer{Status: res.StatusCode, Body: string(raw)}, nil
}

// bind records what a successful answer to st created or renewed.
func (s *session) bind(st Step, a answer) {
	if st.Bind == "" || a.Status < 200 || a.Status > 299 {
		return
	}
	var env struct {
		User    *struct{ Token any }
		Article *struct{ Slug any }
		Comment *struct{ ID json.RawMessage }
	}
	if json.Unmarshal([]byte(a.Body), &env) != nil {
		return
	}
	switch {
	case env.User != nil:
		if t, ok := env.User.Token.(string); ok {
			s.tokens[st.Bind] = t
		}
	case env.Article != nil:
		if slug, ok := env.Article.Slug.(string); ok {
			if old, ok := s.slugs[st.Bind]; ok {
				delete(s.articleOf, old)
			}
			s.slugs[st.Bind] = slug
			s.articleOf[slug] = st.Bind
		}
	case env.Comment != nil:
		id := string(bytes.Trim(env.Comment.ID, `"`))
		if id != "" && id != "null" {
			s.comments[st.Bind] = id
			s.commentOf[id] = st.Bind
		}
	}
}
