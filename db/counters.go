package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CounterMismatch is a kept article counter (migrations 7 and 13) that
// differs from the count of the rows it stands for.
type CounterMismatch struct {
	Scope  string // all, tag, author, favorited or comments
	Key    int64  // 0 for all; the tag's, the user's or (comments) the article's id
	Name   string // the tag's name, the user's username or the article's slug; "" for all or a key that no longer exists
	Shard  int    // 0 for author and comments: their shards are checked as one sum (count_articles_kept, migrations 12 and 13)
	Kept   int64  // 0 when the counter has no row
	Actual int64
}

// mismatches compares every kept counter with the rows, in one statement,
// so on one snapshot: the triggers move a counter in its write's own
// transaction, so a snapshot sees both or neither and the comparison holds
// with writes running.
const mismatches = `
	SELECT coalesce(k.scope, t.scope) AS scope, coalesce(k.key, t.key) AS key,
		coalesce(CASE coalesce(k.scope, t.scope)
			WHEN 'tag' THEN (SELECT name FROM tags WHERE id = coalesce(k.key, t.key))
			WHEN 'all' THEN ''
			WHEN 'comments' THEN (SELECT slug FROM articles WHERE id = coalesce(k.key, t.key))
			ELSE (SELECT username FROM users WHERE id = coalesce(k.key, t.key)) END, '') AS name,
		coalesce(k.shard, t.shard)::int AS shard, coalesce(k.n, 0) AS kept, coalesce(t.n, 0) AS actual
	FROM count_articles_kept() k
	FULL JOIN count_articles_truth() t ON (t.scope, t.key, t.shard) = (k.scope, k.key, k.shard)
	WHERE coalesce(k.n, 0) <> coalesce(t.n, 0)
	ORDER BY 1, 2, 4`

// CheckCounters returns the kept counters that differ from the rows, none
// when all is well. With repair it also sets them to the count of the
// rows, in a transaction that first makes writers of articles, tags,
// favorites and comments wait (they resume when it commits), and returns
// what it corrected. It reads every article, tag link, favorite and
// comment: an operator's command, not a request's.
func (d *DB) CheckCounters(ctx context.Context, repair bool) ([]CounterMismatch, error) {
	if !repair {
		rows, _ := d.pool.Query(ctx, mismatches)
		found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CounterMismatch])
		if err != nil {
			return nil, fmt.Errorf("check counters: %w", err)
		}
		return found, nil
	}
	var found []CounterMismatch
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		// Every trigger that moves a counter writes article_counts, which
		// this lock holds still; the count below then sees every write
		// that moved one, and those waiting add to the repaired values.
		if _, err := tx.Exec(ctx, `LOCK TABLE article_counts IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, mismatches)
		var err error
		found, err = pgx.CollectRows(rows, pgx.RowToStructByPos[CounterMismatch])
		if err != nil {
			return err
		}
		// An author's or an article's comment count that is off is set
		// whole in shard 0, its other shards gone.
		var authors, articles []int64
		for _, m := range found {
			switch m.Scope {
			case "author":
				authors = append(authors, m.Key)
			case "comments":
				articles = append(articles, m.Key)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM article_counts WHERE shard <> 0 AND
			(scope = 'author' AND key = ANY($1) OR scope = 'comments' AND key = ANY($2))`, authors, articles); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO article_counts AS c (scope, key, shard, n)
			SELECT coalesce(k.scope, t.scope), coalesce(k.key, t.key), coalesce(k.shard, t.shard), coalesce(t.n, 0)
			FROM count_articles_kept() k
			FULL JOIN count_articles_truth() t ON (t.scope, t.key, t.shard) = (k.scope, k.key, k.shard)
			WHERE coalesce(k.n, 0) <> coalesce(t.n, 0)
			ON CONFLICT (scope, key, shard) DO UPDATE SET n = excluded.n`)
		if err != nil {
			return err
		}
		// As the triggers do: the tag shards are those of tags in use
		// (migration 9), and an article's comment count goes with the
		// article (migration 13).
		_, err = tx.Exec(ctx, `DELETE FROM article_counts c WHERE scope = 'tag' AND n = 0
			OR scope = 'comments' AND c.key = ANY($1) AND NOT EXISTS (SELECT 1 FROM articles WHERE id = c.key)`, articles)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("repair counters: %w", err)
	}
	return found, nil
}
