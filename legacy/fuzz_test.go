package legacy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The fuzz targets drive the real server (the whole chain, PostgreSQL
// behind it) with arbitrary requests and hold it to what a hostile client
// must never get: a panic, a 5xx, a body that is not the legacy envelope,
// or a change to the database from a request that was refused. `go test`
// runs their seeds; `make fuzz` runs them for real.

// fuzzRoutes are the routes that read a body, with a body each accepts.
var fuzzRoutes = []struct{ method, path, seed string }{
	{"POST", "/api/users/login", `{"user":{"email":"fuzz@example.com","password":"password1"}}`},
	{"POST", "/api/users", `{"user":{"username":"fuzzy","email":"fuzzy@example.com","password":"password1"}}`},
	{"PUT", "/api/user", `{"user":{"username":"fuzz","email":"","password":"","bio":"b","image":null}}`},
	{"POST", "/api/articles", `{"article":{"title":"T","description":"D","body":"B","tagList":["a","b"]}}`},
	{"PUT", "/api/articles/fuzz-target", `{"article":{"title":"T","description":null,"tagList":[]}}`},
	{"POST", "/api/articles/fuzz-target/comments", `{"comment":{"body":"hi"}}`},
	{"POST", "/api/articles/fuzz-target/favorite", ``},
	{"POST", "/api/profiles/fuzz/follow", `{}`},
}

// fuzzSite is one server for a whole fuzz run, with a user "fuzz" who
// wrote the article "fuzz-target".
type fuzzSite struct {
	*api
	token string
	conn  *pgx.Conn // for rows, kept open: fuzzing runs it twice per input
}

func newFuzzSite(f *testing.F) *fuzzSite {
	a := newAPI(f)
	token := a.mustRegister("fuzz")
	a.mustDo("POST", "/api/articles", token, `{"article":{"title":"Fuzz target","description":"d","body":"b"}}`, http.StatusCreated)
	conn, err := pgx.Connect(context.Background(), a.dbURL)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { conn.Close(context.Background()) })
	return &fuzzSite{api: a, token: token, conn: conn}
}

// rows fingerprints what the database holds: every row that a request
// could write, with its contents.
func (s *fuzzSite) rows(t *testing.T) string {
	var fp string
	err := s.conn.QueryRow(context.Background(), `SELECT concat_ws(' ',
		(SELECT md5(string_agg(concat_ws('|', id, username, email, password_hash, bio, image, token_version, updated_at), ',' ORDER BY id)) FROM users),
		(SELECT md5(string_agg(concat_ws('|', id, slug, title, description, body, favorites_count, updated_at), ',' ORDER BY id)) FROM articles),
		(SELECT md5(string_agg(concat_ws('|', id, article_id, body), ',' ORDER BY id)) FROM comments),
		(SELECT count(*) FROM favorites), (SELECT count(*) FROM follows), (SELECT count(*) FROM article_tags))`).Scan(&fp)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// send makes one request and checks what a client may always count on.
func (s *fuzzSite) send(t *testing.T, method, path, token string, body []byte) int {
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(string(body)))
	if err != nil {
		return 0 // not a request a client could send
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	res, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode >= 500 {
		t.Fatalf("%s %s %q: status %d: %s", method, path, body, res.StatusCode, b)
	}
	checkOpenAPI(t, req, res.StatusCode, res.Header, b)
	if res.StatusCode >= 400 {
		var env struct{ Errors map[string][]string }
		if err := json.Unmarshal(b, &env); err != nil || len(env.Errors) == 0 {
			t.Fatalf("%s %s %q: %d without the error envelope: %s", method, path, body, res.StatusCode, b)
		}
	}
	return res.StatusCode
}

// FuzzLegacyBody sends arbitrary bodies to every route that reads one, as
// the author of the target article (so that writes can happen): a refused
// body changes nothing.
func FuzzLegacyBody(f *testing.F) {
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), []byte(r.seed))
		f.Add(uint8(i), []byte(`{"user":{"email":"\u0000"},"article":{"title":"\ud800"},"comment":{"body":7}}`))
		f.Add(uint8(i), []byte("{\"article\":{\"title\":\"\xff\"}}"))
		f.Add(uint8(i), []byte(`[{"user":null}]`))
	}
	s := newFuzzSite(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		before := s.rows(t)
		status := s.send(t, r.method, r.path, s.token, body)
		if status >= 300 {
			if after := s.rows(t); after != before {
				t.Fatalf("%s %s %q: refused with %d but the database changed", r.method, r.path, body, status)
			}
		}
	})
}

// FuzzLegacyPath puts arbitrary text in every path parameter.
func FuzzLegacyPath(f *testing.F) {
	for _, seed := range []string{"fuzz-target", "fuzz", "1", "%00", "%ff", "a%2Fb", "..", "%", "%zz", strings.Repeat("x", 300)} {
		f.Add(seed)
	}
	s := newFuzzSite(f)
	f.Fuzz(func(t *testing.T, param string) {
		if strings.ContainsFunc(param, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '#' || r == '?' }) {
			return // a client escapes these; Go's server refuses them raw, before any handler
		}
		before := s.rows(t)
		for _, r := range []struct{ method, path string }{
			{"GET", "/api/profiles/{p}"},
			{"DELETE", "/api/profiles/{p}/follow"},
			{"GET", "/api/articles/{p}"},
			{"GET", "/api/articles/{p}/comments"},
			{"DELETE", "/api/articles/{p}/favorite"},
			{"DELETE", "/api/articles/fuzz-target/comments/{p}"},
			{"DELETE", "/api/articles/{p}/comments/1"},
		} {
			s.send(t, r.method, strings.ReplaceAll(r.path, "{p}", param), s.token, nil)
		}
		// Unfollowing and unfavoriting what was never followed or
		// favorited writes nothing either.
		if after := s.rows(t); after != before {
			t.Fatalf("path parameter %q changed the database", param)
		}
	})
}

// FuzzLegacyQuery sends arbitrary query strings to the lists.
func FuzzLegacyQuery(f *testing.F) {
	for _, seed := range []string{"limit=1&offset=0", "tag=a&author=fuzz&favorited=fuzz", "limit=-1", "offset=99999999999999999999", "tag=%00", "limit=%ff", "&&==&", "tag=a;b"} {
		f.Add(seed)
	}
	s := newFuzzSite(f)
	f.Fuzz(func(t *testing.T, query string) {
		if strings.ContainsFunc(query, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '#' }) {
			return // a client escapes these; Go's server refuses them raw, before any handler
		}
		before := s.rows(t)
		s.send(t, "GET", "/api/articles?"+query, "", nil)
		s.send(t, "GET", "/api/articles/feed?"+query, s.token, nil)
		if after := s.rows(t); after != before {
			t.Fatalf("query %q changed the database", query)
		}
	})
}
