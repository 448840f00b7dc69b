package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthcheckTimeout is how long `conduit healthcheck` waits for an answer:
// under the image's HEALTHCHECK --timeout, so that a slow server is
// reported by this command, with its reason, rather than killed unheard.
const healthcheckTimeout = 2 * time.Second

// healthcheck asks the server listening on this machine, at the address
// ADDR or PORT give it, for path (/healthz unless args name another) and
// returns an error unless it answers 200. It is the container image's
// HEALTHCHECK, which has no shell or curl to run.
//
// /healthz, not /readyz, because a container engine restarts (or a
// swarm replaces) an unhealthy container: during a database outage every
// replica would be restarted over and over, and a restart cannot bring the
// database back, while a running server recovers by itself once it
// returns. Readiness is the load balancer's question: `conduit healthcheck
// /readyz` answers it too.
func healthcheck(ctx context.Context, args []string, getenv func(string) string) error {
	path := "/healthz"
	if len(args) > 2 {
		path = args[2]
	}
	if !strings.HasPrefix(path, "/") || len(args) > 3 {
		return fmt.Errorf("healthcheck: want conduit healthcheck [/path], such as /readyz")
	}
	addr := listenAddr(getenv)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: listen address %q: %v", addr, err)
	}
	if port == "0" {
		return fmt.Errorf("healthcheck: the listen address %q lets the system choose the port, so there is none to check", addr)
	}
	switch host {
	case "", "0.0.0.0", "::":
		// A wildcard listener (dual-stack for "::") is reached on loopback.
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + path

	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	client := &http.Client{
		// The container's HTTP_PROXY, if any, is for calls out, not to itself.
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		// A redirect would mean something else answers on the port.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s: %s", url, res.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
