-- +goose Up

-- Constraint and index names are spelled out because the store's error
-- translator maps them to the fields a client sees ("username", "email",
-- "slug").

CREATE TABLE users (
	id            bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT users_pkey PRIMARY KEY,
	username      text NOT NULL CONSTRAINT users_username_key UNIQUE,
	email         text NOT NULL,
	password_hash text NOT NULL,
	bio           text,
	image         text,
	created_at    timestamptz(3) NOT NULL DEFAULT now(),
	updated_at    timestamptz(3) NOT NULL DEFAULT now()
);
-- Emails keep the case the user typed but are unique whatever the case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE follows (
	follower_id bigint NOT NULL CONSTRAINT follows_follower_id_fkey REFERENCES users (id) ON DELETE CASCADE,
	followee_id bigint NOT NULL CONSTRAINT follows_followee_id_fkey REFERENCES users (id) ON DELETE CASCADE,
	created_at  timestamptz(3) NOT NULL DEFAULT now(),
	CONSTRAINT follows_pkey PRIMARY KEY (follower_id, followee_id),
	CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);
-- "Who follows X": the primary key only serves "whom does X follow".
CREATE INDEX follows_followee_id_idx ON follows (followee_id, follower_id);

CREATE TABLE articles (
	id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT articles_pkey PRIMARY KEY,
	slug            text NOT NULL CONSTRAINT articles_slug_key UNIQUE,
	author_id       bigint NOT NULL CONSTRAINT articles_author_id_fkey REFERENCES users (id) ON DELETE CASCADE,
	title           text NOT NULL,
	description     text NOT NULL,
	body            text NOT NULL,
	-- Kept on the row by Favorite and Unfavorite, so that a page of articles
	-- does not count favorites row by row.
	favorites_count integer NOT NULL DEFAULT 0 CONSTRAINT articles_favorites_count_check CHECK (favorites_count >= 0),
	created_at      timestamptz(3) NOT NULL DEFAULT now(),
	updated_at      timestamptz(3) NOT NULL DEFAULT now()
);
-- Every list is ordered newest first with the id breaking ties, and keyset
-- paginated on the same pair.
CREATE INDEX articles_created_at_idx ON articles (created_at DESC, id DESC);
CREATE INDEX articles_author_id_created_at_idx ON articles (author_id, created_at DESC, id DESC);

CREATE TABLE tags (
	id   bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT tags_pkey PRIMARY KEY,
	name text NOT NULL CONSTRAINT tags_name_key UNIQUE
);

CREATE TABLE article_tags (
	article_id bigint NOT NULL CONSTRAINT article_tags_article_id_fkey REFERENCES articles (id) ON DELETE CASCADE,
	tag_id     bigint NOT NULL CONSTRAINT article_tags_tag_id_fkey REFERENCES tags (id) ON DELETE CASCADE,
	CONSTRAINT article_tags_pkey PRIMARY KEY (article_id, tag_id)
);
-- The tag filter and the tag popularity count start from the tag.
CREATE INDEX article_tags_tag_id_idx ON article_tags (tag_id, article_id);

CREATE TABLE favorites (
	user_id    bigint NOT NULL CONSTRAINT favorites_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
	article_id bigint NOT NULL CONSTRAINT favorites_article_id_fkey REFERENCES articles (id) ON DELETE CASCADE,
	created_at timestamptz(3) NOT NULL DEFAULT now(),
	CONSTRAINT favorites_pkey PRIMARY KEY (user_id, article_id)
);
-- Deleting an article cascades through this index.
CREATE INDEX favorites_article_id_idx ON favorites (article_id);

CREATE TABLE comments (
	id         bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT comments_pkey PRIMARY KEY,
	article_id bigint NOT NULL CONSTRAINT comments_article_id_fkey REFERENCES articles (id) ON DELETE CASCADE,
	author_id  bigint NOT NULL CONSTRAINT comments_author_id_fkey REFERENCES users (id) ON DELETE CASCADE,
	body       text NOT NULL,
	created_at timestamptz(3) NOT NULL DEFAULT now(),
	updated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX comments_article_id_created_at_idx ON comments (article_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE comments;
DROP TABLE favorites;
DROP TABLE article_tags;
DROP TABLE tags;
DROP TABLE articles;
DROP TABLE follows;
DROP TABLE users;
