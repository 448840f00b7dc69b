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
