package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// sysOld is the old REST backend that -old names: a deployment that is not
// a process of ours.
const sysOld = "old"

// oldSeedWorkers is how many requests the seed of the old backend keeps in
// flight: each waits on the old server's commit (and, for a registration,
// its password hash) more than on this machine.
const oldSeedWorkers = 16

// rateLimited is what a 429 of the old backend means for the benchmark.
const rateLimited = "the old backend limits the rate of sign-ups or sign-ins: lift its limits for the benchmark, which signs every user up and in from one address"

// oldBackend is the old backend, seeded through its own REST API. Its
// slugs and tokens are its own: another implementation slugifies titles
// its own way and signs with its own secret.
type oldBackend struct {
	api      string // the API root: http://host:port/api
	base     string // api without its /api: what the REST workloads put paths after
	client   *http.Client
	set      *dataset
	seeded   bool // seeded by this run rather than reused
	seedTime time.Duration
	// slugs holds the old backend's slug of each article of the set, by index.
	slugs       []string
	tokens      []string // of users 0..size.signedIn-1
	writerToken string
}

// oldAPIRoot checks that raw is an http(s) URL whose path ends in /api,
// as every RealWorld backend's does, and returns it without a trailing slash.
func oldAPIRoot(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.HasSuffix(u.Path, "/api") || u.RawQuery != "" {
		return "", fmt.Errorf("%q: want the API root, http://host:port/api (its path ending in /api)", raw)
	}
	return u.String(), nil
}

// openOld makes sure the old backend at api holds set: it seeds an empty
// one, reuses one that a run before seeded (the marker user can log in),
// and refuses anything else. It then undoes what an interrupted run may
// have written, as openData does for ours.
func openOld(ctx context.Context, api string, set *dataset, log *progress) (*oldBackend, error) {
	o := &oldBackend{
		api: api, base: strings.TrimSuffix(api, "/api"), set: set,
		client: newClient(oldSeedWorkers), slugs: make([]string, len(set.articles)),
	}
	log.step("old backend at %s: looking for the dataset (marker user %s)", api, set.writerName())
	token, found, err := o.login(ctx, set.writerName())
	if err != nil {
		return nil, err
	}
	if found {
		o.writerToken = token
		log.step("old backend: reusing its dataset (marker user %s logs in)", set.writerName())
		if err := o.reuse(ctx, log); err != nil {
			return nil, err
		}
	} else {
		if err := o.checkEmpty(ctx); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := o.seed(ctx, log); err != nil {
			return nil, fmt.Errorf("seed the old backend at %s: %w", api, err)
		}
		o.seeded, o.seedTime = true, time.Since(start)
		log.step("old backend: seeded in %s", o.seedTime.Round(100*time.Millisecond))
	}
	if err := o.undoWrites(ctx, log); err != nil {
		return nil, err
	}
	n, err := o.articlesCount(ctx)
	if err != nil {
		return nil, err
	}
	if want := len(set.articles); n != want {
		return nil, fmt.Errorf("old backend at %s holds %d articles, want %d: start it on an empty database and run again", api, n, want)
	}
	return o, nil
}

// checkEmpty fails unless the old backend holds no article and not the
// first user of the dataset: what a seed that stopped half-way, or another
// dataset, leaves behind must be reported, not measured or added to.
func (o *oldBackend) checkEmpty(ctx context.Context) error {
	n, err := o.articlesCount(ctx)
	if err != nil {
		return err
	}
	first := o.set.users[0].username
	status, _, err := o.do(ctx, http.MethodGet, "/profiles/"+url.PathEscape(first), "", nil)
	if err != nil {
		return err
	}
	switch {
	case n > 0 || status == http.StatusOK:
		return fmt.Errorf("old backend at %s is not empty (%d articles; user %s %s) but its marker user %s cannot log in: "+
			"a seed that did not finish, or another dataset; start it on an empty database and run again",
			o.api, n, first, map[bool]string{true: "exists", false: "does not exist"}[status == http.StatusOK], o.set.writerName())
	case status != http.StatusNotFound:
		return fmt.Errorf("old backend at %s: GET /profiles/%s answered %d, want 404 on an empty backend", o.api, first, status)
	}
	return nil
}

// seed registers the users (with their bio and image), publishes the
// articles, then adds the comments, favorites and follows, and last
// registers the marker user, each step oldSeedWorkers requests at a time.
// The old backend's own tokens and slugs are kept from its answers.
func (o *oldBackend) seed(ctx context.Context, log *progress) error {
	set := o.set
	tokens := make([]string, len(set.users))
	steps := []struct {
		what string
		n    int
		f    func(ctx context.Context, i int) error
	}{
		{"users", len(set.users), func(ctx context.Context, i int) error {
			t, err := o.register(ctx, set.users[i])
			tokens[i] = t
			return err
		}},
		{"articles", len(set.articles), func(ctx context.Context, i int) error {
			a := set.articles[i]
			var got struct {
				Article struct{ Slug string } `json:"article"`
			}
			err := o.send(ctx, http.MethodPost, "/articles", tokens[a.author], map[string]any{"article": map[string]any{
				"title": a.title, "description": a.description, "body": a.body, "tagList": a.tags,
			}}, &got)
			if err == nil && got.Article.Slug == "" {
				err = fmt.Errorf("POST /articles %q: no slug in the answer", a.title)
			}
			o.slugs[i] = got.Article.Slug
			return err
		}},
		{"comments", len(set.comments), func(ctx context.Context, i int) error {
			c := set.comments[i]
			return o.send(ctx, http.MethodPost, "/articles/"+url.PathEscape(o.slugs[c.article])+"/comments", tokens[c.author],
				map[string]any{"comment": map[string]any{"body": c.body}}, nil)
		}},
		{"favorites", len(set.favorites), func(ctx context.Context, i int) error {
			f := set.favorites[i]
			return o.send(ctx, http.MethodPost, "/articles/"+url.PathEscape(o.slugs[f.b])+"/favorite", tokens[f.a], nil, nil)
		}},
		{"follows", len(set.follows), func(ctx context.Context, i int) error {
			f := set.follows[i]
			return o.send(ctx, http.MethodPost, "/profiles/"+url.PathEscape(set.users[f.b].username)+"/follow", tokens[f.a], nil, nil)
		}},
		{"the marker user", 1, func(ctx context.Context, _ int) error {
			var err error
			o.writerToken, err = o.register(ctx, seedUser{username: set.writerName(), email: set.writerName() + "@bench.example"})
			return err
		}},
	}
	for _, s := range steps {
		if err := o.parallel(ctx, log, s.what, s.n, s.f); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	o.tokens = tokens[:set.size.signedIn]
	return nil
}

// parallel is parallelN on oldSeedWorkers goroutines that says how far it
// got every two seconds, and how fast it went at the end.
func (o *oldBackend) parallel(ctx context.Context, log *progress, what string, n int, f func(context.Context, int) error) error {
	log.step("old backend: seeding %d %s, %d requests in flight", n, what, oldSeedWorkers)
	var done atomic.Int64
	stop := make(chan struct{})
	ticked := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(ticked)
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				k := done.Load()
				log.step("old backend:   %s %d/%d (%.0f/s)", what, k, n, float64(k)/time.Since(start).Seconds())
			}
		}
	}()
	err := parallelN(ctx, n, oldSeedWorkers, func(ctx context.Context, i int) error {
		err := f(ctx, i)
		done.Add(1)
		return err
	})
	close(stop)
	<-ticked
	if err == nil && n > 1 {
		log.step("old backend:   %s %d/%d in %s (%.0f/s)", what, n, n, time.Since(start).Round(100*time.Millisecond), float64(n)/time.Since(start).Seconds())
	}
	return err
}

// register signs u up and sets the bio and image it has, and returns the
// token the old backend gave.
func (o *oldBackend) register(ctx context.Context, u seedUser) (string, error) {
	var got struct {
		User struct{ Token string } `json:"user"`
	}
	err := o.send(ctx, http.MethodPost, "/users", "", map[string]any{"user": map[string]any{
		"username": u.username, "email": u.email, "password": seedPassword,
	}}, &got)
	if err != nil {
		return "", err
	}
	if got.User.Token == "" {
		return "", fmt.Errorf("register %s: no token in the answer", u.username)
	}
	if u.bio == nil && u.image == nil {
		return got.User.Token, nil
	}
	err = o.send(ctx, http.MethodPut, "/user", got.User.Token, map[string]any{"user": map[string]any{"bio": u.bio, "image": u.image}}, nil)
	return got.User.Token, err
}

// login returns the token of the dataset's user username; found is false
// when the old backend refuses the credentials.
func (o *oldBackend) login(ctx context.Context, username string) (token string, found bool, err error) {
	body := map[string]any{"user": map[string]any{"email": username + "@bench.example", "password": seedPassword}}
	status, b, err := o.do(ctx, http.MethodPost, "/users/login", "", body)
	if err != nil {
		return "", false, err
	}
	switch status {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity:
		return "", false, nil
	case http.StatusTooManyRequests:
		return "", false, fmt.Errorf("old backend at %s: POST /users/login as %s: %d %.300s (%s)", o.api, username, status, b, rateLimited)
	default:
		return "", false, fmt.Errorf("old backend at %s: POST /users/login as %s: %d %.300s", o.api, username, status, b)
	}
	var got struct {
		User struct{ Token string } `json:"user"`
	}
	if err := json.Unmarshal(b, &got); err != nil || got.User.Token == "" {
		return "", false, fmt.Errorf("old backend at %s: POST /users/login as %s: no token in %.300s", o.api, username, b)
	}
	return got.User.Token, true, nil
}

// reuse finds what a seed before left: the old backend's slug of each
// article of the set (from its list, by title) and the signed-in users'
// tokens (they log in again: the old tokens may have expired).
func (o *oldBackend) reuse(ctx context.Context, log *progress) error {
	// An interrupted run may have left articles of the writer's; they are
	// not the set's, and go first.
	if err := o.deleteWriterArticles(ctx, log); err != nil {
		return err
	}
	byTitle := make(map[string]int, len(o.set.articles))
	for i, a := range o.set.articles {
		byTitle[a.title] = i
	}
	listed, err := o.listAll(ctx, "")
	if err != nil {
		return err
	}
	for _, a := range listed {
		if i, ok := byTitle[a.Title]; ok {
			o.slugs[i] = a.Slug
		}
	}
	for i, s := range o.slugs {
		if s == "" {
			return fmt.Errorf("old backend at %s: article %q of the dataset is missing: start it on an empty database and run again", o.api, o.set.articles[i].title)
		}
	}
	log.step("old backend: found the slugs of its %d articles; signing in %d users", len(listed), o.set.size.signedIn)
	o.tokens = make([]string, o.set.size.signedIn)
	return parallelN(ctx, len(o.tokens), oldSeedWorkers, func(ctx context.Context, i int) error {
		name := o.set.users[i].username
		t, found, err := o.login(ctx, name)
		if err == nil && !found {
			err = fmt.Errorf("old backend at %s: user %s of the dataset cannot log in", o.api, name)
		}
		o.tokens[i] = t
		return err
	})
}

// listedArticle is what the harness reads of an article in a list.
type listedArticle struct {
	Slug  string `json:"slug"`
	Title string `json:"title"`
}

// listAll reads every article of the list (query: "" or "&author=…"),
// pages of 100 (or what the old backend gives) in parallel.
func (o *oldBackend) listAll(ctx context.Context, query string) ([]listedArticle, error) {
	type page struct {
		Articles      []listedArticle `json:"articles"`
		ArticlesCount int             `json:"articlesCount"`
	}
	var first page
	if err := o.send(ctx, http.MethodGet, "/articles?limit=100&offset=0"+query, "", nil, &first); err != nil {
		return nil, err
	}
	size := len(first.Articles)
	if size == 0 || size >= first.ArticlesCount {
		return first.Articles, nil
	}
	pages := make([][]listedArticle, (first.ArticlesCount+size-1)/size)
	pages[0] = first.Articles
	err := parallelN(ctx, len(pages)-1, oldSeedWorkers, func(ctx context.Context, i int) error {
		var p page
		err := o.send(ctx, http.MethodGet, fmt.Sprintf("/articles?limit=100&offset=%d%s", (i+1)*size, query), "", nil, &p)
		pages[i+1] = p.Articles
		return err
	})
	var all []listedArticle
	for _, p := range pages {
		all = append(all, p...)
	}
	return all, err
}

// articlesCount is the total of the old backend's article list.
func (o *oldBackend) articlesCount(ctx context.Context) (int, error) {
	var got struct {
		ArticlesCount *int `json:"articlesCount"`
	}
	if err := o.send(ctx, http.MethodGet, "/articles?limit=1", "", nil, &got); err != nil {
		return 0, err
	}
	if got.ArticlesCount == nil {
		return 0, fmt.Errorf("old backend at %s: GET /articles?limit=1: no articlesCount", o.api)
	}
	return *got.ArticlesCount, nil
}

// undoWrites deletes the writer's articles and takes back its favorites of
// the articles the favorite scenario toggles, on the old backend, as
// benchData.undoWrites does on ours.
func (o *oldBackend) undoWrites(ctx context.Context, log *progress) error {
	if err := o.deleteWriterArticles(ctx, log); err != nil {
		return err
	}
	toggled := o.favSlugs()
	return parallelN(ctx, len(toggled), oldSeedWorkers, func(ctx context.Context, i int) error {
		return o.send(ctx, http.MethodDelete, "/articles/"+url.PathEscape(toggled[i])+"/favorite", o.writerToken, nil, nil)
	})
}

func (o *oldBackend) deleteWriterArticles(ctx context.Context, log *progress) error {
	mine, err := o.listAll(ctx, "&author="+url.QueryEscape(o.set.writerName()))
	if err != nil {
		return fmt.Errorf("list the writer's articles: %w", err)
	}
	if len(mine) > 0 {
		log.step("old backend: deleting %d articles written by an earlier scenario", len(mine))
	}
	return parallelN(ctx, len(mine), oldSeedWorkers, func(ctx context.Context, i int) error {
		return o.send(ctx, http.MethodDelete, "/articles/"+url.PathEscape(mine[i].Slug), o.writerToken, nil, nil)
	})
}

// favSlugs are the old backend's slugs of the articles the favorite
// scenario toggles (favoriteSlugs on ours).
func (o *oldBackend) favSlugs() []string {
	var slugs []string
	for i := range o.set.articles {
		if i%10 == 3 {
			slugs = append(slugs, o.slugs[i])
		}
	}
	return slugs
}

// send asks the old backend and fails unless it answers 2xx; a body, when
// out is given, is decoded into it.
func (o *oldBackend) send(ctx context.Context, method, path, token string, body, out any) error {
	status, b, err := o.do(ctx, method, path, token, body)
	if err != nil {
		return err
	}
	if status == http.StatusTooManyRequests {
		return fmt.Errorf("%s %s: %d %.300s (%s)", method, path, status, b, rateLimited)
	}
	if status < 200 || status > 299 {
		return fmt.Errorf("%s %s: %d %.300s", method, path, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w in %.300s", method, path, err, b)
		}
	}
	return nil
}

// do sends one request to the old backend, path under its API root, as
// the old clients do (JSON content type on every request).
func (o *oldBackend) do(ctx context.Context, method, path, token string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, o.api+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("old backend: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("old backend: %s %s: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}

// wellFormed wraps what a workload counts as a success on the old backend:
// status 200 for a read (2xx for a write) and a JSON body. It is not
// ours, so its bodies cannot be held to ours byte for byte.
func wellFormed(wl workload, write bool) workload {
	wl.ok = func(status int, body []byte) bool {
		if write {
			return status >= 200 && status < 300 && json.Valid(body)
		}
		return status == http.StatusOK && json.Valid(body)
	}
	return wl
}
