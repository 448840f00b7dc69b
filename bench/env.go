package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/conduit-dev/conduit/conduit"
)

// env is what the scenarios and checks need: where the systems are, whom
// to act as, and which articles to ask for.
type env struct {
	data        *benchData
	sys         *systems
	conns       int
	tokens      []string // of users 0..size.signedIn-1
	feedToken   string   // of user 0, who follows size.feedFollows users
	writerToken string
	slugs       []string // articles the article scenario rotates over
	hotSlugs    []string // articles with exactly hotComments comments
	favSlugs    []string // articles the favorite scenario toggles
	client      *http.Client
	cpu         cpuMeter
	// old is the old backend (-old), nil without it; oldView is this env
	// with its tokens and slugs, what its workloads are built from.
	old     *oldBackend
	oldView *env
}

func newEnv(ctx context.Context, data *benchData, sys *systems, old *oldBackend, conns int) (*env, error) {
	tokens := conduit.NewTokens([]byte(jwtSecret), 24*time.Hour)
	e := &env{
		data: data, sys: sys, conns: conns, client: &http.Client{Timeout: 30 * time.Second},
		cpu: cpuMeter{pids: []int{os.Getpid(), sys.ours.pid(), sys.floor.pid()}, pgDataDir: data.dir},
	}
	for _, srv := range []*server{sys.traced, sys.baseline} {
		if srv != nil {
			e.cpu.pids = append(e.cpu.pids, srv.pid())
		}
	}
	for i := range data.set.size.signedIn {
		t, err := tokens.Sign(conduit.Viewer{UserID: data.userIDs[i]})
		if err != nil {
			return nil, err
		}
		e.tokens = append(e.tokens, t)
	}
	e.feedToken = e.tokens[0]
	var err error
	if e.writerToken, err = tokens.Sign(conduit.Viewer{UserID: data.writerID}); err != nil {
		return nil, err
	}
	for i, a := range data.set.articles {
		switch {
		case isHot(i):
			e.hotSlugs = append(e.hotSlugs, a.slug())
		case i%10 == 5:
			e.slugs = append(e.slugs, a.slug())
		}
	}
	e.favSlugs = favoriteSlugs(data.set)
	// The slugs are computed, not read back: make sure they exist.
	for _, slug := range []string{e.slugs[0], e.slugs[len(e.slugs)-1], e.hotSlugs[0], e.favSlugs[0]} {
		if _, err := data.svc.Article(ctx, slug); err != nil {
			return nil, fmt.Errorf("article %s: %w", slug, err)
		}
	}
	if old != nil {
		e.old = old
		e.oldView = e.viewOf(old)
	}
	return e, nil
}

// viewOf returns e as the old backend's workloads see it: the same
// articles and users, by its slugs (escaped for a path: they are another
// implementation's) and with its tokens.
func (e *env) viewOf(old *oldBackend) *env {
	v := *e
	v.tokens, v.feedToken, v.writerToken = old.tokens, old.tokens[0], old.writerToken
	v.slugs, v.hotSlugs, v.favSlugs = nil, nil, nil
	for i, s := range old.slugs {
		switch {
		case isHot(i):
			v.hotSlugs = append(v.hotSlugs, url.PathEscape(s))
		case i%10 == 5:
			v.slugs = append(v.slugs, url.PathEscape(s))
		}
	}
	for _, s := range old.favSlugs() {
		v.favSlugs = append(v.favSlugs, url.PathEscape(s))
	}
	v.oldView = nil
	return &v
}

// of returns the env that system's workloads are built from.
func (e *env) of(system string) *env {
	if system == sysOld {
		return e.oldView
	}
	return e
}

// favoriteSlugs are the articles the favorite scenario toggles.
func favoriteSlugs(set *dataset) []string {
	var slugs []string
	for i, a := range set.articles {
		if i%10 == 3 {
			slugs = append(slugs, a.slug())
		}
	}
	return slugs
}

// server returns the process that serves system; nil for the old backend,
// which is not ours.
func (e *env) server(system string) *server {
	switch system {
	case sysOld:
		return nil
	case sysFloor:
		return e.sys.floor
	case sysLegacyTraced, sysGraphQLTraced:
		return e.sys.traced
	}
	if isBaseline(system) {
		return e.sys.baseline
	}
	return e.sys.ours
}

// call is one HTTP request of a scenario.
type call struct {
	method, url, token string
	body               []byte // JSON, or nil
}

func (c call) request(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, body)
	if err != nil {
		return nil, err
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Token "+c.token)
	}
	return req, nil
}

// do sends c and reads the answer, for the checks.
func (e *env) do(ctx context.Context, c call) (int, []byte, error) {
	req, err := c.request(ctx)
	if err != nil {
		return 0, nil, err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", c.method, c.url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", c.method, c.url, err)
	}
	return resp.StatusCode, b, nil
}

// base returns the address of the server that serves system.
func (e *env) base(system string) string {
	if system == sysOld {
		return e.old.base
	}
	return e.server(system).base
}

// systemOrder is the systems of this run in the order they run.
func (e *env) systemOrder(cfg config) []string {
	rev := ""
	if e.sys.baseline != nil {
		rev = e.sys.baselineRev.short
	}
	return systemOrder(cfg.tracing, rev, e.old != nil)
}

// undoWrites undoes what the write scenarios wrote, on ours and on the old
// backend.
func (e *env) undoWrites(ctx context.Context, log *progress) error {
	if err := e.data.undoWrites(ctx, log); err != nil {
		return err
	}
	if e.old != nil {
		return e.old.undoWrites(ctx, log)
	}
	return nil
}
