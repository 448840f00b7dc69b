package db_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestTagCountsUnderConcurrency creates, retags and deletes articles with
// overlapping tags in opposite orders from many goroutines. The counts kept
// on the tag rows must end exact, and no writer may fail (a deadlock between
// two writers would surface as an error).
func TestTagCountsUnderConcurrency(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	author := mustCreateUser(t, d, "author")
	tags := []string{"a", "b", "c", "d", "e"}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := slices.Clone(tags)
			if i%2 == 1 {
				slices.Reverse(mine)
			}
			a, err := d.CreateArticle(ctx, conduit.NewArticle{AuthorID: author.ID, Slug: fmt.Sprintf("s-%d", i), Title: "t", Description: "d", Body: "b", TagList: mine[:3+i%3]})
			if err != nil {
				errs <- err
				return
			}
			switch i % 4 {
			case 0:
				_, err = d.UpdateArticle(ctx, author.ID, a.ID, conduit.ArticleChanges{TagList: conduit.Some([]string{"e", "a"})})
			case 1:
				err = d.DeleteArticle(ctx, a.ID)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}

	// The kept counts give the same ranking as counting the links.
	got, err := d.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	page := mustList(t, d, 0, conduit.ArticleFilter{}, conduit.Page{Limit: 100})
	for _, a := range page.Articles {
		for _, tag := range a.TagList {
			counts[tag]++
		}
	}
	want := make([]string, 0, len(counts))
	for tag := range counts {
		want = append(want, tag)
	}
	slices.SortFunc(want, func(x, y string) int {
		if counts[x] != counts[y] {
			return counts[y] - counts[x]
		}
		return strings.Compare(x, y)
	})
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Tags() = %v, want %v (counts %v)", got, want, counts)
	}
}
