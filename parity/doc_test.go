package parity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/conduit-dev/conduit/conduit"
)

var update = flag.Bool("update", false, "rewrite docs/migration.md from the matrix")

// docPath is the guide the matrix renders.
const docPath = "../docs/migration.md"

// handWritten starts the part of docs/migration.md that is written by
// hand, after the guide the matrix renders: -update keeps it as it is.
const handWritten = "\n<!-- Written by hand from here to the end; `go test ./parity -run TestMigrationDoc -update` keeps it. -->\n"

// TestMigrationDoc fails when docs/migration.md, up to its hand-written
// part, is not what the matrix renders; -update rewrites that much.
func TestMigrationDoc(t *testing.T) {
	got := renderMigrationDoc(t)
	file, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v; run: go test ./parity -run TestMigrationDoc -update", err)
	}
	want, tail := file, []byte(nil)
	if i := bytes.Index(file, []byte(handWritten)); i >= 0 {
		want, tail = file[:i], file[i:]
	}
	if *update {
		if err := os.WriteFile(docPath, append(got, tail...), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what the matrix renders; run: go test ./parity -run TestMigrationDoc -update", docPath)
	}
}

// TestMigrationExamples runs the worked examples of docs/migration.md in
// the order of the table, the REST ones on one fresh server and the
// GraphQL ones on another, both holding the example data: each must
// succeed, so a reader can paste them one after the other.
func TestMigrationExamples(t *testing.T) {
	t.Parallel()
	t.Run("REST", func(t *testing.T) {
		t.Parallel()
		s, jake := newExampleServer(t)
		for _, op := range matrix {
			as := nobody
			if op.example.signedIn {
				as = jake
			}
			method, path, _ := strings.Cut(op.example.rest, " ")
			if res := s.rest(t, as, method, path, op.example.body); res.status >= 300 {
				t.Fatalf("%s: %s: status %d, want success; body: %s", op.name, op.example.rest, res.status, res.body)
			}
		}
	})
	t.Run("GraphQL", func(t *testing.T) {
		t.Parallel()
		s, jake := newExampleServer(t)
		for _, op := range matrix {
			as := nobody
			if op.example.signedIn {
				as = jake
			}
			var vars any
			if op.example.vars != "" {
				vars = json.RawMessage(op.example.vars)
			}
			mustGraphQL[json.RawMessage](t, s, as, op.graphql, vars)
		}
	})
}

// TestExamplesFollowTheirRoutes fails when a row's example calls another
// route than the row's.
func TestExamplesFollowTheirRoutes(t *testing.T) {
	for _, op := range matrix {
		pattern := strings.Split(op.rest, "/")
		path, _, _ := strings.Cut(op.example.rest, "?")
		got := strings.Split(path, "/")
		ok := len(got) == len(pattern)
		for i := 0; ok && i < len(got); i++ {
			ok = got[i] == pattern[i] || strings.HasPrefix(pattern[i], "{") && got[i] != ""
		}
		if !ok {
			t.Errorf("%s: example %q does not match %q", op.name, op.example.rest, op.rest)
		}
	}
}

// newExampleServer returns a server holding the data the examples assume:
// jake (jake@jake.jake, password jakejake), who has written nothing yet,
// and ann, who wrote "Dragon care" (slug dragon-care, tag dragons).
func newExampleServer(t *testing.T) (*server, actor) {
	t.Helper()
	s := newServer(t)
	ctx := context.Background()
	jake, err := s.svc.Register(ctx, conduit.RegisterInput{Username: "jake", Email: "jake@jake.jake", Password: "jakejake"})
	if err != nil {
		t.Fatal(err)
	}
	ann, err := s.svc.Register(ctx, conduit.RegisterInput{Username: "ann", Email: "ann@example.com", Password: "ann-password"})
	if err != nil {
		t.Fatal(err)
	}
	asAnn := conduit.NewContextWithViewer(ctx, conduit.Viewer{UserID: ann.User.ID})
	a, err := s.svc.CreateArticle(asAnn, conduit.CreateArticleInput{
		Title: "Dragon care", Description: "Feeding, grooming, flying", Body: "Start with the scales.", TagList: []string{"dragons"},
	})
	if err != nil || a.Slug != "dragon-care" {
		t.Fatalf("create Dragon care: slug %q, error %v", a.Slug, err)
	}
	return s, actor{username: "jake", email: "jake@jake.jake", password: "jakejake", token: jake.Token}
}

// errorClasses explains each class of error the matrix's mistakes fall
// into, in the order of the guide's table.
var errorClasses = []struct{ class, graphql, when string }{
	{"INVALID", "user error `INVALID` in the payload's `userErrors`; `field` is the path of the input field",
		"An input the user can correct: blank, malformed, too short or too long, following yourself."},
	{"CONFLICT", "user error `CONFLICT`", "A username or email that someone else has."},
	{"INVALID_CREDENTIALS", "user error `INVALID_CREDENTIALS` with no `field`", "A login whose email and password match no account."},
	{"UNAUTHENTICATED", "top-level error, `extensions.code` `UNAUTHENTICATED`",
		"No token where one is required; a token that does not verify, on any operation that looks at the viewer, even one open to anonymous callers."},
	{"FORBIDDEN", "top-level error `FORBIDDEN`", "Changing or deleting what someone else wrote."},
	{"NOT_FOUND", "top-level error `NOT_FOUND`", "A mutation naming a profile, article or comment that does not exist."},
	{"null", "the field is `null`, with no error",
		"Looking up what does not exist (`profile`, `article`, and so an article's `comments`), and `viewer` without a token."},
	{"BAD_USER_INPUT", "top-level error `BAD_USER_INPUT` (a list has no payload to carry user errors)", "A bad paging argument, such as a negative page size."},
	{"none", "no error", "A token that does not verify, sent to `GET /api/tags` or `tags`, which need none and look at none."},
}

func renderMigrationDoc(t *testing.T) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	p("# Moving a client from the REST API to GraphQL")
	p("")
	p("<!-- Generated from the matrix in parity/matrix_test.go by `go test ./parity -run TestMigrationDoc -update`. Edit the matrix, not this file; the part written by hand at its end is kept. -->")
	p("")
	p("This guide is for owners of clients of the legacy REST API (`/api`). For each of its 19 calls it names the GraphQL operation that replaces it, with a worked example and what changes. Every row is a test: `parity/` runs each REST call beside its GraphQL replacement on one server, writes through one API and reads back through the other in both directions, makes the same mistakes on both and checks that they fail alike, and runs every example below in order.")
	p("")
	p("## How to move")
	p("")
	p("- **Same server, same accounts, same tokens.** `/graphql` is served by the same process as `/api`, over the same database and the same rules. A token from `POST /api/users` or `POST /api/users/login` works on `/graphql`, and a token from the GraphQL `register` or `login` works on `/api`.")
	p("- **The auth header works unchanged.** Keep sending `Authorization: Token <jwt>`; `Authorization: Bearer <jwt>` is accepted too, on both APIs.")
	p("- **One endpoint.** Send `POST /graphql` with `Content-Type: application/json` and a body `{\"query\": \"…\", \"variables\": {…}}`. Queries (not mutations) may also be sent as `GET /graphql?query=…&variables=…`.")
	p("- **Explore it.** Open `/graphql` in a browser for GraphiQL: the schema's documentation, autocompletion, and a place to try each document of this guide. The schema itself is at `GET /graphql/schema.graphql` (and `schema.graphql` in the repository), for code generators.")
	p("- **Move one call at a time.** Since both APIs share the data, a client can switch call by call, in any order: what one API writes, the other reads at once.")
	p("- **The data reads the same.** Fields are named like the JSON keys (`slug`, `tagList`, `favoritesCount`, `following`, `createdAt`); timestamps are the same strings (UTC with milliseconds, `2026-02-18T03:22:56.637Z`); `tagList` is sorted the same; `bio` and `image` are `null` when unset, as before.")
	p("")
	p("What changes, call by call below:")
	p("")
	p("- No envelopes: you select the fields you want, and get only those.")
	p("- Lists are cursor connections: `first`/`after` instead of `limit`/`offset`, `totalCount` instead of `articlesCount`, `nodes` instead of `articles`; `pageInfo { hasNextPage endCursor }` says where the page sits. A page holds 20 items unless `first` says otherwise, and at most 100, as with `limit`.")
	p("- A GraphQL answer is HTTP 200 whenever the operation ran; errors are in the body (table below). Mistakes the user can fix come back in the mutation's payload as `userErrors` instead of a 422.")
	p("- Looking up something that does not exist gives `null`, not a 404.")
	p("- Comments have global ids (opaque strings), not integers; a comment is deleted by `articleSlug` and `commentId`.")
	p("- Mutations take one `input` argument; the slug of the article a mutation acts on moves into it.")
	p("")
	p("For example, with `curl`:")
	p("")
	p("```sh")
	p("curl -s localhost:8080/graphql -H 'Content-Type: application/json' -H \"Authorization: Token $TOKEN\" \\")
	p("  -d '{\"query\":\"query Viewer { viewer { username email bio image } }\"}'")
	p("```")
	p("")
	p("## Errors")
	p("")
	p("Each class of REST error has one GraphQL form. Top-level errors are entries of the response's `errors`, with the class in `extensions.code` and the same message as the REST body; user errors are entries of the payload's `userErrors { field message code }`.")
	p("")
	p("| Class | REST | GraphQL | When | Tested, for example |")
	p("|---|---|---|---|---|")
	for _, c := range errorClasses {
		var statuses []string
		var first string
		for _, op := range matrix {
			for _, m := range op.mistakes {
				if m.want.class != c.class {
					continue
				}
				if s := strconv.Itoa(m.want.status); !slices.Contains(statuses, s) {
					statuses = append(statuses, s)
				}
				if first == "" {
					first = fmt.Sprintf("[%s](#%s): %s", op.name, anchor(op.name), m.name)
				}
			}
		}
		if first == "" {
			t.Errorf("error class %s has no mistake in the matrix", c.class)
		}
		slices.Sort(statuses)
		p("| %s | %s | %s | %s | %s |", c.class, strings.Join(statuses, ", "), c.graphql, c.when, first)
	}
	for _, op := range matrix {
		for _, m := range op.mistakes {
			if !slices.ContainsFunc(errorClasses, func(c struct{ class, graphql, when string }) bool { return c.class == m.want.class }) {
				t.Errorf("%s, %s: class %q is not in errorClasses", op.name, m.name, m.want.class)
			}
		}
	}
	p("")
	p("## The calls at a glance")
	p("")
	p("| # | REST | Auth | GraphQL |")
	p("|---|---|---|---|")
	for i, op := range matrix {
		p("| %d | `%s` | %s | [`%s`](#%s) |", i+1, op.rest, op.auth, op.name, anchor(op.name))
	}
	p("")
	p("## Each call")
	p("")
	p("The examples run in this order on a server where `jake` (`jake@jake.jake`, password `jakejake`) has signed in and `ann` has written the article `dragon-care`; `<jwt>` is jake's token.")
	for _, op := range matrix {
		p("")
		p("### %s", op.name)
		p("")
		p("Replaces `%s` (auth: %s).", op.rest, op.auth)
		p("")
		p("REST:")
		p("")
		p("```http")
		p("%s", op.example.rest)
		if op.example.signedIn {
			p("Authorization: Token <jwt>")
		}
		if op.example.body != "" {
			p("Content-Type: application/json")
			p("")
			p("%s", indentJSON(t, op.example.body))
		}
		p("```")
		p("")
		if op.example.signedIn {
			p("GraphQL, with the same `Authorization` header:")
		} else {
			p("GraphQL:")
		}
		p("")
		p("```graphql")
		p("%s", op.graphql)
		p("```")
		if op.example.vars != "" {
			p("")
			p("Variables:")
			p("")
			p("```json")
			p("%s", indentJSON(t, op.example.vars))
			p("```")
		}
		if len(op.notes) > 0 {
			p("")
			p("What changes:")
			p("")
			for _, n := range op.notes {
				p("- %s", n)
			}
		}
		p("")
		p("Mistakes, as each API answers them:")
		p("")
		p("| Mistake | REST | GraphQL |")
		p("|---|---|---|")
		for _, m := range op.mistakes {
			p("| %s | %s | %s |", m.name, restAnswer(t, m.want), graphQLAnswer(t, op, m.want))
		}
	}
	b.Write(retiringSection(t))
	return b.Bytes()
}

// restAnswer writes how the legacy API answers, as `422 {"errors":…}`.
func restAnswer(t *testing.T, o outcome) string {
	if o.errors == nil {
		return fmt.Sprintf("`%d`", o.status)
	}
	body, err := json.Marshal(map[string]any{"errors": o.errors})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("`%d %s`", o.status, body)
}

// graphQLAnswer writes how the GraphQL API answers.
func graphQLAnswer(t *testing.T, op operation, o outcome) string {
	switch g := o.gql; {
	case g.userError != nil:
		ue, err := json.Marshal(g.userError)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("`userErrors: [%s]`", ue)
	case g.code != "":
		return fmt.Sprintf("`%s` error: %q", g.code, g.message)
	case g.null:
		return fmt.Sprintf("`%s: null`", rootFieldName(op.graphql))
	}
	return "no error"
}

// rootFieldName returns the name of the first field a document selects.
func rootFieldName(doc string) string {
	_, rest, _ := strings.Cut(doc, "{")
	rest = strings.TrimSpace(rest)
	end := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' })
	if end < 0 {
		return rest
	}
	return rest[:end]
}

// anchor is the fragment GitHub gives a heading.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func indentJSON(t *testing.T, s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		t.Fatalf("example %s: %v", s, err)
	}
	return b.String()
}
