package db_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// eventWait bounds how long a test waits for a notification it expects.
const eventWait = 10 * time.Second

// listener is a running db.Listen whose events, LISTEN successes and log
// a test reads.
type listener struct {
	events    chan conduit.Event
	listening chan struct{}
	log       *syncBuffer
	stop      func() error // ends Listen and returns what it returned
}

func startListener(tb testing.TB, d *db.DB) *listener {
	tb.Helper()
	return startListenerWith(tb, d, d.Listen)
}

func startListenerWith(tb testing.TB, d *db.DB, listen func(context.Context, func(conduit.Event), db.ListenOptions) error) *listener {
	tb.Helper()
	l := &listener{
		events:    make(chan conduit.Event, 100),
		listening: make(chan struct{}, 10),
		log:       &syncBuffer{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- listen(ctx, func(e conduit.Event) { l.events <- e }, db.ListenOptions{
			OnListening: func() { l.listening <- struct{}{} },
			MinBackoff:  10 * time.Millisecond,
			MaxBackoff:  50 * time.Millisecond,
			Logger:      slog.New(slog.NewTextHandler(l.log, nil)),
		})
	}()
	var once sync.Once
	var err error
	l.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(eventWait):
				tb.Errorf("Listen did not return %v after its context was canceled", eventWait)
			}
		})
		return err
	}
	tb.Cleanup(func() { l.stop() })
	l.waitListening(tb)
	return l
}

func (l *listener) waitListening(tb testing.TB) {
	tb.Helper()
	select {
	case <-l.listening:
	case <-time.After(eventWait):
		tb.Fatalf("OnListening was not called within %v", eventWait)
	}
}

// next returns the next event heard.
func (l *listener) next(tb testing.TB) conduit.Event {
	tb.Helper()
	select {
	case e := <-l.events:
		return e
	case <-time.After(eventWait):
		tb.Fatalf("no event within %v", eventWait)
		return conduit.Event{}
	}
}

// wantEvents fails unless the next events heard are exactly want.
func (l *listener) wantEvents(tb testing.TB, want ...conduit.Event) {
	tb.Helper()
	for i, w := range want {
		if got := l.next(tb); got != w {
			tb.Fatalf("event %d = %+v, want %+v", i, got, w)
		}
	}
}

// syncBuffer is a bytes.Buffer that a logger may write while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestListenEvents(t *testing.T) {
	t.Parallel()
	d, url := dbtest.NewWithURL(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	l := startListener(t, d)

	a := mustCreateArticle(t, d, jake.ID, "post")
	c1 := mustComment(t, d, "post", anna.ID, "first")
	c2 := mustComment(t, d, "post", jake.ID, "second")

	// A comment whose transaction rolls back is never announced.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, 'rolled back')`, a.ID, anna.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	if err := d.DeleteComment(ctx, c1.ID); err != nil {
		t.Fatal(err)
	}
	// Deleting the article deletes its comments, and each is announced.
	if err := d.DeleteArticle(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	marker := mustCreateArticle(t, d, anna.ID, "marker")

	l.wantEvents(t,
		conduit.Event{Kind: conduit.ArticlePublished, ArticleID: a.ID, AuthorID: jake.ID},
		conduit.Event{Kind: conduit.CommentAdded, ArticleID: a.ID, CommentID: c1.ID, AuthorID: anna.ID},
		conduit.Event{Kind: conduit.CommentAdded, ArticleID: a.ID, CommentID: c2.ID, AuthorID: jake.ID},
		conduit.Event{Kind: conduit.CommentDeleted, ArticleID: a.ID, CommentID: c1.ID, AuthorID: anna.ID},
		conduit.Event{Kind: conduit.CommentDeleted, ArticleID: a.ID, CommentID: c2.ID, AuthorID: jake.ID},
		conduit.Event{Kind: conduit.ArticlePublished, ArticleID: marker.ID, AuthorID: anna.ID},
	)
	select {
	case e := <-l.events:
		t.Fatalf("extra event %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
	if err := l.stop(); err != nil {
		t.Errorf("Listen = %v, want nil after its context was canceled", err)
	}
}

// TestListenEventsCommitOrder checks that events come in the order their
// transactions commit, not the order their rows were written.
func TestListenEventsCommitOrder(t *testing.T) {
	t.Parallel()
	d, url := dbtest.NewWithURL(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	a := mustCreateArticle(t, d, jake.ID, "post")
	l := startListener(t, d)

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var early int64
	if err := tx.QueryRow(ctx, `INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, 'written first') RETURNING id`, a.ID, jake.ID).Scan(&early); err != nil {
		t.Fatal(err)
	}
	late := mustComment(t, d, "post", jake.ID, "committed first")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	l.wantEvents(t,
		conduit.Event{Kind: conduit.CommentAdded, ArticleID: a.ID, CommentID: late.ID, AuthorID: jake.ID},
		conduit.Event{Kind: conduit.CommentAdded, ArticleID: a.ID, CommentID: early, AuthorID: jake.ID},
	)
}

func TestListenReconnects(t *testing.T) {
	t.Parallel()
	d, url := dbtest.NewWithURL(t)
	jake := mustCreateUser(t, d, "jake")
	l := startListener(t, d)

	// Other tests' listeners share the server: only this database's.
	terminated := dbtest.QueryInt(t, url, `
		SELECT count(*) FROM (
			SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1 AND datname = current_database()
		) t`, db.ListenerApplicationName)
	if terminated != 1 {
		t.Fatalf("terminated %d listening backends, want 1", terminated)
	}
	l.waitListening(t)
	a := mustCreateArticle(t, d, jake.ID, "after")
	l.wantEvents(t, conduit.Event{Kind: conduit.ArticlePublished, ArticleID: a.ID, AuthorID: jake.ID})
	if err := l.stop(); err != nil {
		t.Errorf("Listen = %v, want nil after its context was canceled", err)
	}

	log := l.log.String()
	if n := strings.Count(log, "level=WARN msg=\"event listener: connection lost"); n != 1 {
		t.Errorf("connection lost logged %d times, want once:\n%s", n, log)
	}
	if n := strings.Count(log, "level=INFO msg=\"event listener: listening again\""); n != 1 {
		t.Errorf("listening again logged %d times, want once:\n%s", n, log)
	}
}

func TestListenSkipsUndecodable(t *testing.T) {
	t.Parallel()
	d, url := dbtest.NewWithURL(t)
	jake := mustCreateUser(t, d, "jake")
	l := startListener(t, d)

	long := `{"kind":"commentAdded","padding":"` + strings.Repeat("x", 300) + `"}`
	for _, payload := range []string{
		`not json`,
		`{"kind":"articleLiked","article":1,"author":1}`,
		`{"kind":"commentAdded","article":1,"author":1}`,
		long,
	} {
		dbtest.Exec(t, url, `SELECT pg_notify($1, $2)`, db.EventsChannel, payload)
	}
	a := mustCreateArticle(t, d, jake.ID, "marker")
	l.wantEvents(t, conduit.Event{Kind: conduit.ArticlePublished, ArticleID: a.ID, AuthorID: jake.ID})
	l.stop()

	log := l.log.String()
	if n := strings.Count(log, "skipped a notification that is not an event"); n != 4 {
		t.Errorf("skipped notifications logged %d times, want 4:\n%s", n, log)
	}
	for _, want := range []string{
		`payload="not json"`,
		`error="decode event: unknown kind \"articleLiked\""`,
		`error="decode event: commentAdded without a comment"`,
		`payload_bytes=` + strconv.Itoa(len(long)),
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, "xxxx") {
		t.Errorf("log holds the long payload:\n%s", log)
	}
}

// TestListenHeartbeat checks that the listener's check of a quiet
// connection leaves it listening.
func TestListenHeartbeat(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	jake := mustCreateUser(t, d, "jake")
	l := startListenerWith(t, d, func(ctx context.Context, deliver func(conduit.Event), opts db.ListenOptions) error {
		return d.ListenWithHeartbeat(ctx, deliver, opts, 20*time.Millisecond)
	})
	time.Sleep(200 * time.Millisecond) // quiet for several heartbeats
	a := mustCreateArticle(t, d, jake.ID, "after")
	l.wantEvents(t, conduit.Event{Kind: conduit.ArticlePublished, ArticleID: a.ID, AuthorID: jake.ID})
	l.stop()
	select {
	case <-l.listening:
		t.Error("OnListening called again: the connection was lost")
	default:
	}
	if log := l.log.String(); log != "" {
		t.Errorf("log = %s, want nothing", log)
	}
}
