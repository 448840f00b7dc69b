package conduit

import (
	"context"
	"testing"
)

// TestHubForgets checks that subscriptions that end leave nothing behind in
// the hub's indexes, whichever way they end.
func TestHubForgets(t *testing.T) {
	t.Parallel()
	h := NewHub(nil, HubConfig{Buffer: 1}) // no article event: no store needed
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watched, stop := context.WithCancel(context.Background())
	canceled, err := h.subscribe(watched, 7, 0)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := h.subscribe(ctx, 8, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.subscribe(ctx, 0, 9); err != nil {
		t.Fatal(err)
	}
	if _, err := h.subscribe(ctx, 0, 9); err != nil {
		t.Fatal(err)
	}
	if got := [3]int{len(h.subs), len(h.byArticle), len(h.byFollower[9])}; got != [3]int{4, 2, 2} {
		t.Fatalf("subs, articles, followers of 9 = %v, want [4 2 2]", got)
	}

	stop()
	<-canceled.Events()
	for range 2 {
		if err := h.Publish(ctx, Event{Kind: CommentAdded, ArticleID: 8, CommentID: 1, AuthorID: 1}); err != nil {
			t.Fatal(err)
		}
	}
	<-slow.Events()
	if _, ok := <-slow.Events(); ok {
		t.Fatal("the slow subscription is still open")
	}
	h.mu.Lock()
	got := [3]int{len(h.subs), len(h.byArticle), len(h.byFollower)}
	h.mu.Unlock()
	if got != [3]int{2, 0, 1} {
		t.Fatalf("subs, articles, followers = %v, want [2 0 1]", got)
	}

	h.Close()
	if got := [3]int{len(h.subs), len(h.byArticle), len(h.byFollower)}; got != [3]int{} {
		t.Fatalf("subs, articles, followers after Close = %v, want none", got)
	}
}
