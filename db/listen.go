package db

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
)

// EventsChannel is the channel on which the triggers of migration 00005
// announce every committed comment, comment deletion and article.
const EventsChannel = "conduit_events"

// ListenerApplicationName is the application_name of the listener's
// connection, by which an operator (or a test) finds it in pg_stat_activity.
const ListenerApplicationName = "conduit-listener"

// ListenOptions tunes Listen.
type ListenOptions struct {
	// OnListening is called each time LISTEN succeeds: once at start, then
	// after each reconnection. Events committed while the connection was
	// down are not heard, so this is where a caller learns that some may
	// have been missed.
	OnListening func()
	// MinBackoff and MaxBackoff bound the wait between attempts to
	// reconnect, which doubles from one to the other, with jitter.
	// DefaultMinBackoff and DefaultMaxBackoff when zero.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives one warning when the connection is lost and one info
	// when it is back, not one per attempt. The DB's logger when nil.
	Logger *slog.Logger
}

// The defaults of ListenOptions.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
)

// listenHeartbeat is how long the listener waits for a notification before
// it checks that the connection still answers: a network that drops
// packets silently would otherwise leave it waiting forever.
const listenHeartbeat = 30 * time.Second

// maxLoggedPayload is the longest payload of an undecodable notification
// that is logged as it is; a longer one is logged by its length.
const maxLoggedPayload = 200

// Listen LISTENs on EventsChannel on a connection of its own (not one of
// the pool's, which would be taken from requests for good, and without
// statement_timeout), decodes each notification into a conduit.Event and
// calls deliver with it, in order, on the calling goroutine. When the
// connection fails (the database restarted, the backend was terminated,
// the network went quiet) it connects again with backoff and LISTENs
// again. A notification that does not decode is logged and skipped.
//
// Listen returns nil when ctx is done, and not before.
func (d *DB) Listen(ctx context.Context, deliver func(conduit.Event), opts ListenOptions) error {
	return d.listen(ctx, deliver, opts, listenHeartbeat)
}

// listen is Listen with the heartbeat as a parameter, for tests.
func (d *DB) listen(ctx context.Context, deliver func(conduit.Event), opts ListenOptions, heartbeat time.Duration) error {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.Logger == nil {
		opts.Logger = d.logger
	}
	cfg := d.pool.Config().ConnConfig.Copy()
	delete(cfg.RuntimeParams, "statement_timeout")
	delete(cfg.RuntimeParams, "idle_in_transaction_session_timeout")
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	// The pool's tracer counts statements sent for requests and spans them;
	// the listener's are none of those.
	cfg.Tracer = nil

	backoff := opts.MinBackoff
	lost := false
	for {
		err := d.listenOnce(ctx, cfg, deliver, opts, heartbeat, func() {
			if lost {
				opts.Logger.Info("event listener: listening again", slog.String("channel", EventsChannel))
				lost = false
			}
			backoff = opts.MinBackoff
		})
		if ctx.Err() != nil {
			return nil
		}
		if !lost {
			opts.Logger.Warn("event listener: connection lost; live updates pause until it is back",
				slog.String("channel", EventsChannel), slog.Any("error", err))
			lost = true
		}
		// Half the backoff for sure and the other half at random, so that
		// replicas that lost the database together do not all knock at once.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, opts.MaxBackoff)
	}
}

// listenOnce connects, LISTENs, calls listening, and delivers events until
// the connection fails or ctx is done; it returns why.
func (d *DB) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, deliver func(conduit.Event), opts ListenOptions, heartbeat time.Duration, listening func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{EventsChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	listening()
	if opts.OnListening != nil {
		opts.OnListening()
	}
	for {
		waitCtx, cancel := context.WithTimeout(ctx, heartbeat)
		n, err := conn.WaitForNotification(waitCtx)
		quiet := waitCtx.Err() != nil && ctx.Err() == nil
		cancel()
		switch {
		case err == nil:
		case quiet:
			// Quiet for a while: make sure the server is still there.
			pingCtx, cancel := context.WithTimeout(ctx, DefaultConnectTimeout)
			err = conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			continue
		default:
			return fmt.Errorf("wait for notification: %w", err)
		}
		e, err := decodeEvent(n.Payload)
		if err != nil {
			attrs := []any{slog.String("channel", n.Channel), slog.Any("error", err)}
			if len(n.Payload) <= maxLoggedPayload {
				attrs = append(attrs, slog.String("payload", n.Payload))
			} else {
				attrs = append(attrs, slog.Int("payload_bytes", len(n.Payload)))
			}
			opts.Logger.Warn("event listener: skipped a notification that is not an event", attrs...)
			continue
		}
		deliver(e)
	}
}

// decodeEvent reads the payload the triggers of migration 00005 write.
func decodeEvent(payload string) (conduit.Event, error) {
	var p struct {
		Kind    conduit.EventKind `json:"kind"`
		Article int64             `json:"article"`
		Comment int64             `json:"comment"`
		Author  int64             `json:"author"`
	}
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return conduit.Event{}, fmt.Errorf("decode event: %w", err)
	}
	switch p.Kind {
	case conduit.CommentAdded, conduit.CommentDeleted:
		if p.Comment <= 0 {
			return conduit.Event{}, fmt.Errorf("decode event: %s without a comment", p.Kind)
		}
	case conduit.ArticlePublished:
		if p.Comment != 0 {
			return conduit.Event{}, fmt.Errorf("decode event: %s with a comment", p.Kind)
		}
	default:
		return conduit.Event{}, fmt.Errorf("decode event: unknown kind %q", p.Kind)
	}
	if p.Article <= 0 || p.Author <= 0 {
		return conduit.Event{}, fmt.Errorf("decode event: %s without an article or an author", p.Kind)
	}
	e := conduit.Event{Kind: p.Kind, ArticleID: p.Article, CommentID: p.Comment, AuthorID: p.Author}
	return e, nil
}
