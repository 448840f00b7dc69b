-- +goose Up

-- A page of an article's comments over GraphQL says how many the article
-- has (totalCount). Counting them per request grows with the article
-- (pgbench: a few µs of the page's statement at 20 comments, 0.4 ms at
-- 10,000). From here the database keeps each article's count beside the
-- lists' totals, in article_counts, and the page uses it to choose how to
-- read itself (db.commentPageRows):
--
--   scope 'comments'  key article id  the comments of the article
--
-- moved by triggers in the writing transaction, as the other counters are,
-- so every writer, psql included, keeps it exact. Many readers comment on
-- one popular article at once, so its count is kept as an author's is
-- (migration 12): in the first of 16 shards that no other open
-- transaction is writing, a transaction-scoped advisory lock per shard
-- tried (class 2 of the two-key form; class 1 is the authors'). A writer
-- alone counts in shard 0, so an article's count is one row unless its
-- comments come from many connections at the same moment; only the sum of
-- its shards is exact, and that is what `conduit check-counters` compares.
--
-- An article's comments go with it (ON DELETE CASCADE): the rows of its
-- count are deleted with the article, and the comments that go by the
-- cascade move no counter, so no row is left for an article that is gone.
--
-- Expand only: the previous release counts the comments per request, which
-- stays right, and the triggers count in the database for both releases.

ALTER TABLE article_counts DROP CONSTRAINT article_counts_scope_check,
	ADD CONSTRAINT article_counts_scope_check CHECK (scope IN ('all', 'tag', 'author', 'favorited', 'comments'));

-- comment_count_shard is author_count_shard (migration 12) for the
-- comments of an article.
-- +goose StatementBegin
CREATE FUNCTION comment_count_shard(article bigint) RETURNS smallint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	FOR s IN 0..15 LOOP
		IF pg_try_advisory_xact_lock(2, (hashint8(article) & ~15) | s) THEN
			RETURN s;
		END IF;
	END LOOP;
	RETURN (txid_current() % 16)::smallint;
END
$$;
-- +goose StatementEnd

-- A statement that writes the comments of more than 16 articles (a bulk
-- load, a restore, a user's deletion) counts them in shard 0, in article
-- order, for the reason migration 12 gives for authors. A removed comment
-- whose article this transaction has deleted counts nowhere: the article's
-- counter rows are gone with it (comments_of_articles_deleted).
-- +goose StatementBegin
CREATE FUNCTION comments_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT 'comments', a.article_id, CASE WHEN a.articles > 16 THEN 0 ELSE comment_count_shard(a.article_id) END, a.n
		FROM (SELECT article_id, count(*) AS n, count(*) OVER () AS articles FROM added GROUP BY 1 ORDER BY 1) a
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	ELSE
		INSERT INTO article_counts AS c (scope, key, shard, n)
		SELECT 'comments', a.article_id, CASE WHEN a.articles > 16 THEN 0 ELSE comment_count_shard(a.article_id) END, -a.n
		FROM (
			SELECT article_id, count(*) AS n, count(*) OVER () AS articles FROM removed r
			WHERE EXISTS (SELECT 1 FROM articles WHERE id = r.article_id)
			GROUP BY 1 ORDER BY 1) a
		ON CONFLICT (scope, key, shard) DO UPDATE SET n = c.n + excluded.n;
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION comments_of_articles_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM article_counts WHERE scope = 'comments' AND key IN (SELECT id FROM removed);
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- moved_counted as in migration 12, and a comment moved to another
-- article (no code path does; an operator's UPDATE may).
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
	WHEN 'comments' THEN
		old_key := OLD.article_id; new_key := NEW.article_id;
		old_shard := comment_count_shard(old_key); new_shard := comment_count_shard(new_key);
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

-- count_articles_truth as in migration 12, and each article's comments
-- whole, in shard 0.
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
	UNION ALL
	SELECT 'comments', article_id, 0::smallint, count(*) FROM comments GROUP BY 2
$$;
-- +goose StatementEnd

-- count_articles_kept as in migration 12, an article's comment shards
-- summed in shard 0 as an author's are.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION count_articles_kept() RETURNS TABLE (scope text, key bigint, shard smallint, n bigint)
LANGUAGE sql STABLE AS $$
	SELECT scope, key, shard, n FROM article_counts WHERE scope NOT IN ('author', 'comments')
	UNION ALL
	SELECT scope, key, 0::smallint, sum(n)::bigint FROM article_counts WHERE scope IN ('author', 'comments') GROUP BY scope, key
$$;
-- +goose StatementEnd

-- Writers of comments wait from here to the commit, so the count below
-- and the triggers see every comment once.
LOCK TABLE comments IN SHARE ROW EXCLUSIVE MODE;

-- Statement-level, as the other counters' triggers: a statement writing
-- many comments moves each article's counter once.
CREATE TRIGGER comments_counted_insert AFTER INSERT ON comments
	REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION comments_counted();
CREATE TRIGGER comments_counted_delete AFTER DELETE ON comments
	REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION comments_counted();
CREATE TRIGGER comments_counted_move AFTER UPDATE OF article_id ON comments
	FOR EACH ROW WHEN (OLD.article_id <> NEW.article_id) EXECUTE FUNCTION moved_counted('comments');
CREATE TRIGGER articles_comment_counts_delete AFTER DELETE ON articles
	REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION comments_of_articles_deleted();

INSERT INTO article_counts (scope, key, shard, n)
SELECT 'comments', article_id, 0, count(*) FROM comments GROUP BY article_id;

-- +goose Down
DROP TRIGGER articles_comment_counts_delete ON articles;
DROP TRIGGER comments_counted_move ON comments;
DROP TRIGGER comments_counted_delete ON comments;
DROP TRIGGER comments_counted_insert ON comments;
DELETE FROM article_counts WHERE scope = 'comments';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION count_articles_kept() RETURNS TABLE (scope text, key bigint, shard smallint, n bigint)
LANGUAGE sql STABLE AS $$
	SELECT scope, key, shard, n FROM article_counts WHERE scope <> 'author'
	UNION ALL
	SELECT 'author', key, 0::smallint, sum(n)::bigint FROM article_counts WHERE scope = 'author' GROUP BY key
$$;
-- +goose StatementEnd

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

DROP FUNCTION comments_of_articles_deleted();
DROP FUNCTION comments_counted();
DROP FUNCTION comment_count_shard(bigint);
ALTER TABLE article_counts DROP CONSTRAINT article_counts_scope_check,
	ADD CONSTRAINT article_counts_scope_check CHECK (scope IN ('all', 'tag', 'author', 'favorited'));
