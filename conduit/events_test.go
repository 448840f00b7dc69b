package conduit_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// newLiveService returns a service with a hub over a fresh database, and
// the database, whose statements a test may count.
func newLiveService(tb testing.TB, cfg conduit.HubConfig) (*conduit.Service, *conduit.Hub, *db.DB) {
	tb.Helper()
	store := dbtest.New(tb)
	hub := conduit.NewHub(store, cfg)
	tb.Cleanup(hub.Close)
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte("test secret"), BcryptCost: 4, Hub: hub})
	if err != nil {
		tb.Fatal(err)
	}
	return svc, hub, store
}

// queued returns the events waiting on s, without waiting for more. Publish
// queues events before it returns, so this is all s has been sent.
func queued(s *conduit.Subscription) []conduit.Event {
	es := []conduit.Event{}
	for {
		select {
		case e, ok := <-s.Events():
			if !ok {
				return es
			}
			es = append(es, e)
		default:
			return es
		}
	}
}

func wantQueued(tb testing.TB, s *conduit.Subscription, want ...conduit.Event) {
	tb.Helper()
	if want == nil {
		want = []conduit.Event{}
	}
	if got := queued(s); !slices.Equal(got, want) {
		tb.Fatalf("events = %+v, want %+v", got, want)
	}
}

// wantEnded fails unless s's channel is closed, with nothing left on it,
// and Err is want.
func wantEnded(tb testing.TB, s *conduit.Subscription, want error) {
	tb.Helper()
	select {
	case e, ok := <-s.Events():
		if ok {
			tb.Fatalf("event %+v, want the channel closed", e)
		}
	case <-time.After(5 * time.Second):
		tb.Fatal("the channel is still open, want it closed")
	}
	if err := s.Err(); err != want {
		tb.Fatalf("Err() = %v, want %v", err, want)
	}
}

func wantOpen(tb testing.TB, s *conduit.Subscription) {
	tb.Helper()
	if err := s.Err(); err != nil {
		tb.Fatalf("Err() = %v, want nil: still open", err)
	}
}

func wantStats(tb testing.TB, h *conduit.Hub, want conduit.HubStats) {
	tb.Helper()
	if got := h.Stats(); got != want {
		tb.Fatalf("Stats() = %+v, want %+v", got, want)
	}
}

func mustSubscribeComments(tb testing.TB, ctx context.Context, svc *conduit.Service, slug string) *conduit.Subscription {
	tb.Helper()
	s, err := svc.SubscribeComments(ctx, slug)
	if err != nil {
		tb.Fatalf("SubscribeComments(%q): %v", slug, err)
	}
	return s
}

func mustSubscribeArticles(tb testing.TB, ctx context.Context, svc *conduit.Service) *conduit.Subscription {
	tb.Helper()
	s, err := svc.SubscribeArticles(ctx)
	if err != nil {
		tb.Fatalf("SubscribeArticles: %v", err)
	}
	return s
}

func mustPublish(tb testing.TB, h *conduit.Hub, e conduit.Event) {
	tb.Helper()
	if err := h.Publish(context.Background(), e); err != nil {
		tb.Fatalf("Publish(%+v): %v", e, err)
	}
}

func commentEvent(kind conduit.EventKind, article conduit.Article, id int64) conduit.Event {
	return conduit.Event{Kind: kind, ArticleID: article.ID, CommentID: id, AuthorID: article.Author.ID}
}

func TestSubscribeComments(t *testing.T) {
	t.Parallel()
	svc, hub, _ := newLiveService(t, conduit.HubConfig{})
	jake := mustRegister(t, svc, "jake")
	post := mustCreateArticle(t, svc, jake, "Post")
	other := mustCreateArticle(t, svc, jake, "Other")

	t.Run("OK", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background()) // anonymous
		defer cancel()
		s := mustSubscribeComments(t, ctx, svc, post.Slug)
		added := commentEvent(conduit.CommentAdded, post, 1)
		deleted := commentEvent(conduit.CommentDeleted, post, 1)
		mustPublish(t, hub, added)
		mustPublish(t, hub, commentEvent(conduit.CommentAdded, other, 2))
		mustPublish(t, hub, conduit.Event{Kind: conduit.ArticlePublished, ArticleID: post.ID + 100, AuthorID: jake.ID})
		mustPublish(t, hub, deleted)
		wantQueued(t, s, added, deleted)
		wantOpen(t, s)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := svc.SubscribeComments(context.Background(), "nope")
		wantError(t, err, conduit.NotFound, "map[:[article not found]]")
	})
	t.Run("ErrMalformedSlug", func(t *testing.T) {
		_, err := svc.SubscribeComments(context.Background(), "bad\x00slug")
		wantError(t, err, conduit.NotFound, "map[:[article not found]]")
	})
	t.Run("ErrRefusedToken", func(t *testing.T) {
		ctx := conduit.NewContextWithAuthError(context.Background(), conduit.FieldError(conduit.Unauthenticated, "token", "is invalid"))
		_, err := svc.SubscribeComments(ctx, post.Slug)
		wantError(t, err, conduit.Unauthenticated, "map[token:[is invalid]]")
	})
	t.Run("ErrLiveUpdatesOff", func(t *testing.T) {
		off := newService(t)
		_, err := off.SubscribeComments(context.Background(), post.Slug)
		wantError(t, err, conduit.Unavailable, "map[:[live updates are off]]")
		_, err = off.SubscribeArticles(as(jake))
		wantError(t, err, conduit.Unavailable, "map[:[live updates are off]]")
	})
}

func TestHubFanOut(t *testing.T) {
	t.Parallel()
	svc, hub, _ := newLiveService(t, conduit.HubConfig{})
	jake := mustRegister(t, svc, "jake")
	post := mustCreateArticle(t, svc, jake, "Post")
	other := mustCreateArticle(t, svc, jake, "Other")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	subs := make([]*conduit.Subscription, 50)
	for i := range subs {
		subs[i] = mustSubscribeComments(t, ctx, svc, post.Slug)
	}
	bystander := mustSubscribeComments(t, ctx, svc, other.Slug)
	var want []conduit.Event
	for i := range int64(10) {
		e := commentEvent(conduit.CommentAdded, post, i+1)
		if i%3 == 2 {
			e.Kind = conduit.CommentDeleted
		}
		want = append(want, e)
		mustPublish(t, hub, e)
	}
	for i, s := range subs {
		if got := queued(s); !slices.Equal(got, want) {
			t.Fatalf("subscriber %d: events = %+v, want %+v", i, got, want)
		}
	}
	wantQueued(t, bystander)
	wantStats(t, hub, conduit.HubStats{Open: 51, Delivered: 500})
}

func TestHubTooSlow(t *testing.T) {
	t.Parallel()
	const buffer = 4
	svc, hub, _ := newLiveService(t, conduit.HubConfig{Buffer: buffer})
	jake := mustRegister(t, svc, "jake")
	post := mustCreateArticle(t, svc, jake, "Post")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := mustSubscribeComments(t, ctx, svc, post.Slug)
	fast := mustSubscribeComments(t, ctx, svc, post.Slug)

	var all []conduit.Event
	publish := func(n int) {
		for range n {
			e := commentEvent(conduit.CommentAdded, post, int64(len(all)+1))
			all = append(all, e)
			mustPublish(t, hub, e)
			if got := <-fast.Events(); got != e {
				t.Fatalf("fast subscriber got %+v, want %+v", got, e)
			}
		}
	}
	publish(buffer)
	wantOpen(t, slow)
	wantStats(t, hub, conduit.HubStats{Open: 2, Delivered: 2 * buffer})

	publish(1) // one more than the slow subscriber's buffer holds
	wantStats(t, hub, conduit.HubStats{Open: 1, Delivered: 2*buffer + 1, Dropped: 1})
	// What was queued before the end stays readable, then the channel closes.
	for i := range buffer {
		if got := <-slow.Events(); got != all[i] {
			t.Fatalf("slow subscriber's event %d = %+v, want %+v", i, got, all[i])
		}
	}
	wantEnded(t, slow, conduit.ErrTooSlow)
	wantError(t, slow.Err(), conduit.TooSlow, "map[:[subscriber too slow: events were not read in time]]")

	publish(5)
	wantOpen(t, fast)
	wantStats(t, hub, conduit.HubStats{Open: 1, Delivered: 2*buffer + 6, Dropped: 1})
}

// TestHubUnsubscribe is not parallel: it counts the goroutines of the
// whole test binary.
func TestHubUnsubscribe(t *testing.T) {
	svc, hub, _ := newLiveService(t, conduit.HubConfig{})
	jake := mustRegister(t, svc, "jake")
	anna := mustRegister(t, svc, "anna")
	post := mustCreateArticle(t, svc, jake, "Post")
	if _, err := svc.Follow(as(anna), "jake"); err != nil {
		t.Fatal(err)
	}

	before := runtime.NumGoroutine()
	const n = 200
	subs := make([]*conduit.Subscription, 0, n)
	cancels := make([]context.CancelFunc, 0, n)
	for i := range n {
		ctx, cancel := context.WithCancel(as(anna))
		cancels = append(cancels, cancel)
		if i%2 == 0 {
			subs = append(subs, mustSubscribeComments(t, ctx, svc, post.Slug))
		} else {
			subs = append(subs, mustSubscribeArticles(t, ctx, svc))
		}
	}
	wantStats(t, hub, conduit.HubStats{Open: n})
	// A few goroutines may come and go (the pool's), but none per subscriber.
	if during := runtime.NumGoroutine(); during > before+n/10 {
		t.Errorf("%d goroutines with %d subscribers, %d before", during, n, before)
	}

	for _, cancel := range cancels {
		cancel()
	}
	for i, s := range subs {
		select {
		case _, ok := <-s.Events():
			if ok {
				t.Fatalf("subscriber %d got an event", i)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("subscriber %d still open 5s after its context was canceled", i)
		}
		if err := s.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("subscriber %d: Err() = %v, want %v", i, err, context.Canceled)
		}
	}
	wantStats(t, hub, conduit.HubStats{})
	// Nobody is left to deliver to: neither a comment nor an article event
	// goes anywhere (and the article's costs no query).
	mustPublish(t, hub, commentEvent(conduit.CommentAdded, post, 1))
	mustPublish(t, hub, conduit.Event{Kind: conduit.ArticlePublished, ArticleID: post.ID, AuthorID: jake.ID})
	wantStats(t, hub, conduit.HubStats{})

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after every subscriber left, %d before", after, before)
	}
}

func TestHubClose(t *testing.T) {
	t.Parallel()
	svc, hub, _ := newLiveService(t, conduit.HubConfig{})
	jake := mustRegister(t, svc, "jake")
	anna := mustRegister(t, svc, "anna")
	post := mustCreateArticle(t, svc, jake, "Post")
	ctx, cancel := context.WithCancel(as(anna))
	defer cancel()
	subs := []*conduit.Subscription{
		mustSubscribeComments(t, ctx, svc, post.Slug),
		mustSubscribeComments(t, ctx, svc, post.Slug),
		mustSubscribeArticles(t, ctx, svc),
	}

	hub.Close()
	for _, s := range subs {
		wantEnded(t, s, conduit.ErrShuttingDown)
	}
	wantError(t, subs[0].Err(), conduit.Unavailable, "map[:[the server is shutting down; subscribe again]]")
	_, err := svc.SubscribeComments(ctx, post.Slug)
	if err != conduit.ErrShuttingDown {
		t.Errorf("SubscribeComments after Close = %v, want ErrShuttingDown", err)
	}
	_, err = svc.SubscribeArticles(ctx)
	if err != conduit.ErrShuttingDown {
		t.Errorf("SubscribeArticles after Close = %v, want ErrShuttingDown", err)
	}
	mustPublish(t, hub, commentEvent(conduit.CommentAdded, post, 1))
	hub.Close()
	wantStats(t, hub, conduit.HubStats{Refused: 2})
}

func TestHubMaxSubscriptions(t *testing.T) {
	t.Parallel()
	svc, hub, _ := newLiveService(t, conduit.HubConfig{MaxSubscriptions: 2})
	jake := mustRegister(t, svc, "jake")
	post := mustCreateArticle(t, svc, jake, "Post")
	first, cancelFirst := context.WithCancel(as(jake))
	defer cancelFirst()
	ctx, cancel := context.WithCancel(as(jake))
	defer cancel()
	s := mustSubscribeComments(t, first, svc, post.Slug)
	mustSubscribeArticles(t, ctx, svc)

	_, err := svc.SubscribeComments(ctx, post.Slug)
	wantError(t, err, conduit.Unavailable, "map[:[this server holds its maximum of 2 live subscriptions; try again shortly]]")
	if got := conduit.AsError(err).RetryAfter; got <= 0 {
		t.Errorf("RetryAfter = %v, want a wait", got)
	}
	_, err = svc.SubscribeArticles(ctx)
	wantError(t, err, conduit.Unavailable, "map[:[this server holds its maximum of 2 live subscriptions; try again shortly]]")
	wantStats(t, hub, conduit.HubStats{Open: 2, Refused: 2})

	cancelFirst() // makes room
	wantEnded(t, s, context.Canceled)
	mustSubscribeComments(t, ctx, svc, post.Slug)
	wantStats(t, hub, conduit.HubStats{Open: 2, Refused: 2})
}

func TestSubscribeArticles(t *testing.T) {
	t.Parallel()
	svc, hub, store := newLiveService(t, conduit.HubConfig{})
	jake := mustRegister(t, svc, "jake")
	anna := mustRegister(t, svc, "anna")
	bob := mustRegister(t, svc, "bob")
	carl := mustRegister(t, svc, "carl")
	if _, err := svc.Follow(as(anna), "jake"); err != nil {
		t.Fatal(err)
	}
	subscribe := func(u conduit.User) *conduit.Subscription {
		ctx, cancel := context.WithCancel(as(u))
		t.Cleanup(cancel)
		return mustSubscribeArticles(t, ctx, svc)
	}
	annas, annas2, bobs, carls := subscribe(anna), subscribe(anna), subscribe(bob), subscribe(carl)
	published := func(a conduit.Article) conduit.Event {
		return conduit.Event{Kind: conduit.ArticlePublished, ArticleID: a.ID, AuthorID: a.Author.ID}
	}

	t.Run("OK", func(t *testing.T) {
		e := published(mustCreateArticle(t, svc, jake, "First"))
		statements := store.Statements()
		mustPublish(t, hub, e)
		// One query for the event, however many subscribe.
		if got := store.Statements() - statements; got != 1 {
			t.Errorf("Publish sent %d statements, want 1", got)
		}
		wantQueued(t, annas, e)
		wantQueued(t, annas2, e)
		wantQueued(t, bobs)
		wantQueued(t, carls)
	})
	t.Run("FollowAfterSubscribing", func(t *testing.T) {
		if _, err := svc.Follow(as(carl), "jake"); err != nil {
			t.Fatal(err)
		}
		e := published(mustCreateArticle(t, svc, jake, "Second"))
		mustPublish(t, hub, e)
		wantQueued(t, annas, e)
		wantQueued(t, annas2, e)
		wantQueued(t, bobs)
		wantQueued(t, carls, e)
	})
	t.Run("UnfollowAfterSubscribing", func(t *testing.T) {
		if _, err := svc.Unfollow(as(anna), "jake"); err != nil {
			t.Fatal(err)
		}
		e := published(mustCreateArticle(t, svc, jake, "Third"))
		mustPublish(t, hub, e)
		wantQueued(t, annas)
		wantQueued(t, annas2)
		wantQueued(t, carls, e)
	})
	t.Run("OnlyFollowedAuthors", func(t *testing.T) {
		mustPublish(t, hub, published(mustCreateArticle(t, svc, bob, "By Bob")))
		mustPublish(t, hub, commentEvent(conduit.CommentAdded, mustCreateArticle(t, svc, jake, "Commented"), 1))
		for _, s := range []*conduit.Subscription{annas, annas2, bobs} {
			wantQueued(t, s)
		}
		wantQueued(t, carls) // the article of the comment is not published here
	})
	t.Run("FollowCheckFails", func(t *testing.T) {
		before := hub.Stats()
		failed, cancel := context.WithCancel(context.Background())
		cancel()
		e := published(mustCreateArticle(t, svc, jake, "Unheard"))
		err := hub.Publish(failed, e)
		if conduit.ErrorCode(err) != conduit.Canceled {
			t.Fatalf("Publish with a canceled context = %v, want the store's Canceled error", err)
		}
		for _, s := range []*conduit.Subscription{annas, annas2, bobs, carls} {
			wantQueued(t, s)
			wantOpen(t, s)
		}
		wantStats(t, hub, conduit.HubStats{Open: 4, Delivered: before.Delivered, Dropped: before.Dropped + 4, Failed: 1})

		// The subscribers are still there for the next event.
		e = published(mustCreateArticle(t, svc, jake, "Heard"))
		mustPublish(t, hub, e)
		wantQueued(t, carls, e)
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		_, err := svc.SubscribeArticles(context.Background())
		wantError(t, err, conduit.Unauthenticated, "map[:[authentication required]]")
	})
}
