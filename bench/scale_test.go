package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestScaleSeed seeds two tiny scaling databases side by side in one
// cluster, checks what they hold, and opens them again: a finished seed
// is reused, an unfinished one seeded again.
func TestScaleSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	ctx := t.Context()
	emb, err := db.StartEmbedded(ctx, db.EmbeddedConfig{Dir: filepath.Join(dbtest.ClusterDir(t), "pg"), Database: benchDatabase, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Stop() })
	log := newProgress(io.Discard)

	for _, n := range []int{200, 400} {
		d, err := openScale(ctx, emb.URL(), n, log)
		if err != nil {
			t.Fatal(err)
		}
		if !d.seeded {
			t.Errorf("%d: seeded = false on an empty cluster, want true", n)
		}
		checkScaleCounts(t, d)
	}

	t.Run("Reuse", func(t *testing.T) {
		d, err := openScale(ctx, emb.URL(), 200, log)
		if err != nil {
			t.Fatal(err)
		}
		if d.seeded {
			t.Error("seeded = true over a finished seed, want it reused")
		}
		checkScaleCounts(t, d)
	})

	t.Run("Unfinished", func(t *testing.T) {
		conn := mustConnect(t, scaleURL(t, emb.URL(), 400))
		if _, err := conn.Exec(ctx, `DELETE FROM users WHERE username = $1`, scaleMarker(400)); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		d, err := openScale(ctx, emb.URL(), 400, log)
		if err != nil {
			t.Fatal(err)
		}
		if !d.seeded {
			t.Error("seeded = false without the marker user, want seeded again")
		}
		checkScaleCounts(t, d)
	})
}

// checkScaleCounts checks the rows of d against what the seed promises.
func checkScaleCounts(t *testing.T, d *scaleData) {
	t.Helper()
	conn := mustConnect(t, d.url)
	defer conn.Close(t.Context())
	var articles, minTags, maxTags, users, feedFollows, favorites, wantFavorites, badCounts, tags, disabled, indexes, wrongCounters int
	err := conn.QueryRow(t.Context(), `
		SELECT (SELECT count(*) FROM articles),
			(SELECT min(n) FROM (SELECT count(x.tag_id) AS n FROM articles a LEFT JOIN article_tags x ON x.article_id = a.id GROUP BY a.id) c),
			(SELECT max(n) FROM (SELECT count(*) AS n FROM article_tags GROUP BY article_id) c),
			(SELECT count(*) FROM users),
			(SELECT count(*) FROM follows WHERE follower_id = $1),
			(SELECT count(*) FROM favorites),
			(SELECT coalesce(sum(favorites_count), 0) FROM articles),
			(SELECT count(*) FROM articles a WHERE favorites_count <> (SELECT count(*) FROM favorites f WHERE f.article_id = a.id)),
			(SELECT count(*) FROM tags),
			(SELECT count(*) FROM pg_trigger WHERE tgname IN ('articles_notify', 'comments_notify') AND tgenabled = 'D'),
			(SELECT count(*) FROM pg_indexes WHERE indexname IN ('articles_created_at_idx', 'articles_author_id_created_at_idx',
				'article_tags_tag_id_created_at_idx', 'favorites_article_id_user_id_idx', 'favorites_user_id_created_at_idx', 'follows_followee_id_idx')),
			(SELECT count(*) FROM count_articles_kept() k FULL JOIN count_articles_truth() t USING (scope, key, shard)
				WHERE coalesce(k.n, 0) <> coalesce(t.n, 0))`,
		d.feedUserID).Scan(&articles, &minTags, &maxTags, &users, &feedFollows, &favorites, &wantFavorites, &badCounts, &tags, &disabled, &indexes, &wrongCounters)
	if err != nil {
		t.Fatal(err)
	}
	if articles != d.articles {
		t.Errorf("articles = %d, want %d", articles, d.articles)
	}
	if minTags < 1 || maxTags > 5 {
		t.Errorf("tags per article from %d to %d, want 1 to 5", minTags, maxTags)
	}
	if users != scaleUsers+1 {
		t.Errorf("users = %d, want %d and the marker", users, scaleUsers)
	}
	if feedFollows != scaleFeedFollows {
		t.Errorf("the feed user follows %d users, want %d", feedFollows, scaleFeedFollows)
	}
	if favorites == 0 || favorites != wantFavorites || badCounts != 0 {
		t.Errorf("favorites = %d, favorites_count adds up to %d, %d articles miscounted; want some, equal, 0", favorites, wantFavorites, badCounts)
	}
	if tags != numTags {
		t.Errorf("tags = %d, want %d", tags, numTags)
	}
	if disabled != 0 {
		t.Errorf("%d notification triggers left disabled, want 0", disabled)
	}
	if wrongCounters != 0 {
		t.Errorf("%d article counters differ from the rows after the seed, want 0", wrongCounters)
	}
	if indexes != 6 {
		t.Errorf("%d of the 6 secondary indexes the seed drops are there again, want all", indexes)
	}
}

func scaleURL(t *testing.T, clusterURL string, n int) string {
	t.Helper()
	u, err := databaseURL(clusterURL, scaleDatabase(n))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustConnect(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), url)
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}
