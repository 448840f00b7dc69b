package db

import (
	"context"
	"time"

	"github.com/conduit-dev/conduit/conduit"
)

// ListenWithHeartbeat is Listen checking the connection after heartbeat
// without a notification, instead of listenHeartbeat.
func (d *DB) ListenWithHeartbeat(ctx context.Context, deliver func(conduit.Event), opts ListenOptions, heartbeat time.Duration) error {
	return d.listen(ctx, deliver, opts, heartbeat)
}

// MigrateDownTo undoes the migrations after version, newest first.
func (d *DB) MigrateDownTo(ctx context.Context, version int64) error {
	p, done, err := d.migrations()
	if err != nil {
		return err
	}
	defer done()
	_, err = p.DownTo(ctx, version)
	return err
}

// ListArticlesSQL returns the statement ListArticles sends and its arguments.
func ListArticlesSQL(viewerID int64, f conduit.ArticleFilter, p conduit.Page) (string, []any) {
	return listArticles(viewerID, f, p)
}

// ArticleBySlugSQL returns the statement ArticleBySlug sends and its
// arguments.
func ArticleBySlugSQL(viewerID int64, slug string) (string, []any) {
	return articleBySlug(viewerID, slug)
}

// ArticlesByIDSQL returns the statement ArticlesByID sends and its
// arguments.
func ArticlesByIDSQL(viewerID int64, ids []int64) (string, []any) {
	return articlesByID(viewerID, ids)
}

// PlanCounts returns, for each statement prepared on one of the pool's
// connections (the pool of a test opened with MaxConns 1 has one), how
// many times PostgreSQL ran it with its kept (generic) plan and how many
// times it planned it anew (custom).
func (d *DB) PlanCounts(ctx context.Context) (map[string][2]int64, error) {
	rows, err := d.pool.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string][2]int64{}
	for rows.Next() {
		var sql string
		var generic, custom int64
		if err := rows.Scan(&sql, &generic, &custom); err != nil {
			return nil, err
		}
		counts[sql] = [2]int64{generic, custom}
	}
	return counts, rows.Err()
}
