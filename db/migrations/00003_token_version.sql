-- +goose Up

-- Counts the user's password changes. A token carries the version it was
-- issued under and is refused once the user's version has moved on, so
-- that changing a password signs out every other session.
ALTER TABLE users ADD COLUMN token_version bigint NOT NULL DEFAULT 0
	CONSTRAINT users_token_version_check CHECK (token_version >= 0);

-- +goose Down
ALTER TABLE users DROP COLUMN token_version;
