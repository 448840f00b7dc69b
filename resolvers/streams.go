package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/web"
)

// StreamOptions tunes the long-lived connections that carry subscriptions:
// WebSockets (graphql-transport-ws and graphql-ws) and server-sent events.
// Zero values take the defaults of DefaultStreamOptions.
type StreamOptions struct {
	// MaxConnections is how many streaming connections one replica holds
	// open at once; past it, a new one gets 503 with Retry-After before any
	// upgrade. They are counted apart from MAX_IN_FLIGHT, which bounds
	// requests that end. Default 10,000.
	MaxConnections int
	// MaxSubscriptionsPerConnection is how many subscriptions one WebSocket
	// may run at once; one more gets an error of its own (code
	// TOO_MANY_SUBSCRIPTIONS). An SSE request carries one. Default 20.
	MaxSubscriptionsPerConnection int
	// KeepAlive is how often the server pings: a graphql-transport-ws
	// client must answer within twice that or be disconnected; graphql-ws
	// clients get "ka" messages, SSE clients a comment line. Default 15 s.
	KeepAlive time.Duration
	// InitTimeout is how long a WebSocket client has to send
	// connection_init. Default 10 s.
	InitTimeout time.Duration
	// IdleTimeout closes a WebSocket that has run no subscription for so
	// long. Default 5 min.
	IdleTimeout time.Duration
	// WriteTimeout is how long one message may take to reach the client's
	// socket; a client that does not read for so long is disconnected.
	// Default 10 s.
	WriteTimeout time.Duration
	// AllowedOrigins are the origins (as CORS_ORIGINS has them) whose pages
	// may open a WebSocket besides the server's own; "*" allows any.
	AllowedOrigins []string
}

// DefaultStreamOptions returns the stream options of a public deployment.
func DefaultStreamOptions() StreamOptions {
	return StreamOptions{
		MaxConnections:                10_000,
		MaxSubscriptionsPerConnection: 20,
		KeepAlive:                     15 * time.Second,
		InitTimeout:                   10 * time.Second,
		IdleTimeout:                   5 * time.Minute,
		WriteTimeout:                  10 * time.Second,
	}
}

func (o StreamOptions) withDefaults() StreamOptions {
	d := DefaultStreamOptions()
	if o.MaxConnections <= 0 {
		o.MaxConnections = d.MaxConnections
	}
	if o.MaxSubscriptionsPerConnection <= 0 {
		o.MaxSubscriptionsPerConnection = d.MaxSubscriptionsPerConnection
	}
	for _, v := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&o.KeepAlive, d.KeepAlive}, {&o.InitTimeout, d.InitTimeout}, {&o.IdleTimeout, d.IdleTimeout}, {&o.WriteTimeout, d.WriteTimeout},
	} {
		if *v.v <= 0 {
			*v.v = v.def
		}
	}
	return o
}

// IsStream tells whether r opens a streaming connection to /graphql (a
// WebSocket upgrade, or a POST that accepts text/event-stream). The
// request timeout and the in-flight bound do not apply to those: they are
// bounded by StreamOptions instead. Other paths never stream.
func IsStream(r *http.Request) bool {
	if p := r.URL.Path; p != endpointPath && p != endpointPath+"/" {
		return false
	}
	return r.Header.Get("Upgrade") != "" ||
		r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// WebSocket close codes beyond RFC 6455's: 4401 and 4403 as
// graphql-transport-ws uses them.
const (
	closeNormal          = 1000
	closeGoingAway       = 1001
	closePolicyViolation = 1008
	closeUnauthorized    = 4401
	closeForbidden       = 4403
)

// errTokenExpired ends the subscriptions of a connection whose token has
// expired.
var errTokenExpired = conduit.FieldError(conduit.Unauthenticated, "token", "token expired: sign in again and subscribe anew")

// closeFor tells whether err, the end of a subscription, ends its
// connection too, and with which WebSocket close code and reason.
func closeFor(err error) (code int, reason string, ok bool) {
	switch {
	case errors.Is(err, conduit.ErrShuttingDown):
		return closeGoingAway, "server shutting down", true
	case errors.Is(err, errTokenExpired):
		return closeUnauthorized, "token expired", true
	case errors.Is(err, conduit.ErrTooSlow):
		return closePolicyViolation, "too slow: events were not read in time", true
	}
	return 0, "", false
}

// streams keeps the open streaming connections of one handler, to bound
// them and to close them all when the server shuts down: http.Server's
// Shutdown does not wait for hijacked connections, nor end streams.
type streams struct {
	opts   StreamOptions
	logger *slog.Logger
	svc    *conduit.Service

	mu     sync.Mutex
	open   map[*stream]struct{}
	closed bool
	// gone is signalled each time a stream ends, for shutdown to wait on.
	gone chan struct{}

	refused atomic.Uint64
}

func newStreams(svc *conduit.Service, logger *slog.Logger, opts StreamOptions) *streams {
	return &streams{opts: opts.withDefaults(), logger: logger, svc: svc, open: map[*stream]struct{}{}, gone: make(chan struct{}, 1)}
}

// stream is one streaming connection.
type stream struct {
	s      *streams
	cancel context.CancelFunc
	// expired is closed when the token the connection was opened with
	// expires: its subscriptions end with errTokenExpired.
	expired     chan struct{}
	expiredOnce sync.Once

	mu          sync.Mutex
	subs        int
	expiry      *time.Timer
	idle        *time.Timer
	closeCode   int
	closeReason string
}

type streamKey struct{}

func streamFrom(ctx context.Context) *stream {
	c, _ := ctx.Value(streamKey{}).(*stream)
	return c
}

// add registers a new stream, or returns nil when the replica holds as
// many as it may or is shutting down.
func (s *streams) add(cancel context.CancelFunc) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.open) >= s.opts.MaxConnections {
		s.refused.Add(1)
		return nil
	}
	c := &stream{s: s, cancel: cancel, expired: make(chan struct{})}
	s.open[c] = struct{}{}
	return c
}

func (s *streams) remove(c *stream) {
	c.mu.Lock()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	if c.idle != nil {
		c.idle.Stop()
	}
	c.mu.Unlock()
	s.mu.Lock()
	delete(s.open, c)
	s.mu.Unlock()
	select {
	case s.gone <- struct{}{}:
	default:
	}
}

// count returns how many streams are open.
func (s *streams) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// shutdown ends every stream, after its subscriptions have had a moment to
// tell their clients why (the hub, closed first, ends them with
// conduit.ErrShuttingDown), and waits until they are gone or ctx ends.
func (s *streams) shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	grace := time.NewTimer(time.Second)
	defer grace.Stop()
	ended := false
	for {
		s.mu.Lock()
		var left []*stream
		for c := range s.open {
			left = append(left, c)
		}
		s.mu.Unlock()
		if len(left) == 0 {
			return
		}
		for _, c := range left {
			if ended || c.subscriptions() == 0 {
				c.end(closeGoingAway, "server shutting down")
			}
		}
		select {
		case <-s.gone:
		case <-grace.C:
			ended = true
		case <-ctx.Done():
			return
		}
	}
}

// end closes the connection: a WebSocket with code and reason.
func (c *stream) end(code int, reason string) {
	c.mu.Lock()
	if c.closeCode == 0 {
		c.closeCode, c.closeReason = code, reason
	}
	c.mu.Unlock()
	c.cancel()
}

// closing returns the close code and reason end chose, if it was called.
func (c *stream) closing() (int, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode, c.closeReason, c.closeCode != 0
}

// expireAt arranges for the connection's subscriptions to end when its
// token expires; a later call (the token of connection_init, after the
// header's) replaces the earlier.
func (c *stream) expireAt(at time.Time) {
	if at.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.expiry = time.AfterFunc(time.Until(at), func() { c.expiredOnce.Do(func() { close(c.expired) }) })
}

// startSubscription counts one more subscription on the connection, if it
// may run one more.
func (c *stream) startSubscription() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs >= c.s.opts.MaxSubscriptionsPerConnection {
		return false
	}
	c.subs++
	if c.idle != nil {
		c.idle.Stop()
	}
	return true
}

func (c *stream) endSubscription() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs--
	if c.subs == 0 && c.idle != nil {
		c.idle.Reset(c.s.opts.IdleTimeout)
	}
}

func (c *stream) subscriptions() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subs
}

// watchIdle closes the connection when it has run no subscription for
// IdleTimeout.
func (c *stream) watchIdle() {
	timeout := c.s.opts.IdleTimeout
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = time.AfterFunc(timeout, func() {
		if c.subscriptions() == 0 {
			c.end(closeNormal, fmt.Sprintf("idle: no subscription for %s", timeout))
		}
	})
}

// streamTransport is gqlgen's SSE or WebSocket transport with our bounds
// around it: the connection is counted against MaxConnections and
// registered for shutdown, and the server's read deadline, which would end
// a stream that outlives ReadTimeout, is lifted.
type streamTransport struct {
	graphql.Transport
	s   *streams
	sse bool
}

func (t streamTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := t.s.add(cancel)
	if c == nil {
		w.Header().Set("Retry-After", "5")
		writeRequestError(w, t.s.logger, negotiate(r.Header.Get("Accept"), false), &requestError{
			status: http.StatusServiceUnavailable, message: "this replica holds as many subscription connections as it may; try again shortly",
		})
		return
	}
	defer t.s.remove(c)
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	if v, ok := conduit.ViewerFromContext(ctx); ok {
		c.expireAt(v.ExpiresAt)
	}
	if t.sse {
		w = &sseWriter{ResponseWriter: w, rc: rc, timeout: t.s.opts.WriteTimeout, stream: c}
	} else {
		c.watchIdle()
	}
	t.Transport.Do(w, r.WithContext(context.WithValue(ctx, streamKey{}, c)), exec)
}

// sseWriter bounds each write of an event stream by WriteTimeout and ends
// the stream at the first write that fails: a client that stopped reading
// is disconnected rather than left holding a subscription.
type sseWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	stream  *stream
}

func (w *sseWriter) Write(b []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	n, err := w.ResponseWriter.Write(b)
	if err != nil {
		w.stream.end(closePolicyViolation, "write failed")
	}
	return n, err
}

func (w *sseWriter) Flush() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	if err := w.rc.Flush(); err != nil {
		w.stream.end(closePolicyViolation, "write failed")
	}
}

func (w *sseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// initWebSocket authenticates a WebSocket connection: the Authorization of
// the connection_init payload, when there is one, else the upgrade
// request's header (which web.Authenticate has read). A token that is
// refused closes the connection with 4403 and the reason.
func (s *streams) initWebSocket(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	if value := p.Authorization(); value != "" {
		ctx = web.WithAuthorization(ctx, s.svc, value)
	}
	if _, err := s.svc.OptionalViewer(ctx); err != nil {
		reason := domainMessage(conduit.AsError(err))
		return transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, closeForbidden), reason), nil, errors.New(reason)
	}
	if v, ok := conduit.ViewerFromContext(ctx); ok {
		if c := streamFrom(ctx); c != nil {
			c.expireAt(v.ExpiresAt)
		}
	}
	return ctx, nil, nil
}

// websockets accepts WebSocket connections through gqlgen's adapter of
// coder/websocket, adding what the transport leaves to the adapter: a
// bound on the time one message may take to write, and the close code and
// reason the server chose when it ends a connection.
type websockets struct {
	accept       transport.CoderWebsocketImplementation
	writeTimeout time.Duration
}

func newWebsockets(opts StreamOptions) websockets {
	var accept coderws.AcceptOptions
	for _, o := range opts.AllowedOrigins {
		if o == "*" {
			// Tokens travel in headers and messages, never in cookies, so a
			// page of another origin gains nothing it could not do itself.
			accept.InsecureSkipVerify = true
			continue
		}
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			accept.OriginPatterns = append(accept.OriginPatterns, u.Host)
		}
	}
	return websockets{accept: transport.CoderWebsocketImplementation{AcceptOptions: accept}, writeTimeout: opts.WriteTimeout}
}

func (i websockets) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := i.accept.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	return &websocketConn{WebsocketConn: conn, stream: streamFrom(r.Context()), timeout: i.writeTimeout}, nil
}

type websocketConn struct {
	transport.WebsocketConn
	stream  *stream
	timeout time.Duration
}

// WriteJSON writes one message, or closes the connection when the client
// has not taken it within the write timeout.
func (c *websocketConn) WriteJSON(v any) error {
	t := time.AfterFunc(c.timeout, func() {
		if c.stream != nil {
			c.stream.end(closePolicyViolation, "too slow: events were not read in time")
		}
		_ = c.WebsocketConn.Close()
	})
	defer t.Stop()
	return c.WebsocketConn.WriteJSON(v)
}

// WriteClose closes with the code and reason the server chose, if it chose.
func (c *websocketConn) WriteClose(code int, message string) error {
	if c.stream != nil {
		if cc, reason, ok := c.stream.closing(); ok {
			code, message = cc, reason
		}
	}
	return c.WebsocketConn.WriteClose(code, message)
}

func (c *websocketConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *websocketConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
