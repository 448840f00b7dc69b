-- +goose Up

-- A page of the articles with a tag, or of those a user favorited, newest
-- first. Filtering the newest-first walk of all articles by the tag costs
-- in proportion to how rare the tag is: a tag on one article in ten
-- thousand, or one nobody uses, walks the whole table (a second at 100,000
-- articles, for one request anyone can send). With the article's
-- created_at kept beside each link, each page is read in order from an
-- index of the links themselves, and costs the same for any tag or user at
-- any size. An article's created_at never changes, so the copy holds; the
-- writers (db/articles.go) set it when they link.
ALTER TABLE article_tags ADD COLUMN article_created_at timestamptz(3);
UPDATE article_tags x SET article_created_at = a.created_at FROM articles a WHERE a.id = x.article_id;
ALTER TABLE article_tags ALTER COLUMN article_created_at SET NOT NULL;
CREATE INDEX article_tags_tag_id_created_at_idx ON article_tags (tag_id, article_created_at DESC, article_id DESC);
-- Served by the new index's first column: the tag filter, the counts.
DROP INDEX article_tags_tag_id_idx;

ALTER TABLE favorites ADD COLUMN article_created_at timestamptz(3);
UPDATE favorites f SET article_created_at = a.created_at FROM articles a WHERE a.id = f.article_id;
ALTER TABLE favorites ALTER COLUMN article_created_at SET NOT NULL;
CREATE INDEX favorites_user_id_created_at_idx ON favorites (user_id, article_created_at DESC, article_id DESC);

-- +goose Down
DROP INDEX favorites_user_id_created_at_idx;
ALTER TABLE favorites DROP COLUMN article_created_at;
CREATE INDEX article_tags_tag_id_idx ON article_tags (tag_id, article_id);
DROP INDEX article_tags_tag_id_created_at_idx;
ALTER TABLE article_tags DROP COLUMN article_created_at;
