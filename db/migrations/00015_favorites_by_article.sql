-- +goose Up

-- Whether the viewer favorited an article is a probe of the favorite
-- (user, article): db.articleColumns. The primary key (user_id,
-- article_id) answers it in one entry. The index for an article's
-- favorites (for the cascade when an article goes) was on article_id
-- alone, and PostgreSQL chose it over the key whenever the site's articles
-- have few favorites on average, reading all of an article's favorites to
-- find the viewer's: 201 entries for one popular article, 420 for a page
-- that shows two (TestFavoritedFlagsProbeOneRow). With the user in the
-- index too, either index finds the favorite in one entry, whichever the
-- planner picks, and the cascade reads it as before.
--
-- Expand and contract alike: no statement names the index. A plain
-- CREATE INDEX holds writers of favorites while it builds (seconds per
-- million favorites), as migration 8's did; see the README on
-- CONCURRENTLY.

CREATE INDEX IF NOT EXISTS favorites_article_id_user_id_idx ON favorites (article_id, user_id);
DROP INDEX IF EXISTS favorites_article_id_idx;

-- +goose Down
CREATE INDEX IF NOT EXISTS favorites_article_id_idx ON favorites (article_id);
DROP INDEX IF EXISTS favorites_article_id_user_id_idx;
