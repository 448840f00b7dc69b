package resolvers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// faultyStore fails the way a broken database does; it embeds the Store
// interface only to satisfy it, and calls nothing through it.
type faultyStore struct {
	conduit.Store
}

// Tags fails with an error of no known kind.
func (faultyStore) Tags(context.Context) ([]string, error) {
	return nil, errors.New("disk on fire: /var/lib/postgresql")
}

// ArticleBySlug panics, as a bug would.
func (faultyStore) ArticleBySlug(context.Context, int64, string) (conduit.Article, error) {
	panic("nil map in the article cache")
}

// ProfileByUsername fails with an internal domain error.
func (faultyStore) ProfileByUsername(context.Context, int64, string) (conduit.Profile, error) {
	return conduit.Profile{}, conduit.InternalError(errors.New("connection reset by peer"))
}

func TestInternalErrors(t *testing.T) {
	t.Parallel()
	svc, err := conduit.NewService(faultyStore{}, conduit.Config{JWTSecret: testSecret, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	endpoint := serve(t, svc, dbtest.New(t), logs)

	for _, tc := range []struct{ name, query, cause string }{
		{"UnknownError", `{ tags }`, "disk on fire"},
		{"InternalError", `{ profile(username: "x") { username } }`, "connection reset by peer"},
		{"Panic", `{ article(slug: "x") { title } }`, "nil map in the article cache"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := postTo(t, endpoint, request{query: tc.query})
			wantErrorCodes(t, res, "INTERNAL_SERVER_ERROR")
			id := res.header.Get("X-Request-Id")
			got := res.Errors[0]
			if got.Message != "internal server error" || got.Extensions["requestId"] != id || id == "" {
				t.Fatalf("error = %+v, want the masked message and requestId %q", got, id)
			}
			if strings.Contains(string(res.body), tc.cause) {
				t.Fatalf("the cause reached the client: %s", res.body)
			}
			var logged bool
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "request_id="+id) && strings.Contains(line, tc.cause) {
					logged = true
				}
			}
			if !logged {
				t.Fatalf("no log line with request id %s and the cause %q:\n%s", id, tc.cause, logs)
			}
		})
	}
}
