-- +goose Up

-- A page of the articles with a tag, or of those a user favorited, newest
-- first. Filtering the newest-first walk of all articles by the tag costs
-- in proportion to how rare the tag is: a tag on one article in ten
-- thousand, or one nobody uses, walks the whole table (a second at 100,000
-- articles, for one request anyone can send). With the article's
-- created_at kept beside each link, each page is read in order from an
-- index of the links themselves, and costs the same for any tag or user at
-- any size. An article's created_at never changes, so the copy holds.
--
-- Expand only, for a rolling deploy: the column is nullable and a trigger
-- fills it for writers that do not set it (the previous release, psql), so
-- nothing that writes links today fails. In one transaction: the index
-- builds hold writers of links for their duration (seconds per million
-- links). CREATE INDEX CONCURRENTLY outside a transaction hangs when
-- replicas start at once: it waits for every open snapshot, among them the
-- other replicas' statements waiting on the migration's advisory lock,
-- which waits for it (TestReplicasMigrateOnce caught it).

ALTER TABLE article_tags ADD COLUMN IF NOT EXISTS article_created_at timestamptz(3);
ALTER TABLE favorites ADD COLUMN IF NOT EXISTS article_created_at timestamptz(3);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION link_article_created_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.article_created_at IS NULL THEN
		NEW.article_created_at := (SELECT created_at FROM articles WHERE id = NEW.article_id);
	END IF;
	RETURN NEW;
END
$$;
-- +goose StatementEnd

DROP TRIGGER IF EXISTS article_tags_created_at ON article_tags;
CREATE TRIGGER article_tags_created_at BEFORE INSERT ON article_tags
	FOR EACH ROW EXECUTE FUNCTION link_article_created_at();
DROP TRIGGER IF EXISTS favorites_created_at ON favorites;
CREATE TRIGGER favorites_created_at BEFORE INSERT ON favorites
	FOR EACH ROW EXECUTE FUNCTION link_article_created_at();

-- +goose StatementBegin
-- retry_write aborts the statement that calls it as a serialization
-- failure, which the store runs again (db.retried): for a one-statement
-- write that found the database changed under it (a tag created by a
-- concurrent writer, which its snapshot cannot see).
CREATE OR REPLACE FUNCTION retry_write(reason text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = reason;
END
$$;
-- +goose StatementEnd

-- Rows linked before the trigger existed.
UPDATE article_tags x SET article_created_at = a.created_at FROM articles a
	WHERE a.id = x.article_id AND x.article_created_at IS NULL;
UPDATE favorites f SET article_created_at = a.created_at FROM articles a
	WHERE a.id = f.article_id AND f.article_created_at IS NULL;

CREATE INDEX IF NOT EXISTS article_tags_tag_id_created_at_idx
	ON article_tags (tag_id, article_created_at DESC, article_id DESC);
CREATE INDEX IF NOT EXISTS favorites_user_id_created_at_idx
	ON favorites (user_id, article_created_at DESC, article_id DESC);
-- The new index's first column serves all that this one did.
DROP INDEX IF EXISTS article_tags_tag_id_idx;

-- +goose Down
CREATE INDEX IF NOT EXISTS article_tags_tag_id_idx ON article_tags (tag_id, article_id);
DROP INDEX IF EXISTS favorites_user_id_created_at_idx;
DROP INDEX IF EXISTS article_tags_tag_id_created_at_idx;
DROP TRIGGER IF EXISTS favorites_created_at ON favorites;
DROP TRIGGER IF EXISTS article_tags_created_at ON article_tags;
DROP FUNCTION IF EXISTS link_article_created_at();
DROP FUNCTION IF EXISTS retry_write(text);
ALTER TABLE favorites DROP COLUMN IF EXISTS article_created_at;
ALTER TABLE article_tags DROP COLUMN IF EXISTS article_created_at;
