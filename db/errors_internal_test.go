package db

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/conduit-dev/conduit/conduit"
)

func TestStoreError(t *testing.T) {
	unique := func(constraint string) error {
		return fmt.Errorf("exec: %w", &pgconn.PgError{Code: "23505", ConstraintName: constraint})
	}
	domain := conduit.Errorf(conduit.Forbidden, "forbidden")
	for _, tt := range []struct {
		name     string
		notFound string
		err      error
		code     conduit.Code
		fields   string
	}{
		{"Nil", "x", nil, "", ""},
		{"NoRows", "article not found", pgx.ErrNoRows, conduit.NotFound, "map[body:[article not found]]"},
		{"NoRowsWrapped", "user not found", fmt.Errorf("select: %w", pgx.ErrNoRows), conduit.NotFound, "map[body:[user not found]]"},
		{"NoRowsNotExpected", "", pgx.ErrNoRows, conduit.Internal, "map[]"},
		{"Username", "", unique("users_username_key"), conduit.Conflict, "map[username:[has already been taken]]"},
		{"Email", "", unique("users_email_key"), conduit.Conflict, "map[email:[has already been taken]]"},
		{"Slug", "", unique("articles_slug_key"), conduit.Conflict, "map[slug:[has already been taken]]"},
		{"OtherUnique", "", unique("follows_pkey"), conduit.Internal, "map[]"},
		{"ForeignKey", "x", &pgconn.PgError{Code: "23503"}, conduit.Internal, "map[]"},
		{"Other", "x", errors.New("connection reset"), conduit.Internal, "map[]"},
		{"Domain", "x", domain, conduit.Forbidden, "map[body:[forbidden]]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := storeError("do thing", tt.notFound, tt.err)
			if code := conduit.ErrorCode(got); code != tt.code {
				t.Fatalf("code = %q, want %q (error %v)", code, tt.code, got)
			}
			if got == nil {
				return
			}
			e := conduit.AsError(got)
			if fields := fmt.Sprint(e.Fields); fields != tt.fields {
				t.Errorf("fields = %s, want %s", fields, tt.fields)
			}
			if tt.err != domain && !errors.Is(got, tt.err) {
				t.Errorf("error %v does not wrap its cause", got)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"15", "9.6", 1}, {"9.6", "10", -1}, {"16", "16", 0}, {"9.6", "9.5", 1},
	} {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
