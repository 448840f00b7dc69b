-- +goose Up

-- A feed's total is the sum of the article counts of the authors its
-- reader follows. Migration 7 splits each author's count over 16 shards,
-- an article counting in shard (its id mod 16), so the feed of a reader
-- who follows 150 authors read about 1,700 counter rows, on as many heap
-- pages: 2.3 ms of its 4.4 ms statement on the bench's data.
--
-- From here an author's count is kept in the first of the author's 16
-- shards that no other open transaction is writing: each writer takes a
-- transaction-scoped advisory lock per shard it tries (which never waits)
-- and counts in the first one it gets. A writer alone, which is every
-- writer of an author who does not publish from many connections at the
-- same moment, counts in shard 0, so an author's count is one row; writers
-- of one author at the same time spread over as many shards as they are
-- (the pool's few connections per replica), and only a seventeenth at once
-- waits on a row, as a writer of a shard waits today. An author's shards
-- are no longer exact one by one, since a delete counts in whichever shard
-- is free (a shard may go below zero); their sum is, and `conduit
-- check-counters` compares the sum. The other scopes keep their shard by
-- id: the total and a popular tag are written by every author at once.
--
-- The triggers live in the database, so every release that runs on this
-- schema counts this way; reads sum an author's shards as before, so the
-- release before this one reads the same totals.

-- author_count_shard returns the shard of author's count that this
-- transaction writes: the first whose advisory lock (class 1 of the
-- two-key form, which goose's one-key locks never meet; the second key the
-- author's hash and the shard) it holds or gets. Two authors whose hashes
-- collide only share the locks, never the rows. When another open
-- transaction holds all 16, the shard of the transaction's own id, on
-- whose row the writer then waits.
-- +goose StatementBegin
CREATE FUNCTION author_count_shard(author bigint) RETURNS smallint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	FOR s IN 0..15 LOOP
		IF pg_try_advisory_xact_lock(1, (hashint8(author) & ~15) | s) THEN
			RETURN s;
		END IF;
	END LOOP;
	RETURN (txid_current() % 16)::smallint;
END
$$;
-- +goose StatementEnd

-- A statement that writes the articles of more than 16 authors (a bulk
-- load, a restore) counts them in shard 0, in author order, waiting on a
-- row as migration 7's writers did: an advisory lock per author would
-- take as many entries of PostgreSQL's shared lock table
-- (max_locks_per_transaction times max_connections), which a load of
-- thousands of authors in one transaction would run out of.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION articles_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		-- The total first, then the authors in id order, as before.
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT 'all', 0, (id % 16)::smallint, count(*) FROM added GROUP BY 3 ORDER BY 3
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT 'author', a.author_id, CASE WHEN a.authors > 16 THEN 0 ELSE author_count_shard(a.author_id) END, a.n
		FROM (SELECT author_id, count(*) AS n, count(*) OVER () AS authors FROM added GROUP BY 1 ORDER BY 1) a
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	ELSE
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT 'all', 0, (id % 16)::smallint, -count(*) FROM removed GROUP BY 3 ORDER BY 3
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT 'author', a.author_id, CASE WHEN a.authors > 16 THEN 0 ELSE author_count_shard(a.author_id) END, -a.n
		FROM (SELECT author_id, count(*) AS n, count(*) OVER () AS authors FROM removed GROUP BY 1 ORDER BY 1) a
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- moved_counted as in migration 9, an article moved to another author
-- counting in the shards author_count_shard gives.
CREATE OR REPLACE FUNCTION moved_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	counted text := TG_ARGV[0];
	old_key bigint;
	new_key bigint;
	old_shard smallint;
	new_shard smallint;
BEGIN
	CASE TG_TABLE_NAME
	WHEN 'articles' THEN
		old_key := OLD.author_id; new_key := NEW.author_id;
		old_shard := author_count_shard(old_key); new_shard := author_count_shard(new_key);
	WHEN 'article_tags' THEN
		old_key := OLD.tag_id; new_key := NEW.tag_id;
		old_shard := OLD.article_id % 16; new_shard := NEW.article_id % 16;
	ELSE
		old_key := OLD.user_id; new_key := NEW.user_id;
		old_shard := OLD.article_id % 16; new_shard := NEW.article_id % 16;
	END CASE;
	INSERT INTO article_counts AS c (scope, key, shard, n)
	SELECT * FROM (VALUES (counted, old_key, old_shard, -1::bigint), (counted, new_key, new_shard, 1::bigint)) d
	ORDER BY 1, 2, 3
	ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	IF counted = 'tag' THEN
		DELETE FROM article_counts
		WHERE scope = 'tag' AND key = old_key AND shard = old_shard AND n = 0;
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- count_articles_truth as in migration 7, an author's count whole, in
-- shard 0: what check-counters compares with the sum of the author's
-- shards.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION count_articles_truth() RETURNS TABLE (scope text, key bigint, shard smallint, n bigint)
LANGUAGE sql STABLE AS $$
	SELECT 'all', 0, (id % 16)::smallint, count(*) FROM articles GROUP BY 3
	UNION ALL
	SELECT 'author', author_id, 0::smallint, count(*) FROM articles GROUP BY 2
	UNION ALL
	SELECT 'tag', tag_id, (article_id % 16)::smallint, count(*) FROM article_tags GROUP BY 2, 3
	UNION ALL
	SELECT 'favorited', user_id, (article_id % 16)::smallint, count(*) FROM favorites GROUP BY 2, 3
$$;
-- +goose StatementEnd

-- count_articles_kept returns the kept counters as check-counters
-- compares them with count_articles_truth: shard by shard, an author's
-- shards summed in shard 0.
-- +goose StatementBegin
CREATE FUNCTION count_articles_kept() RETURNS TABLE (scope text, key bigint, shard smallint, n bigint)
LANGUAGE sql STABLE AS $$
	SELECT scope, key, shard, n FROM article_counts WHERE scope <> 'author'
	UNION ALL
	SELECT 'author', key, 0::smallint, sum(n)::bigint FROM article_counts WHERE scope = 'author' GROUP BY key
$$;
-- +goose StatementEnd

-- Each author's shards folded into shard 0, with writers held still (they
-- wait for the commit and then count in the new way).
LOCK TABLE article_counts IN SHARE ROW EXCLUSIVE MODE;
WITH folded AS (
	DELETE FROM article_counts WHERE scope = 'author' RETURNING key, n
)
INSERT INTO article_counts (scope, key, shard, n)
SELECT 'author', key, 0, sum(n) FROM folded GROUP BY key;

-- +goose Down
-- Migration 9's functions, and each author's count split by article id
-- again.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION articles_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT scope, key, shard, sum(n) FROM (
			SELECT 'all' AS scope, 0::bigint AS key, (id % 16)::smallint AS shard, 1 AS n FROM added
			UNION ALL
			SELECT 'author', author_id, (id % 16)::smallint, 1 FROM added) d
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	ELSE
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT scope, key, shard, -sum(n) FROM (
			SELECT 'all' AS scope, 0::bigint AS key, (id % 16)::smallint AS shard, 1 AS n FROM removed
			UNION ALL
			SELECT 'author', author_id, (id % 16)::smallint, 1 FROM removed) d
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION moved_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	counted text := TG_ARGV[0];
	old_key bigint;
	new_key bigint;
	old_shard smallint;
	new_shard smallint;
BEGIN
	CASE TG_TABLE_NAME
	WHEN 'articles' THEN
		old_key := OLD.author_id; new_key := NEW.author_id;
		old_shard := OLD.id % 16; new_shard := NEW.id % 16;
	WHEN 'article_tags' THEN
		old_key := OLD.tag_id; new_key := NEW.tag_id;
		old_shard := OLD.article_id % 16; new_shard := NEW.article_id % 16;
	ELSE
		old_key := OLD.user_id; new_key := NEW.user_id;
		old_shard := OLD.article_id % 16; new_shard := NEW.article_id % 16;
	END CASE;
	INSERT INTO article_counts AS c (scope, key, shard, n)
	SELECT * FROM (VALUES (counted, old_key, old_shard, -1::bigint), (counted, new_key, new_shard, 1::bigint)) d
	ORDER BY 1, 2, 3
	ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	IF counted = 'tag' THEN
		DELETE FROM article_counts
		WHERE scope = 'tag' AND key = old_key AND shard = old_shard AND n = 0;
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION count_articles_truth() RETURNS TABLE (scope text, key bigint, shard smallint, n bigint)
LANGUAGE sql STABLE AS $$
	SELECT 'all', 0, (id % 16)::smallint, count(*) FROM articles GROUP BY 3
	UNION ALL
	SELECT 'author', author_id, (id % 16)::smallint, count(*) FROM articles GROUP BY 2, 3
	UNION ALL
	SELECT 'tag', tag_id, (article_id % 16)::smallint, count(*) FROM article_tags GROUP BY 2, 3
	UNION ALL
	SELECT 'favorited', user_id, (article_id % 16)::smallint, count(*) FROM favorites GROUP BY 2, 3
$$;
-- +goose StatementEnd

DROP FUNCTION count_articles_kept();
DROP FUNCTION author_count_shard(bigint);

LOCK TABLE article_counts IN SHARE ROW EXCLUSIVE MODE;
DELETE FROM article_counts WHERE scope = 'author';
INSERT INTO article_counts (scope, key, shard, n)
SELECT 'author', author_id, (id % 16)::smallint, count(*) FROM articles GROUP BY 2, 3;
