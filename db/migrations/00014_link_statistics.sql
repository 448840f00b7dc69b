-- +goose Up

-- A page of a tag's articles, or of a user's favorites, is read from the
-- links' own index (migration 8), in order, and stops after the page. The
-- tag or the user is looked up in a subquery, so PostgreSQL plans the page
-- for a key it does not know, and sizes that key's links as the average
-- key's: rows ÷ distinct keys. On a site of many rare tags (or of readers
-- with a favorite or two), that is a few rows. For a page past them (a
-- legacy client's ?offset=20) the plan then reads every link of the key and
-- sorts them, as cheap as the walk for a rare tag; for a tag on 3,000
-- articles it read and sorted 3,000 links for a page of 20
-- (TestListsWalkTheirLinksInOrder), and for a tag on a tenth of a million
-- articles it would read 100,000 for each page after the first.
--
-- With one distinct key, PostgreSQL sizes an unknown key as its most
-- common one (the estimate is capped by the first of the column's most
-- common values), which is the key whose pages cost the most, and for
-- which the walk is the plan. The walk costs a rare key no more than its
-- links. Joins of these columns to tags and users are estimated by the
-- distinct keys of the other side, which this leaves alone.
--
-- The setting is read by ANALYZE, which is run here for the two columns so
-- that it holds from now on, not from autovacuum's next pass. It changes
-- plans only: expand and contract alike, nothing for a previous release.

ALTER TABLE article_tags ALTER COLUMN tag_id SET (n_distinct = 1);
ALTER TABLE favorites ALTER COLUMN user_id SET (n_distinct = 1);
ANALYZE article_tags (tag_id);
ANALYZE favorites (user_id);

-- +goose Down
ALTER TABLE favorites ALTER COLUMN user_id RESET (n_distinct);
ALTER TABLE article_tags ALTER COLUMN tag_id RESET (n_distinct);
ANALYZE article_tags (tag_id);
ANALYZE favorites (user_id);
