package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
)

// How the scaling datasets are generated (-articles). A change to how they
// are generated must bump scaleVersion, which names the marker user, so
// that an old seed is seeded again rather than reused.
const (
	scaleVersion     = 1
	scaleUsers       = 500
	scaleFeedFollows = 150   // the feed user (user 0) follows users 1..150
	scaleFollows     = 5_000 // follows in all, the feed user's included
	// scaleBatch is how many articles one COPY writes: each COPY is a
	// statement, whose statement-level triggers see its rows at once, so
	// a batch bounds what they aggregate.
	scaleBatch = 50_000
)

// scaleStart is the created_at of the first article; each next one is
// scaleStep later, so that the times are distinct and follow the ids.
var (
	scaleStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	scaleStep  = 10 * time.Second
)

// scaleData is the database of one size of the scaling measurement, in
// the benchmark's cluster.
type scaleData struct {
	articles   int
	database   string
	url        string // for the servers
	seeded     bool   // seeded by this run rather than reused
	seedTime   time.Duration
	feedUserID int64
	pgVer      string
}

// scaleDatabase names the database of the size n.
func scaleDatabase(n int) string { return fmt.Sprintf("conduit_scale_%d", n) }

// scaleMarker is the user the seed writes last: its presence tells a
// finished seed of this version.
func scaleMarker(n int) string { return fmt.Sprintf("bench-scale-v%d-%d", scaleVersion, n) }

// openScale makes sure the cluster that clusterURL points into holds a
// finished scaling seed of n articles in a database of its own: it reuses
// one, and seeds again over an unfinished or outdated one. The database is
// migrated first, as the benchmark's own is, and analyzed last.
func openScale(ctx context.Context, clusterURL string, n int, log *progress) (*scaleData, error) {
	d := &scaleData{articles: n, database: scaleDatabase(n)}
	var err error
	if d.url, err = databaseURL(clusterURL, d.database); err != nil {
		return nil, err
	}
	if err := createDatabase(ctx, clusterURL, d.database, false); err != nil {
		return nil, err
	}
	if err := migrate(ctx, d.url); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, withParam(d.url, "synchronous_commit", "off"))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", d.database, err)
	}
	defer func() { conn.Close(context.WithoutCancel(ctx)) }()
	var finished, empty bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username = $1), NOT EXISTS (SELECT 1 FROM users)`,
		scaleMarker(n)).Scan(&finished, &empty)
	if err != nil {
		return nil, fmt.Errorf("look for the marker user in %s: %w", d.database, err)
	}
	switch {
	case finished:
		log.step("reusing %s (marker user %s found)", d.database, scaleMarker(n))
	case !empty:
		log.step("%s is unfinished or outdated: dropping it", d.database)
		conn.Close(ctx)
		if err := createDatabase(ctx, clusterURL, d.database, true); err != nil {
			return nil, err
		}
		if err := migrate(ctx, d.url); err != nil {
			return nil, err
		}
		if conn, err = pgx.Connect(ctx, withParam(d.url, "synchronous_commit", "off")); err != nil {
			return nil, fmt.Errorf("connect to %s: %w", d.database, err)
		}
		fallthrough
	default:
		start := time.Now()
		if err := seedScale(ctx, conn, n, log); err != nil {
			return nil, fmt.Errorf("seed %s: %w", d.database, err)
		}
		d.seeded, d.seedTime = true, time.Since(start)
		log.step("seeded %s in %s", d.database, d.seedTime.Round(100*time.Millisecond))
	}
	start := time.Now()
	// The seed's COPYs move each counter once per batch, which leaves
	// article_counts on many times the pages its rows need, and a read of
	// many counters (a feed's total) reads them all. Requests move a
	// counter a row at a time, and its old versions are pruned from the
	// page in place; after a bulk load it takes a VACUUM FULL (README,
	// "Article counts"), as here, so that what is measured is a site's
	// steady state. (Small: one row per counter and shard.)
	if _, err := conn.Exec(ctx, "VACUUM FULL article_counts"); err != nil {
		return nil, fmt.Errorf("vacuum full article_counts of %s: %w", d.database, err)
	}
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, fmt.Errorf("vacuum analyze %s: %w", d.database, err)
	}
	log.step("VACUUM ANALYZE of %s: %s", d.database, time.Since(start).Round(100*time.Millisecond))
	users := genUsers(scaleRand(), scaleUsers)
	err = conn.QueryRow(ctx, `SELECT (SELECT id FROM users WHERE username = $1), current_setting('server_version')`,
		users[0].username).Scan(&d.feedUserID, &d.pgVer)
	if err != nil {
		return nil, fmt.Errorf("find the feed user in %s: %w", d.database, err)
	}
	return d, nil
}

// scaleRand is the generator of every scaling dataset, whatever its size:
// its users come out as the normal dataset's do.
func scaleRand() *rand.Rand { return rand.New(rand.NewPCG(seed, datasetVersion)) }

// seedScale writes the dataset of n articles with COPY in one transaction,
// so that it is there whole or not at all, the marker user last. Only the
// notification triggers are off meanwhile (a NOTIFY per article would be
// queued until the commit); the counter triggers and the foreign keys do
// their work as for any write.
func seedScale(ctx context.Context, conn *pgx.Conn, n int, log *progress) error {
	started := time.Now()
	r := scaleRand()
	users := genUsers(r, scaleUsers)
	hash, err := bcrypt.GenerateFromPassword([]byte(seedPassword), bcryptCost)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, q := range []string{
			`ALTER TABLE articles DISABLE TRIGGER articles_notify`,
			`ALTER TABLE comments DISABLE TRIGGER comments_notify`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		indexes, err := dropSecondaryIndexes(ctx, tx)
		if err != nil {
			return err
		}
		now := time.Now()
		rows := make([][]any, len(users))
		for i, u := range users {
			rows[i] = []any{int64(i + 1), u.username, u.email, string(hash), u.bio, u.image, now, now}
		}
		if err := copyRows(ctx, tx, "users", []string{"id", "username", "email", "password_hash", "bio", "image", "created_at", "updated_at"}, rows); err != nil {
			return err
		}
		rows = rows[:0]
		for i, t := range tagNames[:numTags] {
			rows = append(rows, []any{int64(i + 1), t})
		}
		if err := copyRows(ctx, tx, "tags", []string{"id", "name"}, rows); err != nil {
			return err
		}
		tagID := map[string]int64{}
		for i, t := range tagNames[:numTags] {
			tagID[t] = int64(i + 1)
		}
		for lo := 0; lo < n; lo += scaleBatch {
			if err := copyScaleBatch(ctx, tx, r, lo, min(lo+scaleBatch, n), tagID); err != nil {
				return err
			}
			log.step("seeding %s: %d of %d articles (%s)", scaleDatabase(n), min(lo+scaleBatch, n), n, time.Since(started).Round(100*time.Millisecond))
		}
		// The feed user follows users 1..scaleFeedFollows and no one else;
		// the other follows are among users 1..499.
		rows = rows[:0]
		for i := 1; i <= scaleFeedFollows; i++ {
			rows = append(rows, []any{int64(1), int64(i + 1)})
		}
		for _, f := range genPairs(r, scaleFollows-scaleFeedFollows, scaleUsers-1, scaleUsers-1, nil) {
			rows = append(rows, []any{int64(f.a + 2), int64(f.b + 2)})
		}
		if err := copyRows(ctx, tx, "follows", []string{"follower_id", "followee_id"}, rows); err != nil {
			return err
		}
		t0 := time.Now()
		for _, def := range indexes {
			if _, err := tx.Exec(ctx, def); err != nil {
				return fmt.Errorf("recreate index: %w", err)
			}
		}
		log.step("seeding %s: %d secondary indexes built again (%s)", scaleDatabase(n), len(indexes), time.Since(t0).Round(100*time.Millisecond))
		for _, q := range []string{
			`ALTER TABLE articles ENABLE TRIGGER articles_notify`,
			`ALTER TABLE comments ENABLE TRIGGER comments_notify`,
			// The ids were given, not drawn: later inserts draw after them.
			`SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))`,
			`SELECT setval(pg_get_serial_sequence('tags', 'id'), (SELECT max(id) FROM tags))`,
			`SELECT setval(pg_get_serial_sequence('articles', 'id'), greatest((SELECT max(id) FROM articles), 1))`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO users (username, email, password_hash) VALUES ($1, $2, $3)`,
			scaleMarker(n), scaleMarker(n)+"@bench.example", string(hash))
		return err
	})
}

// copyScaleBatch writes articles lo..hi-1 (ids lo+1..hi), their tags and
// favorites. Article i has i mod 3 favorites, from users of its own, and
// its favorites_count says so: the store keeps that column on each
// favorite, not a trigger.
func copyScaleBatch(ctx context.Context, tx pgx.Tx, r *rand.Rand, lo, hi int, tagID map[string]int64) error {
	articles := make([][]any, 0, hi-lo)
	var tags, favorites [][]any
	for i := lo; i < hi; i++ {
		id := int64(i + 1)
		title := fmt.Sprintf("The %s %s, part %d", pick(r, adjectives), pick(r, nouns), i)
		at := scaleStart.Add(time.Duration(i) * scaleStep)
		favs := i % 3
		articles = append(articles, []any{
			id, conduit.Slugify(title), int64(r.IntN(scaleUsers) + 1), title,
			sentence(r, 6+r.IntN(6)), sentence(r, 20+r.IntN(20)), favs, at, at,
		})
		for _, t := range pickTags(r, tagNames[:numTags]) {
			tags = append(tags, []any{id, tagID[t], t, at})
		}
		for k := range favs {
			favorites = append(favorites, []any{int64((i*7+k*131)%scaleUsers + 1), id, at})
		}
	}
	for _, c := range []struct {
		table   string
		columns []string
		rows    [][]any
	}{
		{"articles", []string{"id", "slug", "author_id", "title", "description", "body", "favorites_count", "created_at", "updated_at"}, articles},
		// Each link carries its article's created_at (migration 8) and its
		// tag's name (migration 10).
		{"article_tags", []string{"article_id", "tag_id", "tag_name", "article_created_at"}, tags},
		{"favorites", []string{"user_id", "article_id", "article_created_at"}, favorites},
	} {
		if err := copyRows(ctx, tx, c.table, c.columns, c.rows); err != nil {
			return err
		}
	}
	return nil
}

// dropSecondaryIndexes drops the indexes of the tables the seed fills
// that back no constraint, and returns the statements that make them
// again: one sort per index after the COPY costs less than keeping each
// up to date row by row. The unique and primary keys stay, and so do the
// foreign keys, which look them up.
func dropSecondaryIndexes(ctx context.Context, tx pgx.Tx) ([]string, error) {
	rows, _ := tx.Query(ctx, `
		SELECT quote_ident(c.relname), pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid IN ('articles'::regclass, 'article_tags'::regclass, 'favorites'::regclass, 'follows'::regclass)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
		ORDER BY 1`)
	type index struct{ Name, Def string }
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	defs := make([]string, len(found))
	for i, x := range found {
		if _, err := tx.Exec(ctx, `DROP INDEX `+x.Name); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", x.Name, err)
		}
		defs[i] = x.Def
	}
	if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return nil, err
	}
	return defs, nil
}

func copyRows(ctx context.Context, tx pgx.Tx, table string, columns []string, rows [][]any) error {
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	return nil
}

// migrate applies the migrations to the database at url, as the benchmark
// does to its own.
func migrate(ctx context.Context, url string) error {
	store, err := db.Open(ctx, url, db.Options{MaxConns: 1})
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Migrate(ctx)
}

// createDatabase creates the database name in the cluster clusterURL
// points into, unless it exists; with fresh, it drops it first.
func createDatabase(ctx context.Context, clusterURL, name string, fresh bool) error {
	conn, err := pgx.Connect(ctx, clusterURL)
	if err != nil {
		return fmt.Errorf("connect to the cluster: %w", err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if fresh {
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("find database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+ident); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// databaseURL returns u pointing at the database name instead.
func databaseURL(u, name string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	parsed.Path = "/" + name
	return parsed.String(), nil
}
