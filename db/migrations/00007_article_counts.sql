-- +goose Up

-- Every list of articles says how many match its filter (articlesCount,
-- totalCount). Counting them per request grows with the site: most of a
-- list's time at 10,000 articles, all of it at a million. These counters
-- are kept in the writing statement's own transaction by the triggers
-- below, so they are exact whenever a reader can see the write, for every
-- filter the API offers alone:
--
--   scope 'all'       key 0          every article
--   scope 'tag'       key tag id     the articles with the tag
--   scope 'author'    key user id    the articles the user wrote; a feed is
--                                    the sum over the authors followed
--   scope 'favorited' key user id    the articles the user favorited
--
-- A count is split over 16 shards, an article always counting in shard
-- (its id mod 16): concurrent writers, whose ids follow each other, update
-- different rows of a popular tag or of the total instead of queueing on
-- one, and a reader sums at most 16 rows. Because an article's shard never
-- changes, each shard is itself an exact count (`conduit check-counters`
-- compares them shard by shard) and never goes below zero.
--
-- The tag scope is meant to replace tags.article_count (migration 2), which
-- every article with a popular tag has to lock until its commit. For now
-- GET /api/tags still reads the column (summing the shards reads every tag
-- ever counted, see db/next/README.md), and the previous release reads it
-- too during a rolling deploy and after a rollback, so its triggers stay
-- (expand/contract, README "Migrations during a rolling deploy"); their
-- removal waits in db/next.
CREATE TABLE article_counts (
	scope text     NOT NULL CONSTRAINT article_counts_scope_check CHECK (scope IN ('all', 'tag', 'author', 'favorited')),
	key   bigint   NOT NULL,
	shard smallint NOT NULL CONSTRAINT article_counts_shard_check CHECK (shard BETWEEN 0 AND 15),
	n     bigint   NOT NULL,
	CONSTRAINT article_counts_pkey PRIMARY KEY (scope, key, shard)
);

-- The trigger functions below add what a statement changed to the
-- counters, one upsert each, the rows in key order so that two
-- transactions moving the same counters queue instead of deadlocking. A
-- counter seen for the first time is created; one that falls to zero stays.

-- +goose StatementBegin
CREATE FUNCTION articles_counted() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE FUNCTION article_tags_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT 'tag', tag_id, (article_id % 16)::smallint, count(*) FROM added
		GROUP BY 2, 3 ORDER BY 2, 3
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	ELSE
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT 'tag', tag_id, (article_id % 16)::smallint, -count(*) FROM removed
		GROUP BY 2, 3 ORDER BY 2, 3
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION favorites_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT 'favorited', user_id, (article_id % 16)::smallint, count(*) FROM added
		GROUP BY 2, 3 ORDER BY 2, 3
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	ELSE
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT 'favorited', user_id, (article_id % 16)::smallint, -count(*) FROM removed
		GROUP BY 2, 3 ORDER BY 2, 3
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- moved_counted follows an update that moves a row from one counter to
-- another (no code path does; an operator's UPDATE may): one row at a
-- time, as PostgreSQL gives no transition tables to an UPDATE OF trigger,
-- fired only when the columns a counter depends on change.
CREATE FUNCTION moved_counted() RETURNS trigger LANGUAGE plpgsql AS $$
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
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- count_articles_truth returns every counter as the tables say it should
-- be, computed from scratch: what `conduit check-counters` compares the
-- kept counters with, and writes over them with -repair.
-- +goose StatementBegin
CREATE FUNCTION count_articles_truth() RETURNS TABLE (scope text, key bigint, shard smallint, n bigint)
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

-- Statement-level, so that a statement writing many rows (a COPY, a user's
-- deletion cascading to their articles) moves each counter once.
CREATE TRIGGER articles_counted_insert AFTER INSERT ON articles
	REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION articles_counted();
CREATE TRIGGER articles_counted_delete AFTER DELETE ON articles
	REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION articles_counted();
-- Triggers of one event fire in the order of their names: these are named
-- to come after migration 2's article_tags_added and article_tags_removed,
-- so that every write locks a tag's row before its counters, and two
-- writers cannot wait for each other in opposite orders.
CREATE TRIGGER article_tags_sharded_insert AFTER INSERT ON article_tags
	REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION article_tags_counted();
CREATE TRIGGER article_tags_sharded_delete AFTER DELETE ON article_tags
	REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION article_tags_counted();
CREATE TRIGGER favorites_counted_insert AFTER INSERT ON favorites
	REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION favorites_counted();
CREATE TRIGGER favorites_counted_delete AFTER DELETE ON favorites
	REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION favorites_counted();
CREATE TRIGGER articles_counted_move AFTER UPDATE OF author_id ON articles
	FOR EACH ROW WHEN (OLD.author_id <> NEW.author_id) EXECUTE FUNCTION moved_counted('author');
CREATE TRIGGER article_tags_counted_move AFTER UPDATE OF tag_id, article_id ON article_tags
	FOR EACH ROW WHEN ((OLD.tag_id, OLD.article_id) <> (NEW.tag_id, NEW.article_id)) EXECUTE FUNCTION moved_counted('tag');
CREATE TRIGGER favorites_counted_move AFTER UPDATE OF user_id, article_id ON favorites
	FOR EACH ROW WHEN ((OLD.user_id, OLD.article_id) <> (NEW.user_id, NEW.article_id)) EXECUTE FUNCTION moved_counted('favorited');

INSERT INTO article_counts (scope, key, shard, n) SELECT * FROM count_articles_truth();

-- +goose Down
DROP TRIGGER favorites_counted_move ON favorites;
DROP TRIGGER article_tags_counted_move ON article_tags;
DROP TRIGGER articles_counted_move ON articles;
DROP FUNCTION moved_counted();
DROP TRIGGER favorites_counted_delete ON favorites;
DROP TRIGGER favorites_counted_insert ON favorites;
DROP TRIGGER article_tags_sharded_delete ON article_tags;
DROP TRIGGER article_tags_sharded_insert ON article_tags;
DROP TRIGGER articles_counted_delete ON articles;
DROP TRIGGER articles_counted_insert ON articles;
DROP FUNCTION count_articles_truth();
DROP FUNCTION favorites_counted();
DROP FUNCTION article_tags_counted();
DROP FUNCTION articles_counted();
DROP TABLE article_counts;
