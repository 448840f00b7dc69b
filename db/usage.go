package db

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
)

// AddUsage adds a batch of counts of calls to the legacy API to the
// stored ones, in one statement: rows that exist gain the calls, and their
// first and last sightings widen. A batch whose writer has had this batch
// or a later one applied is ignored, so that sending a batch again after
// an error never counts it twice. The counts must name each (bucket,
// operation, client, signed in) once. Rows are written in key order, so
// that replicas adding to the same rows at once take their locks in the
// same order and never deadlock.
func (d *DB) AddUsage(ctx context.Context, b conduit.UsageBatch) error {
	if len(b.Counts) == 0 {
		return nil
	}
	n := len(b.Counts)
	buckets, firsts, lasts := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	ops, clients := make([]string, n), make([]string, n)
	signedIn, calls := make([]bool, n), make([]int64, n)
	for i, c := range b.Counts {
		buckets[i], ops[i], clients[i], signedIn[i] = c.Bucket, c.Operation, c.Client, c.SignedIn
		calls[i], firsts[i], lasts[i] = c.Calls, c.FirstSeen, c.LastSeen
	}
	_, err := d.pool.Exec(ctx, `
		WITH fresh AS (
			INSERT INTO legacy_usage_writers AS w (writer, batch, written_at) VALUES ($8, $9, now())
			ON CONFLICT (writer) DO UPDATE SET batch = EXCLUDED.batch, written_at = EXCLUDED.written_at
				WHERE w.batch < EXCLUDED.batch
			RETURNING 1
		)
		INSERT INTO legacy_usage AS u (bucket, operation, client, signed_in, calls, first_seen, last_seen)
		SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::boolean[], $5::bigint[], $6::timestamptz[], $7::timestamptz[])
		WHERE EXISTS (SELECT FROM fresh)
		ORDER BY 1, 2, 3, 4
		ON CONFLICT (bucket, operation, client, signed_in) DO UPDATE SET
			calls = u.calls + EXCLUDED.calls,
			first_seen = LEAST(u.first_seen, EXCLUDED.first_seen),
			last_seen = GREATEST(u.last_seen, EXCLUDED.last_seen)`,
		buckets, ops, clients, signedIn, calls, firsts, lasts, b.Writer, b.Seq)
	return d.storeError("add legacy usage", "", err)
}

// UsageSince returns the calls to the legacy API counted in the hours
// that start at or after since, summed per operation, client and signed in
// or not, most called first. Bucket is the earliest hour of each sum.
func (d *DB) UsageSince(ctx context.Context, since time.Time) ([]conduit.UsageCount, error) {
	rows, _ := d.pool.Query(ctx, `
		SELECT min(bucket) AS bucket, operation, client, signed_in, sum(calls)::bigint AS calls,
			min(first_seen) AS first_seen, max(last_seen) AS last_seen
		FROM legacy_usage
		WHERE bucket >= $1
		GROUP BY operation, client, signed_in
		ORDER BY calls DESC, operation, client COLLATE "C", signed_in`, since)
	counts, err := pgx.CollectRows(rows, pgx.RowToStructByName[conduit.UsageCount])
	if err != nil {
		return nil, d.storeError("select legacy usage", "", err)
	}
	return counts, nil
}
