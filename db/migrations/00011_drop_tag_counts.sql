-- +goose Up

-- Contract half of migrations 2, 7 and 9. The release before this one
-- (6c103c4: db.Tags reads the shards of migration 7 since 2ed0a7f) reads
-- tags.article_count nowhere, so it runs on this schema during a rolling
-- deploy and after a rollback. The column goes, and with it the triggers
-- that kept it, which locked the row of every tag an article links until
-- the article's commit: 64 writers of articles sharing a popular tag
-- queued on that row. A release older than 6c103c4 does not run on this
-- schema: deploy 6c103c4 (or later) first.
DROP TRIGGER article_tags_changed ON article_tags;
DROP FUNCTION article_tags_changed();
DROP TRIGGER article_tags_removed ON article_tags;
DROP TRIGGER article_tags_added ON article_tags;
DROP FUNCTION article_tags_removed();
DROP FUNCTION article_tags_added();
DROP INDEX tags_in_use_idx;
ALTER TABLE tags DROP COLUMN article_count;

-- +goose Down
ALTER TABLE tags ADD COLUMN article_count integer NOT NULL DEFAULT 0
	CONSTRAINT tags_article_count_check CHECK (article_count >= 0);
UPDATE tags t SET article_count = (SELECT count(*) FROM article_tags x WHERE x.tag_id = t.id);
CREATE INDEX tags_in_use_idx ON tags (article_count DESC, name COLLATE "C") WHERE article_count > 0;

-- +goose StatementBegin
CREATE FUNCTION article_tags_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM tags WHERE id IN (SELECT tag_id FROM added) ORDER BY id FOR NO KEY UPDATE;
	UPDATE tags t SET article_count = t.article_count + d.n
	FROM (SELECT tag_id, count(*) AS n FROM added GROUP BY tag_id) d
	WHERE t.id = d.tag_id;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION article_tags_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM tags WHERE id IN (SELECT tag_id FROM removed) ORDER BY id FOR NO KEY UPDATE;
	UPDATE tags t SET article_count = t.article_count - d.n
	FROM (SELECT tag_id, count(*) AS n FROM removed GROUP BY tag_id) d
	WHERE t.id = d.tag_id;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

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
CREATE TRIGGER article_tags_added AFTER INSERT ON article_tags
	REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION article_tags_added();
CREATE TRIGGER article_tags_removed AFTER DELETE ON article_tags
	REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION article_tags_removed();
