package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestCheckCountersCommand runs `conduit check-counters` on exact
// counters, then on damaged ones (exit status 1, the differences named),
// then with -repair, after which the check passes again.
func TestCheckCountersCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	jake, err := d.CreateUser(ctx, conduit.User{Username: "jake", Email: "jake@example.com", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.CreateArticle(ctx, conduit.NewArticle{AuthorID: jake.ID, Slug: "a", Title: "A", Description: "D", Body: "B", TagList: []string{"go"}})
	if err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"DATABASE_URL": url, "EMBEDDED_DATABASE": "false"})
	check := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"conduit", "check-counters"}, args...), getenv, &out)
		return out.String(), err
	}

	if out, err := check(); err != nil || out != "Every article counter equals the count of its rows.\n" {
		t.Fatalf("check-counters on exact counters = %q, %v", out, err)
	}
	dbtest.Exec(t, url, `UPDATE article_counts SET n = 7 WHERE scope = 'tag'`)
	goID := dbtest.QueryInt(t, url, `SELECT id FROM tags WHERE name = 'go'`)
	table := "\n  SCOPE  KEY  NAME  SHARD  KEPT  ROWS\n" + fmt.Sprintf("    tag  %3d    go  %5d     7     1\n", goID, a.ID%16)
	out, err := check()
	if err == nil || !strings.Contains(err.Error(), "1 counters differ") {
		t.Errorf("check-counters on a damaged counter: err = %v, want one naming 1 difference", err)
	}
	if want := "Counters that differ from the rows:\n" + table; out != want {
		t.Errorf("check-counters printed\n%s\nwant\n%s", out, want)
	}
	out, err = check("-repair")
	if want := "Counters set to the count of the rows:\n" + table; err != nil || out != want {
		t.Errorf("check-counters -repair = %v, printed\n%s\nwant\n%s", err, out, want)
	}
	if out, err := check(); err != nil || !strings.HasPrefix(out, "Every article counter") {
		t.Errorf("after -repair, check-counters = %q, %v", out, err)
	}
	if _, err := check("extra"); err == nil || !strings.Contains(err.Error(), "unexpected arguments") {
		t.Errorf("check-counters extra: err = %v, want a refusal", err)
	}
}
