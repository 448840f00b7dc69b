package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/conduit-dev/conduit/conduit"
)

// Fail answers a request that the plumbing refuses before any handler
// runs (a panic, a replica too busy), in the wire format of the surface
// the request was for.
type Fail func(w http.ResponseWriter, r *http.Request, err error)

// SecurityHeaders sets the headers every response carries: no MIME
// sniffing, no referrer sent on, no framing by other sites, and a content
// security policy that allows nothing, which suits JSON; pages that need
// more (GraphiQL, the API docs) set their own before writing.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// errBusy is the answer of a replica that has as many requests in flight
// as it may.
var errBusy = &conduit.Error{
	Code:       conduit.Unavailable,
	Fields:     map[string][]string{conduit.NoField: {"the server is busy; try again shortly"}},
	RetryAfter: time.Second,
}

// Shed caps the requests a replica serves at once at max: one more is
// refused at once with Unavailable (503 with Retry-After), where it would
// otherwise queue for a database connection without bound. A load
// balancer sends the retry elsewhere; onShed counts the refusals.
func Shed(max int, fail Fail, onShed func()) func(http.Handler) http.Handler {
	slots := make(chan struct{}, max)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case slots <- struct{}{}:
			default:
				if onShed != nil {
					onShed()
				}
				fail(w, r, errBusy)
				return
			}
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		})
	}
}

// Deadline bounds a request: its context ends after d, which reaches the
// database (a statement still running is cancelled and the request answers
// Unavailable), and its response must be written within d plus a grace
// period, so that a client that reads slowly cannot hold the connection.
// The deadline is set per request through http.ResponseController rather
// than as the server's WriteTimeout, so that a streaming route can move it.
func Deadline(d time.Duration) func(http.Handler) http.Handler {
	const writeGrace = 5 * time.Second
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			// Not every writer supports deadlines (a test recorder does not).
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + writeGrace))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// ClientAddress records the client's IP address in the request's context
// (conduit.NewContextWithClientAddress), for rate limits. It is the
// connection's peer, unless the peer is one of the trusted proxies: then
// it is the rightmost address of X-Forwarded-For that is not a trusted
// proxy, since every proxy appends what it saw and only the entries added
// by trusted ones can be believed.
func ClientAddress(trusted []netip.Prefix) func(http.Handler) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			client := peerAddr(r.RemoteAddr)
			if client.IsValid() && isTrusted(client) {
				hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
				for i := len(hops) - 1; i >= 0; i-- {
					hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
					if err != nil {
						break // a garbled entry: believe nothing further left
					}
					client = hop.Unmap()
					if !isTrusted(client) {
						break
					}
				}
			}
			addr := ""
			if client.IsValid() {
				addr = client.String()
			}
			next.ServeHTTP(w, r.WithContext(conduit.NewContextWithClientAddress(r.Context(), addr)))
		})
	}
}

// peerAddr parses the address of a connection's peer, "host:port".
func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ParseTrustedProxies reads a comma-separated list of IP addresses and
// CIDR prefixes, such as "10.0.0.0/8, 192.168.1.7".
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
