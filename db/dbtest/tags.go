package dbtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/conduit-dev/conduit/conduit"
)

// BenchTags is how many tags the site of make bench has in use, which the
// in-process benchmarks of the tag list fill theirs up to (FillTags).
const BenchTags = 50

// FillTags publishes articles by the user authorID until the tags in use
// on svc's site number n, so that a benchmark of the tag list encodes as
// many as make bench's does.
func FillTags(tb testing.TB, svc *conduit.Service, authorID int64, n int) {
	tb.Helper()
	ctx := conduit.NewContextWithViewer(context.Background(), conduit.Viewer{UserID: authorID})
	for i := 0; ; i++ {
		tags, err := svc.Tags(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		if len(tags) >= n {
			return
		}
		more := make([]string, 0, min(n-len(tags), conduit.MaxTags))
		for j := range cap(more) {
			more = append(more, fmt.Sprintf("topic-%d-%d", i, j))
		}
		in := conduit.CreateArticleInput{Title: fmt.Sprintf("Tags %d", i), Description: "d", Body: "b", TagList: more}
		if _, err := svc.CreateArticle(ctx, in); err != nil {
			tb.Fatal(err)
		}
	}
}
