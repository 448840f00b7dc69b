-- +goose Up

-- Live updates: each new comment, deleted comment and new article is
-- announced on the channel conduit_events (db.EventsChannel), which every
-- replica LISTENs on. pg_notify inside the writing transaction is delivered
-- only if that transaction commits, and in commit order, so a listener
-- never hears of a write that did not happen; and since the triggers do it,
-- every writer (both API surfaces, the seed, an operator's psql) is heard
-- without sending anything itself. Payloads carry ids only: NOTIFY refuses
-- payloads over 8000 bytes, and a listener reads the rows it needs.

-- +goose StatementBegin
CREATE FUNCTION comments_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM pg_notify('conduit_events', json_build_object(
			'kind', 'commentAdded', 'article', NEW.article_id, 'comment', NEW.id, 'author', NEW.author_id)::text);
	ELSE
		PERFORM pg_notify('conduit_events', json_build_object(
			'kind', 'commentDeleted', 'article', OLD.article_id, 'comment', OLD.id, 'author', OLD.author_id)::text);
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION articles_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('conduit_events', json_build_object(
		'kind', 'articlePublished', 'article', NEW.id, 'author', NEW.author_id)::text);
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- Row triggers, so that the comments an article's deletion cascades to are
-- announced one by one too.
CREATE TRIGGER comments_notify AFTER INSERT OR DELETE ON comments
	FOR EACH ROW EXECUTE FUNCTION comments_notify();
CREATE TRIGGER articles_notify AFTER INSERT ON articles
	FOR EACH ROW EXECUTE FUNCTION articles_notify();

-- +goose Down
DROP TRIGGER articles_notify ON articles;
DROP TRIGGER comments_notify ON comments;
DROP FUNCTION articles_notify();
DROP FUNCTION comments_notify();
