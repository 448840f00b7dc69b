package conduit_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// replicas returns two services over one database, as two replicas are:
// each keeps its own tag list, the first for ttl.
func replicas(t *testing.T, ttl time.Duration) (*db.DB, *conduit.Service, *conduit.Service) {
	t.Helper()
	store := dbtest.New(t)
	newSvc := func(ttl time.Duration) *conduit.Service {
		svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte("test secret"), BcryptCost: 4, TagListTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	return store, newSvc(ttl), newSvc(-1)
}

func mustTags(t *testing.T, svc *conduit.Service, want ...string) {
	t.Helper()
	got, err := svc.Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("tags = %q, want %q", got, want)
	}
}

func mustTagged(t *testing.T, svc *conduit.Service, author conduit.User, title string, tags ...string) conduit.Article {
	t.Helper()
	a, err := svc.CreateArticle(as(author), conduit.CreateArticleInput{Title: title, Description: "d", Body: "b", TagList: tags})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestTagListOwnWrites proves that the service's own writes show in its
// tag list at once, kept or not: creating, retagging and deleting an
// article, in the order of use, while reads between them cost nothing.
func TestTagListOwnWrites(t *testing.T) {
	t.Parallel()
	store, svc, _ := replicas(t, time.Hour)
	ann := mustRegister(t, svc, "ann")
	mustTags(t, svc)
	a := mustTagged(t, svc, ann, "One", "go", "sql")
	mustTags(t, svc, "go", "sql")
	mustTagged(t, svc, ann, "Two", "sql")
	mustTags(t, svc, "sql", "go")

	before := store.Statements()
	for range 10 {
		mustTags(t, svc, "sql", "go")
	}
	if n := store.Statements() - before; n != 0 {
		t.Fatalf("10 reads of a kept list ran %d statements, want 0", n)
	}

	// An edit that leaves the tags alone keeps the list.
	if _, err := svc.UpdateArticle(as(ann), a.Slug, conduit.UpdateArticleInput{Body: conduit.Some("new body")}); err != nil {
		t.Fatal(err)
	}
	before = store.Statements()
	mustTags(t, svc, "sql", "go")
	if n := store.Statements() - before; n != 0 {
		t.Fatalf("a read after an edit of the body ran %d statements, want 0", n)
	}
	if _, err := svc.UpdateArticle(as(ann), a.Slug, conduit.UpdateArticleInput{TagList: conduit.Some([]string{"rust"})}); err != nil {
		t.Fatal(err)
	}
	mustTags(t, svc, "rust", "sql")
	if _, err := svc.DeleteArticle(as(ann), a.Slug); err != nil {
		t.Fatal(err)
	}
	mustTags(t, svc, "sql")

	// The list returned is the caller's to change.
	got, _ := svc.Tags(context.Background())
	got[0] = "changed"
	mustTags(t, svc, "sql")
}

// TestTagListOtherReplicas proves that another replica's writes show
// within the TTL, or at once when the listener reports them (TagsChanged).
func TestTagListOtherReplicas(t *testing.T) {
	t.Parallel()
	t.Run("TagsChanged", func(t *testing.T) {
		t.Parallel()
		_, kept, other := replicas(t, time.Hour)
		ann := mustRegister(t, other, "ann")
		mustTags(t, kept)
		mustTagged(t, other, ann, "One", "go")
		mustTags(t, kept) // kept for an hour
		kept.TagsChanged()
		mustTags(t, kept, "go")
	})
	t.Run("TTL", func(t *testing.T) {
		t.Parallel()
		const ttl = 50 * time.Millisecond
		_, kept, other := replicas(t, ttl)
		ann := mustRegister(t, other, "ann")
		mustTags(t, kept)
		mustTagged(t, other, ann, "One", "go")
		written := time.Now()
		for {
			got, err := kept.Tags(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(got, []string{"go"}) {
				break
			}
			if time.Since(written) > 20*ttl {
				t.Fatalf("tags = %q %v after the write, want [go] within the TTL of %v", got, time.Since(written), ttl)
			}
			time.Sleep(ttl / 10)
		}
	})
}

// TestTagListSharedRead proves that concurrent requests for a list to be
// read share one statement, and that a read that began before a forget
// does not answer a request that came after it.
func TestTagListSharedRead(t *testing.T) {
	t.Parallel()
	t.Run("OneStatement", func(t *testing.T) {
		t.Parallel()
		store, svc, _ := replicas(t, time.Hour)
		ann := mustRegister(t, svc, "ann")
		mustTagged(t, svc, ann, "One", "go")
		before := store.Statements()
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				if got, err := svc.Tags(context.Background()); err != nil || !slices.Equal(got, []string{"go"}) {
					t.Errorf("tags = %q, %v; want [go]", got, err)
				}
			})
		}
		wg.Wait()
		if n := store.Statements() - before; n != 1 {
			t.Fatalf("32 concurrent reads of a forgotten list ran %d statements, want 1", n)
		}
	})
	t.Run("ReadBeforeForget", func(t *testing.T) {
		t.Parallel()
		store, svc := newGatedService(t)
		ann := mustRegister(t, svc, "ann")
		// The first read reads the store as it is: no tags.
		early := tagsLater(t, svc)
		<-store.entered
		// While it reads, an article with a tag commits (a write of
		// another replica; this one hears of it).
		if _, err := store.CreateArticle(context.Background(), conduit.NewArticle{AuthorID: ann.ID, Slug: "one", Title: "One", Description: "d", Body: "b", TagList: []string{"go"}}); err != nil {
			t.Fatal(err)
		}
		svc.TagsChanged()
		late := tagsLater(t, svc)
		store.release <- struct{}{}
		if got := <-early; len(got) != 0 {
			t.Fatalf("the read that began before the write returned %q, want none", got)
		}
		if got := <-late; !slices.Equal(got, []string{"go"}) {
			t.Fatalf("the read that began after the write returned %q, want [go]", got)
		}
		mustTags(t, svc, "go")
	})
	t.Run("WritesDoNotStarveReads", func(t *testing.T) {
		t.Parallel()
		// A forget that comes while a request waits for a read that began
		// after the request came is a write concurrent with it: the read
		// answers it, rather than sending it to wait for yet another read,
		// which under a steady stream of writes it could do for ever.
		store, svc := newGatedService(t)
		ann := mustRegister(t, svc, "ann")
		mustTagged(t, svc, ann, "One", "go")
		first := tagsLater(t, svc)
		<-store.entered // the first read is under way
		waiter := tagsLater(t, svc)
		for deadline := time.Now().Add(10 * time.Second); svc.TagReadWaiters() != 1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the second request did not join the read under way")
			}
		}
		svc.TagsChanged() // a write of another replica while it waits
		before := store.Statements()
		store.release <- struct{}{}
		for name, c := range map[string]chan []string{"the first request": first, "the waiter": waiter} {
			if got := <-c; !slices.Equal(got, []string{"go"}) {
				t.Fatalf("%s got %q, want [go]", name, got)
			}
		}
		if n := store.Statements() - before; n != 0 {
			t.Fatalf("the waiter ran %d statements after the read it joined, want 0", n)
		}
	})
}

// tagsLater reads svc's tags in a goroutine of its own, and sends them
// when it has them.
func tagsLater(t *testing.T, svc *conduit.Service) chan []string {
	c := make(chan []string, 1)
	go func() {
		tags, err := svc.Tags(context.Background())
		if err != nil {
			t.Errorf("tags: %v", err)
		}
		c <- tags
	}()
	return c
}

// newGatedService returns a service, kept for an hour, over a store whose
// first read of the tags waits at its gate.
func newGatedService(t *testing.T) (*gatedTags, *conduit.Service) {
	store := newGatedTags(t, 1)
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte("test secret"), BcryptCost: 4, TagListTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return store, svc
}

// gatedTags is the store whose first gates reads of the tags each wait
// for a release, once they have read them, so that a test can act while
// they are under way.
type gatedTags struct {
	*db.DB
	gates            atomic.Int32
	entered, release chan struct{}
}

func newGatedTags(t *testing.T, gates int32) *gatedTags {
	g := &gatedTags{DB: dbtest.New(t), entered: make(chan struct{}, gates), release: make(chan struct{})}
	g.gates.Store(gates)
	return g
}

func (g *gatedTags) Tags(ctx context.Context) ([]string, error) {
	tags, err := g.DB.Tags(ctx)
	if g.gates.Add(-1) >= 0 {
		g.entered <- struct{}{}
		<-g.release
	}
	return tags, err
}
