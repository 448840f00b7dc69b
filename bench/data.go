package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
)

// benchDatabase is the database the benchmark seeds, in its own cluster.
const benchDatabase = "conduit_bench"

// seedWorkers is how many service calls the seed runs at once: the calls
// wait on commits more than on the two cores.
const seedWorkers = 8

// bcryptCost makes registering the seed's users fast. Only the seed's
// passwords are hashed with it; the server under test keeps its default.
const bcryptCost = 4

// benchData is the seeded database, open through the service.
type benchData struct {
	emb      *db.Embedded
	dir      string
	url      string // for the servers
	store    *db.DB
	svc      *conduit.Service
	set      *dataset
	seeded   bool // seeded by this run rather than reused
	seedTime time.Duration
	pgVer    string
	userIDs  map[int]int64 // of the users the scenarios act as
	writerID int64
}

// openData starts the cluster and makes sure it holds the dataset: it
// reuses a finished seed, and seeds again over an unfinished or outdated one.
func openData(ctx context.Context, dir string, set *dataset, log *progress) (*benchData, error) {
	d := &benchData{dir: dir, set: set}
	if err := d.start(ctx, log); err != nil {
		return nil, err
	}
	ok, err := d.finished(ctx)
	if err != nil {
		d.close(log)
		return nil, err
	}
	if !ok {
		if err := d.reseed(ctx, log); err != nil {
			d.close(log)
			return nil, err
		}
	} else {
		log.step("reusing the dataset in %s (marker user %s found)", dir, set.writerName())
	}
	if err := d.prepare(ctx, log); err != nil {
		d.close(log)
		return nil, err
	}
	return d, nil
}

// start runs the cluster and opens the service on it.
func (d *benchData) start(ctx context.Context, log *progress) error {
	log.step("starting PostgreSQL on %s", d.dir)
	emb, err := db.StartEmbedded(ctx, db.EmbeddedConfig{
		Dir: d.dir, Database: benchDatabase,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	d.emb, d.url = emb, emb.URL()
	// The harness's own sessions (seed and clean-up) need not wait for the
	// disk; the servers' sessions keep the cluster's durable default.
	store, err := db.Open(ctx, withParam(d.url, "synchronous_commit", "off"), db.Options{MaxConns: seedWorkers})
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return err
	}
	svc, err := conduit.NewService(store, conduit.Config{JWTSecret: []byte(jwtSecret), BcryptCost: bcryptCost})
	if err != nil {
		store.Close()
		return err
	}
	d.store, d.svc = store, svc
	return nil
}

// close stops what start started.
func (d *benchData) close(log *progress) {
	if d.store != nil {
		d.store.Close()
		d.store = nil
	}
	if d.emb != nil {
		if err := d.emb.Stop(); err != nil {
			log.step("stop postgres: %v", err)
		}
		d.emb = nil
	}
}

// finished tells whether the marker user, registered last, exists.
func (d *benchData) finished(ctx context.Context) (bool, error) {
	_, err := d.svc.Profile(ctx, d.set.writerName())
	switch conduit.ErrorCode(err) {
	case "":
		return true, nil
	case conduit.NotFound:
		return false, nil
	}
	return false, fmt.Errorf("look for the marker user: %w", err)
}

// reseed throws away whatever an earlier, unfinished seed left and seeds
// from scratch.
func (d *benchData) reseed(ctx context.Context, log *progress) error {
	page, err := d.svc.Articles(ctx, conduit.ArticleFilter{}, conduit.Page{Limit: 1})
	if err != nil {
		return err
	}
	if page.Total > 0 {
		log.step("the dataset in %s is unfinished or outdated: removing the cluster", d.dir)
		d.close(log)
		if err := os.RemoveAll(d.dir); err != nil {
			return fmt.Errorf("remove %s: %w", d.dir, err)
		}
		if err := d.start(ctx, log); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := d.seed(ctx, log); err != nil {
		return err
	}
	d.seeded, d.seedTime = true, time.Since(start)
	log.step("seeded in %s", d.seedTime.Round(100*time.Millisecond))
	return nil
}

// prepare looks up the accounts the scenarios act as, undoes what an
// interrupted run may have written, refreshes the planner's statistics and
// checks the counts.
func (d *benchData) prepare(ctx context.Context, log *progress) error {
	d.userIDs = map[int]int64{}
	for i := range d.set.size.signedIn {
		p, err := d.svc.Profile(ctx, d.set.users[i].username)
		if err != nil {
			return fmt.Errorf("find user %s: %w", d.set.users[i].username, err)
		}
		d.userIDs[i] = p.ID
	}
	w, err := d.svc.Profile(ctx, d.set.writerName())
	if err != nil {
		return fmt.Errorf("find %s: %w", d.set.writerName(), err)
	}
	d.writerID = w.ID
	if err := d.undoWrites(ctx, log); err != nil {
		return err
	}
	if err := d.analyze(ctx); err != nil {
		return err
	}
	page, err := d.svc.Articles(ctx, conduit.ArticleFilter{}, conduit.Page{Limit: 1})
	if err != nil {
		return err
	}
	if want := len(d.set.articles); page.Total != want {
		return fmt.Errorf("the dataset holds %d articles, want %d: remove %s and run again", page.Total, want, d.dir)
	}
	return nil
}

// analyze refreshes the planner's statistics, so that the first run after
// a seed plans its queries as every later run does, and reads the server's
// version for the report. Maintenance, not domain SQL: it bypasses the store.
func (d *benchData) analyze(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return fmt.Errorf("connect for ANALYZE: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&d.pgVer); err != nil {
		return fmt.Errorf("server version: %w", err)
	}
	return nil
}

// settle writes out what the writes before left (CHECKPOINT) and clears
// their dead rows from the tables writes touch (VACUUM), before each round
// of a write scenario: otherwise a checkpoint, or autovacuum, lands in some
// rounds and not others, and the system measured twice in a row (last of
// one round, first of the next) was measured 1.4-1.8 times as fast in its
// second round. Maintenance, as analyze is: it bypasses the store.
func (d *benchData) settle(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return fmt.Errorf("connect to settle: %w", err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{"CHECKPOINT", "VACUUM articles, article_tags, tags, article_counts, favorites"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("settle: %s: %w", sql, err)
		}
	}
	return nil
}

// as returns a context in which user id is the viewer.
func as(ctx context.Context, id int64) context.Context {
	return conduit.NewContextWithViewer(ctx, conduit.Viewer{UserID: id})
}

// undoWrites deletes the writer's articles and takes back its favorites
// of the articles the favorite scenario toggles, so that every run reads
// the same dataset whatever the runs before it wrote.
func (d *benchData) undoWrites(ctx context.Context, log *progress) error {
	wctx := as(ctx, d.writerID)
	var slugs []string
	for {
		page, err := d.svc.Articles(ctx, conduit.ArticleFilter{Author: d.set.writerName()}, conduit.Page{Limit: conduit.MaxPageSize, Offset: len(slugs)})
		if err != nil {
			return fmt.Errorf("list the writer's articles: %w", err)
		}
		for _, a := range page.Articles {
			slugs = append(slugs, a.Slug)
		}
		if !page.HasMore {
			break
		}
	}
	if len(slugs) > 0 {
		log.step("deleting %d articles written by an earlier scenario", len(slugs))
	}
	err := parallel(ctx, len(slugs), func(_ context.Context, i int) error {
		_, err := d.svc.DeleteArticle(wctx, slugs[i])
		return err
	})
	if err != nil {
		return fmt.Errorf("delete the writer's articles: %w", err)
	}
	toggled := favoriteSlugs(d.set)
	err = parallel(ctx, len(toggled), func(ctx context.Context, i int) error {
		_, err := d.svc.Unfavorite(wctx, toggled[i])
		return err
	})
	if err != nil {
		return fmt.Errorf("take back the writer's favorites: %w", err)
	}
	return d.dropLoadTags(ctx, log)
}

// dropLoadTags deletes the tags create-article-distinct made, now that no
// article has them: thousands a run, which would otherwise pile up in the
// tags table run after run. The service never deletes a tag, so this is
// maintenance, as analyze is: it bypasses the store.
func (d *benchData) dropLoadTags(ctx context.Context, log *progress) error {
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return fmt.Errorf("connect to drop the load's tags: %w", err)
	}
	defer conn.Close(ctx)
	tag, err := conn.Exec(ctx, `DELETE FROM tags t WHERE starts_with(t.name, $1)
		AND NOT EXISTS (SELECT 1 FROM article_tags x WHERE x.tag_id = t.id)`, loadTagPrefix)
	if err != nil {
		return fmt.Errorf("drop the load's tags: %w", err)
	}
	if n := tag.RowsAffected(); n > 0 {
		log.step("deleted %d tags written by an earlier scenario", n)
	}
	return nil
}

// parallel calls f for 0..n-1 on seedWorkers goroutines and returns the
// first error, after which no new call starts.
func parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	return parallelN(ctx, n, seedWorkers, f)
}

// parallelN is parallel on workers goroutines.
func parallelN(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// withParam returns the connection URL u with a run-time parameter set.
func withParam(u, key, value string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := parsed.Query()
	q.Set(key, value)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}
