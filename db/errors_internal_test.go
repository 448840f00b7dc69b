package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/conduit-dev/conduit/conduit"
)

func TestStoreError(t *testing.T) {
	pgError := func(code, constraint string) error {
		return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, ConstraintName: constraint})
	}
	domain := conduit.Errorf(conduit.Forbidden, "forbidden")
	for _, tt := range []struct {
		name   string
		thing  string
		err    error
		code   conduit.Code
		fields string
	}{
		{"Nil", "x", nil, "", ""},
		{"NoRows", conduit.ThingArticle, pgx.ErrNoRows, conduit.NotFound, "map[:[article not found]]"},
		{"NoRowsWrapped", conduit.ThingUser, fmt.Errorf("select: %w", pgx.ErrNoRows), conduit.NotFound, "map[:[user not found]]"},
		{"NoRowsNotExpected", "", pgx.ErrNoRows, conduit.Internal, "map[]"},
		{"Username", "", pgError("23505", "users_username_key"), conduit.Conflict, "map[username:[has already been taken]]"},
		{"UsernameFolded", "", pgError("23505", "users_username_fold_key"), conduit.Conflict, "map[username:[has already been taken]]"},
		{"Email", "", pgError("23505", "users_email_key"), conduit.Conflict, "map[email:[has already been taken]]"},
		{"Slug", "", pgError("23505", "articles_slug_key"), conduit.Conflict, "map[slug:[has already been taken]]"},
		{"OtherUnique", "", pgError("23505", "follows_pkey"), conduit.Internal, "map[]"},
		{"ArticleDeletedUnderComment", "", pgError("23503", "comments_article_id_fkey"), conduit.NotFound, "map[:[article not found]]"},
		{"ArticleDeletedUnderFavorite", "", pgError("23503", "favorites_article_id_fkey"), conduit.NotFound, "map[:[article not found]]"},
		{"FolloweeDeleted", "", pgError("23503", "follows_followee_id_fkey"), conduit.NotFound, "map[:[profile not found]]"},
		{"AuthorDeleted", "", pgError("23503", "comments_author_id_fkey"), conduit.Unauthenticated, "map[token:[the token's user does not exist]]"},
		{"FollowerDeleted", "", pgError("23503", "follows_follower_id_fkey"), conduit.Unauthenticated, "map[token:[the token's user does not exist]]"},
		{"OtherForeignKey", "x", pgError("23503", "unknown_fkey"), conduit.Internal, "map[]"},
		{"NUL", "", pgError("22021", ""), conduit.Invalid, "map[:[text must be valid UTF-8 without NUL characters]]"},
		{"StatementTimeout", "", pgError("57014", ""), conduit.Unavailable, "map[:[the service is temporarily unavailable; try again shortly]]"},
		{"ShuttingDown", "", pgError("57P01", ""), conduit.Unavailable, "map[:[the service is temporarily unavailable; try again shortly]]"},
		{"ConnectionException", "", pgError("08006", ""), conduit.Unavailable, "map[:[the service is temporarily unavailable; try again shortly]]"},
		{"Deadline", "", fmt.Errorf("acquire: %w", context.DeadlineExceeded), conduit.Unavailable, "map[:[the service is temporarily unavailable; try again shortly]]"},
		{"Canceled", "", fmt.Errorf("query: %w", context.Canceled), conduit.Canceled, "map[:[the request was canceled]]"},
		{"ConnClosed", "", fmt.Errorf("query: %w", pgconn.ErrConnClosed), conduit.Unavailable, "map[:[the service is temporarily unavailable; try again shortly]]"},
		{"BrokenPipe", "", fmt.Errorf("write failed: %w", &net.OpError{Op: "write", Err: syscall.EPIPE}), conduit.Unavailable, "map[:[the service is temporarily unavailable; try again shortly]]"},
		{"Syntax", "", pgError("42601", ""), conduit.Internal, "map[]"},
		{"Other", "x", errors.New("scan: bad column"), conduit.Internal, "map[]"},
		{"Domain", "x", domain, conduit.Forbidden, "map[:[forbidden]]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := &DB{logger: slog.New(slog.DiscardHandler)}
			got := d.storeError("do thing", tt.thing, tt.err)
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
			if tt.code == conduit.Unavailable && e.RetryAfter <= 0 {
				t.Errorf("Unavailable without RetryAfter")
			}
		})
	}
}

// TestOutageLoggedOnce: many failed statements of one outage make one
// error line, and the first success after it one line saying so.
func TestOutageLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	d := &DB{logger: slog.New(slog.NewTextHandler(&logs, nil))}
	down := fmt.Errorf("dial: %w", context.DeadlineExceeded)
	for range 50 {
		_ = d.storeError("select", "", down)
	}
	d.recovered()
	d.recovered()
	_ = d.storeError("select", "", down)
	got := logs.String()
	if n := strings.Count(got, "database unavailable"); n != 2 {
		t.Errorf("%d 'database unavailable' lines for two outages, want 2:\n%s", n, got)
	}
	if n := strings.Count(got, "database available again"); n != 1 {
		t.Errorf("%d 'available again' lines, want 1:\n%s", n, got)
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
