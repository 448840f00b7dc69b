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
