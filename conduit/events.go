package conduit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// EventKind says what happened.
type EventKind string

// The kinds of events.
const (
	CommentAdded     EventKind = "commentAdded"
	CommentDeleted   EventKind = "commentDeleted"
	ArticlePublished EventKind = "articlePublished"
)

// Event is a write that committed, as the database announces it to every
// replica. It carries ids only; whoever shows it reads the rows, as the
// viewer sees them.
type Event struct {
	Kind      EventKind
	ArticleID int64
	CommentID int64 // comment events only
	AuthorID  int64 // who wrote the comment or the article
}

// HubConfig tunes a Hub. Zero values take the defaults.
type HubConfig struct {
	// Buffer is how many events may wait for one subscriber to read them;
	// one more, and the subscriber is ended as too slow. DefaultHubBuffer
	// when zero.
	Buffer int
	// MaxSubscriptions bounds the subscriptions open at once on this Hub
	// (that is, per replica); past it, subscribing fails with Unavailable.
	// DefaultMaxSubscriptions when zero.
	MaxSubscriptions int
}

// The defaults of HubConfig.
const (
	DefaultHubBuffer        = 64
	DefaultMaxSubscriptions = 10_000
)

// followersTimeout bounds the one query that filters an articlePublished
// event by who follows its author, so that a slow database delays the
// events behind it by no more than this.
const followersTimeout = 2 * time.Second

// ErrTooSlow ends a subscription whose reader let Buffer events pile up:
// the hub drops nobody's events to wait for one reader, so the reader has
// missed some and must start again.
var ErrTooSlow = &Error{
	Code:   TooSlow,
	Fields: map[string][]string{NoField: {"subscriber too slow: events were not read in time"}},
}

// ErrShuttingDown ends every subscription when the replica stops, and
// refuses new ones: another replica takes them.
var ErrShuttingDown = &Error{
	Code:       Unavailable,
	Fields:     map[string][]string{NoField: {"the server is shutting down; subscribe again"}},
	RetryAfter: unavailableRetry,
}

// errLiveOff answers subscriptions on a service built without a Hub.
var errLiveOff = Errorf(Unavailable, "live updates are off")

// Hub fans the events of this replica's listener out to its subscribers.
// It holds no goroutine per subscriber: Publish queues each event on the
// channels of those it concerns, without waiting for any of them, and a
// subscription leaves when its context is done. The zero Hub is not
// usable; call NewHub.
type Hub struct {
	store  Store
	buffer int
	max    int

	// publishing serializes Publish, so that events reach every subscriber
	// in the order Publish was called even while one waits for the store.
	publishing sync.Mutex

	mu     sync.Mutex
	closed bool
	subs   map[*Subscription]struct{}
	// byArticle indexes the comment subscriptions by article id, and
	// byFollower the article subscriptions by viewer id. Empty inner maps
	// are deleted, so that the indexes only hold what is open.
	byArticle  map[int64]map[*Subscription]struct{}
	byFollower map[int64]map[*Subscription]struct{}

	delivered, dropped, refused, failed atomic.Uint64
}

// NewHub returns a Hub that asks store who follows whom.
func NewHub(store Store, cfg HubConfig) *Hub {
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultHubBuffer
	}
	if cfg.MaxSubscriptions <= 0 {
		cfg.MaxSubscriptions = DefaultMaxSubscriptions
	}
	return &Hub{
		store:      store,
		buffer:     cfg.Buffer,
		max:        cfg.MaxSubscriptions,
		subs:       make(map[*Subscription]struct{}),
		byArticle:  make(map[int64]map[*Subscription]struct{}),
		byFollower: make(map[int64]map[*Subscription]struct{}),
	}
}

// HubStats counts what a Hub did since it was made.
type HubStats struct {
	// Open is the number of subscriptions open now.
	Open int64
	// Delivered counts events queued for a subscriber; Dropped counts
	// those that were not: the subscriber was too slow, or its follow
	// check failed. An event with three subscribers counts three times.
	Delivered, Dropped uint64
	// Refused counts subscriptions refused because the Hub was full or
	// closed.
	Refused uint64
	// Failed counts articlePublished events whose follow check failed
	// (Publish returned the error).
	Failed uint64
}

// Stats returns the counters of h.
func (h *Hub) Stats() HubStats {
	h.mu.Lock()
	open := int64(len(h.subs))
	h.mu.Unlock()
	return HubStats{
		Open:      open,
		Delivered: h.delivered.Load(),
		Dropped:   h.dropped.Load(),
		Refused:   h.refused.Load(),
		Failed:    h.failed.Load(),
	}
}

// Publish hands e to every subscriber it concerns: comment events to those
// of its article, articlePublished to those who follow its author (asked
// of the store once per event, however many subscribe, and only when
// someone does). Events reach each subscriber in the order Publish is
// called. Publish never waits for a subscriber: one whose buffer is full
// is ended with ErrTooSlow, and the event counts as dropped for it.
//
// Events of any other kind go nowhere.
//
// Publish returns the store's error when the follow check fails: the
// event is then dropped for every article subscriber, who stay subscribed.
// It logs nothing; the caller does.
func (h *Hub) Publish(ctx context.Context, e Event) error {
	h.publishing.Lock()
	defer h.publishing.Unlock()
	switch e.Kind {
	case CommentAdded, CommentDeleted:
		h.mu.Lock()
		defer h.mu.Unlock()
		for s := range h.byArticle[e.ArticleID] {
			h.send(s, e)
		}
		return nil
	case ArticlePublished:
		return h.publishArticle(ctx, e)
	}
	return nil
}

// publishArticle delivers e to the article subscribers who follow its
// author at the time of the event.
func (h *Hub) publishArticle(ctx context.Context, e Event) error {
	h.mu.Lock()
	viewers := make([]int64, 0, len(h.byFollower))
	for id := range h.byFollower {
		viewers = append(viewers, id)
	}
	h.mu.Unlock()
	if len(viewers) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, followersTimeout)
	followers, err := h.store.FollowersAmong(ctx, e.AuthorID, viewers)
	cancel()

	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.failed.Add(1)
		for _, id := range viewers {
			h.dropped.Add(uint64(len(h.byFollower[id])))
		}
		return fmt.Errorf("filter %s event of article %d by followers: %w", e.Kind, e.ArticleID, err)
	}
	// Subscriptions opened while the store was asked are not among the
	// candidates: the event was published before they were there.
	for _, id := range followers {
		for s := range h.byFollower[id] {
			h.send(s, e)
		}
	}
	return nil
}

// send queues e for s, or ends s if its buffer is full. h.mu is held.
func (h *Hub) send(s *Subscription, e Event) {
	select {
	case s.events <- e:
		h.delivered.Add(1)
	default:
		h.dropped.Add(1)
		h.end(s, ErrTooSlow)
	}
}

// Close ends every subscription with ErrShuttingDown, and refuses new ones
// with the same error. Closing twice does nothing more.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.end(s, ErrShuttingDown)
	}
}

// Subscription is one subscriber's stream of events.
type Subscription struct {
	hub    *Hub
	events chan Event
	// article or follower, whichever is set, says what s is subscribed to.
	article, follower int64
	// stop unregisters the watch on the subscriber's context.
	stop func() bool
	err  error // set, under hub.mu, when s ends
}

// Events returns the channel of s's events. It is closed when the
// subscription ends; the events queued before stay readable.
func (s *Subscription) Events() <-chan Event { return s.events }

// Err tells why the subscription ended: ErrTooSlow, ErrShuttingDown, or the
// error of its context. It returns nil while the subscription is open.
func (s *Subscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// subscribe opens a subscription to the comments of article id, or to
// what follower's followees publish, whichever is non-zero. It ends when
// ctx is done.
func (h *Hub) subscribe(ctx context.Context, article, follower int64) (*Subscription, error) {
	s := &Subscription{hub: h, events: make(chan Event, h.buffer), article: article, follower: follower}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		h.refused.Add(1)
		return nil, ErrShuttingDown
	case len(h.subs) >= h.max:
		h.refused.Add(1)
		return nil, &Error{
			Code:       Unavailable,
			Fields:     map[string][]string{NoField: {fmt.Sprintf("this server holds its maximum of %d live subscriptions; try again shortly", h.max)}},
			RetryAfter: unavailableRetry,
		}
	}
	h.subs[s] = struct{}{}
	if article != 0 {
		add(h.byArticle, article, s)
	} else {
		add(h.byFollower, follower, s)
	}
	// AfterFunc starts no goroutine until ctx is done, and then one that
	// returns at once; a context that is done already ends s right away.
	s.stop = context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.end(s, ctx.Err())
	})
	return s, nil
}

// end closes s with err unless it has ended already. h.mu is held.
func (h *Hub) end(s *Subscription, err error) {
	if _, open := h.subs[s]; !open {
		return
	}
	delete(h.subs, s)
	if s.article != 0 {
		remove(h.byArticle, s.article, s)
	} else {
		remove(h.byFollower, s.follower, s)
	}
	s.err = err
	close(s.events)
	if s.stop != nil {
		// Ending for another reason than the context: stop watching it,
		// so that a long-lived context does not keep s alive.
		s.stop()
	}
}

func add(index map[int64]map[*Subscription]struct{}, key int64, s *Subscription) {
	set := index[key]
	if set == nil {
		set = make(map[*Subscription]struct{})
		index[key] = set
	}
	set[s] = struct{}{}
}

func remove(index map[int64]map[*Subscription]struct{}, key int64, s *Subscription) {
	set := index[key]
	delete(set, s)
	if len(set) == 0 {
		delete(index, key)
	}
}

// SubscribeComments subscribes to the commentAdded and commentDeleted
// events of the article with the slug, which is looked up once, now.
// Anonymous viewers may subscribe. The subscription ends when ctx is done.
// Returns NotFound if no article has the slug, and Unavailable when live
// updates are off or this replica has no room for another subscription.
func (s *Service) SubscribeComments(ctx context.Context, slug string) (*Subscription, error) {
	if s.hub == nil {
		return nil, errLiveOff
	}
	a, err := s.Article(ctx, slug)
	if err != nil {
		return nil, err
	}
	return s.hub.subscribe(ctx, a.ID, 0)
}

// SubscribeArticles subscribes to the articlePublished events of the
// authors the viewer follows at the time of each event, so that a follow
// made later counts from then on. The subscription ends when ctx is done.
// Returns Unauthenticated for an anonymous caller, and Unavailable when
// live updates are off or this replica has no room for another
// subscription.
func (s *Service) SubscribeArticles(ctx context.Context) (*Subscription, error) {
	if s.hub == nil {
		return nil, errLiveOff
	}
	viewer, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	return s.hub.subscribe(ctx, 0, viewer)
}
