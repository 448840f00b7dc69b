-- +goose Up

-- How often the legacy REST API is called: per hour, operation, client and
-- whether the caller was signed in. Each replica counts in memory and adds
-- its counts every few seconds with one upsert, so rows sum the calls of
-- every replica and survive restarts. `conduit legacy-usage` reads it
-- (a stretch of recent hours: the primary key, which starts with the
-- bucket, serves that).
CREATE TABLE legacy_usage (
	bucket     timestamptz NOT NULL,
	operation  text        NOT NULL,
	client     text        NOT NULL,
	signed_in  boolean     NOT NULL,
	calls      bigint      NOT NULL CONSTRAINT legacy_usage_calls_check CHECK (calls > 0),
	first_seen timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL,
	PRIMARY KEY (bucket, operation, client, signed_in)
);

-- The last batch of counts each writer (a replica's process) has added,
-- so that a batch sent again after an ambiguous failure (a timeout after
-- the commit) is not added twice. One row per process started.
CREATE TABLE legacy_usage_writers (
	writer     text        PRIMARY KEY,
	batch      bigint      NOT NULL,
	written_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE legacy_usage_writers;
DROP TABLE legacy_usage;
