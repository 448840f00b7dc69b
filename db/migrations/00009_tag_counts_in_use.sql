-- +goose Up

-- GET /api/tags lists the tags in use, most used first, from
-- tags.article_count (migration 2), whose triggers lock a tag's row until
-- the commit of every article linked to it. Migration 7 keeps each tag's
-- count in up to 16 shards too, but a shard that falls to zero stays: on a
-- site where tags come and go, a read of the tags in use from the shards
-- would read every tag ever counted (on the bench's data, thousands of
-- rows at zero: 40 requests a second against 5,000 for the column). From
-- here a tag's shard that falls to zero is deleted in the statement that
-- moved it, so the tag shards are those of the tags in use, at most 16
-- rows each, and the table does not grow with tags that are gone. A tag
-- list read from them is then bounded, though still slower than the
-- column's (db/next/README.md).
--
-- The delete is safe against a concurrent writer of the same shard: that
-- writer's upsert waits on the row, which this transaction has locked, and
-- when the delete commits it inserts the row anew (INSERT ... ON CONFLICT
-- retries a conflict whose row went away). `conduit check-counters -repair`
-- deletes a tag shard it sets to zero. Rows that other scopes keep at
-- zero (an author who deleted every article, a user's favorites) stay:
-- nothing lists those.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION article_tags_counted() RETURNS trigger LANGUAGE plpgsql AS $$
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
		-- Only rows this statement just locked, so no new lock is taken.
		DELETE FROM article_counts c
		USING (SELECT DISTINCT tag_id, (article_id % 16)::smallint AS shard FROM removed) r
		WHERE c.scope = 'tag' AND c.key = r.tag_id AND c.shard = r.shard AND c.n = 0;
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- moved_counted as in migration 7, deleting a tag shard that a moved link
-- left at zero.
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

DELETE FROM article_counts WHERE scope = 'tag' AND n = 0;

-- tags.article_count, which GET /api/tags reads, did not follow an UPDATE
-- that moves a link to another tag (no code path does; an operator's may),
-- while article_counts did. Named to fire before article_tags_counted_move,
-- so that a move locks the tags' rows before their counters, as inserts
-- and deletes do (migration 7), and in id order.
-- +goose StatementBegin
CREATE FUNCTION article_tags_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM tags WHERE id IN (OLD.tag_id, NEW.tag_id) ORDER BY id FOR NO KEY UPDATE;
	UPDATE tags SET article_count = article_count - 1 WHERE id = OLD.tag_id;
	UPDATE tags SET article_count = article_count + 1 WHERE id = NEW.tag_id;
	RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER article_tags_changed AFTER UPDATE OF tag_id ON article_tags
	FOR EACH ROW WHEN (OLD.tag_id <> NEW.tag_id) EXECUTE FUNCTION article_tags_changed();
UPDATE tags t SET article_count = x.n
FROM (SELECT t2.id, count(l.tag_id) AS n FROM tags t2 LEFT JOIN article_tags l ON l.tag_id = t2.id GROUP BY t2.id) x
WHERE x.id = t.id AND t.article_count <> x.n;

-- +goose Down
DROP TRIGGER article_tags_changed ON article_tags;
DROP FUNCTION article_tags_changed();
-- (Tag shards at zero that are missing are created again by the next write.)

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
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION article_tags_counted() RETURNS trigger LANGUAGE plpgsql AS $$
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
