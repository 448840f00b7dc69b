package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// TestCountersUnderConcurrency runs 50 writers at once, each creating,
// retagging, favoriting, unfavoriting and deleting articles across shared
// tags (one of them on every article) and authors, and then holds every
// kept counter to a count of the rows: shard by shard, and as the total of
// each filter a list reports; then moves tag links and favorites by hand.
func TestCountersUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	var users []conduit.User
	for i := range 6 {
		users = append(users, mustCreateUser(t, d, fmt.Sprintf("writer%d", i)))
	}
	mustFollow(t, d, users[0].ID, users[1].ID)
	mustFollow(t, d, users[0].ID, users[2].ID)
	tags := []string{"hot", "go", "sql", "css", "new"}

	const writers = 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 11))
			author := users[w%len(users)]
			var mine []conduit.Article
			for i := range 6 {
				a, err := d.CreateArticle(ctx, conduit.NewArticle{
					AuthorID: author.ID, Slug: fmt.Sprintf("w%d-%d", w, i), Title: "T", Description: "D", Body: "B",
					TagList: []string{"hot", tags[1+r.IntN(len(tags)-1)], tags[1+r.IntN(len(tags)-1)]},
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d: create: %w", w, err)
					return
				}
				mine = append(mine, a)
				fan := users[r.IntN(len(users))]
				if _, err := d.Favorite(ctx, fan.ID, a.Slug); err != nil {
					errs <- fmt.Errorf("writer %d: favorite: %w", w, err)
					return
				}
			}
			// Retag one, unfavorite one, delete two (their tag links and
			// favorites go by cascade).
			if _, err := d.UpdateArticle(ctx, author.ID, mine[0].ID, conduit.ArticleChanges{
				TagList: conduit.Some([]string{tags[1+r.IntN(len(tags)-1)]}),
			}); err != nil {
				errs <- fmt.Errorf("writer %d: retag: %w", w, err)
				return
			}
			for _, u := range users {
				if _, err := d.Unfavorite(ctx, u.ID, mine[1].Slug); err != nil {
					errs <- fmt.Errorf("writer %d: unfavorite: %w", w, err)
					return
				}
			}
			for _, a := range mine[2:4] {
				if err := d.DeleteArticle(ctx, a.ID); err != nil {
					errs <- fmt.Errorf("writer %d: delete: %w", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// The writers queue on shared rows rather than deadlock (which retries
	// would hide, at a second each): every path takes its locks in one order.
	time.Sleep(1100 * time.Millisecond) // backends report their statistics within a second
	if n := dbtest.QueryInt(t, url, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`); n != 0 {
		t.Errorf("%d deadlocks among the writers, want 0", n)
	}
	// No code path moves a link; an operator's UPDATE may, and is counted.
	dbtest.Exec(t, url, `UPDATE article_tags SET tag_id = (SELECT id FROM tags WHERE name = 'go')
		WHERE tag_id = (SELECT id FROM tags WHERE name = 'css')
		AND article_id NOT IN (SELECT article_id FROM article_tags WHERE tag_id = (SELECT id FROM tags WHERE name = 'go'))`)
	dbtest.Exec(t, url, `UPDATE favorites SET user_id = $1 WHERE user_id = $2
		AND article_id NOT IN (SELECT article_id FROM favorites WHERE user_id = $1)`, users[4].ID, users[3].ID)

	// The tag list is every tag in use, most used first, ties by name.
	gotTags, err := d.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	r, _ := conn.Query(ctx, `SELECT t.name FROM tags t JOIN article_tags x ON x.tag_id = t.id
		GROUP BY t.name ORDER BY count(*) DESC, t.name COLLATE "C"`)
	wantTags, err := pgx.CollectRows(r, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotTags, wantTags) || len(wantTags) < 4 {
		t.Errorf("Tags = %v, want %v", gotTags, wantTags)
	}
	wrong, err := d.CheckCounters(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(wrong) > 0 {
		t.Errorf("after %d concurrent writers and two moves, counters differ from the rows: %+v", writers, wrong)
	}
	if got, want := dbtest.QueryInt(t, url, `SELECT count(*) FROM articles`), int64(writers*4); got != want {
		t.Errorf("%d articles, want %d", got, want)
	}
	// The tag shards are those of tags in use (migration 9): the deletes,
	// retags and the move left none at zero.
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'tag' AND n = 0`); n != 0 {
		t.Errorf("%d tag shards at zero are left", n)
	}

	// Each filter's total, read from the counters, against a count(*).
	for _, tc := range []struct {
		filter conduit.ArticleFilter
		count  string
		args   []any
	}{
		{conduit.ArticleFilter{}, `SELECT count(*) FROM articles`, nil},
		{conduit.ArticleFilter{Tag: "hot"}, `SELECT count(*) FROM article_tags x JOIN tags t ON t.id = x.tag_id WHERE t.name = $1`, []any{"hot"}},
		{conduit.ArticleFilter{Tag: "sql"}, `SELECT count(*) FROM article_tags x JOIN tags t ON t.id = x.tag_id WHERE t.name = $1`, []any{"sql"}},
		{conduit.ArticleFilter{Author: "writer3"}, `SELECT count(*) FROM articles a JOIN users u ON u.id = a.author_id WHERE u.username = $1`, []any{"writer3"}},
		{conduit.ArticleFilter{FavoritedBy: "writer4"}, `SELECT count(*) FROM favorites f JOIN users u ON u.id = f.user_id WHERE u.username = $1`, []any{"writer4"}},
		{conduit.ArticleFilter{FeedOf: users[0].ID}, `SELECT count(*) FROM articles WHERE author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)`, []any{users[0].ID}},
		{conduit.ArticleFilter{Tag: "go", Author: "writer1"}, `SELECT count(*) FROM articles a JOIN users u ON u.id = a.author_id
			WHERE u.username = 'writer1' AND a.id IN (SELECT article_id FROM article_tags x JOIN tags t ON t.id = x.tag_id WHERE t.name = 'go')`, nil},
		{conduit.ArticleFilter{Tag: "no such tag"}, `SELECT 0`, nil},
	} {
		want := dbtest.QueryInt(t, url, tc.count, tc.args...)
		if want == 0 && tc.filter.Tag != "no such tag" {
			t.Errorf("%+v: the fixture has no such article", tc.filter)
		}
		for _, p := range []conduit.Page{{Limit: 5}, {Limit: 5, Offset: 1000}} {
			if got := mustList(t, d, users[5].ID, tc.filter, p).Total; int64(got) != want {
				t.Errorf("ListArticles(%+v, %+v).Total = %d, want %d", tc.filter, p, got, want)
			}
		}
	}
}

// TestCheckCounters damages counters in the three ways they can be wrong
// (off, missing, left over) and expects check-counters to name each, and
// -repair to set them right without touching the others.
func TestCheckCounters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	a := mustCreateArticle(t, d, jake.ID, "a1", "go", "sql")
	mustCreateArticle(t, d, anna.ID, "a2", "go")
	mustFavorite(t, d, anna.ID, "a1")
	if wrong, err := d.CheckCounters(ctx, false); err != nil || len(wrong) > 0 {
		t.Fatalf("CheckCounters on a fresh database = %+v, %v; want none", wrong, err)
	}

	shard := int(a.ID % 16)
	goID := dbtest.QueryInt(t, url, `SELECT id FROM tags WHERE name = 'go'`)
	dbtest.Exec(t, url, `UPDATE article_counts SET n = n + 5 WHERE scope = 'all' AND shard = $1`, shard)
	dbtest.Exec(t, url, `DELETE FROM article_counts WHERE scope = 'favorited' AND key = $1`, anna.ID)
	// Only two articles, with ids that follow each other: two shards on
	// from a1's, no article counts.
	left := (shard + 2) % 16
	dbtest.Exec(t, url, `INSERT INTO article_counts VALUES ('tag', $1, $2, 3)`, goID, left)
	want := []db.CounterMismatch{
		{Scope: "all", Key: 0, Name: "", Shard: shard, Kept: 6, Actual: 1},
		{Scope: "favorited", Key: anna.ID, Name: "anna", Shard: shard, Kept: 0, Actual: 1},
		{Scope: "tag", Key: goID, Name: "go", Shard: left, Kept: 3, Actual: 0},
	}
	for _, repair := range []bool{false, true} {
		got, err := d.CheckCounters(ctx, repair)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("CheckCounters(repair %v) =\n%+v\nwant\n%+v", repair, got, want)
		}
	}
	if got, err := d.CheckCounters(ctx, false); err != nil || len(got) > 0 {
		t.Errorf("after the repair, CheckCounters = %+v, %v; want none", got, err)
	}
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'tag' AND n = 0`); n != 0 {
		t.Errorf("the repair left %d tag shards at zero, want them deleted", n)
	}
	if got := mustList(t, d, 0, conduit.ArticleFilter{}, conduit.Page{Limit: 1}).Total; got != 2 {
		t.Errorf("after the repair, the list's total = %d, want 2", got)
	}
	if got := mustList(t, d, 0, conduit.ArticleFilter{FavoritedBy: "anna"}, conduit.Page{Limit: 1}).Total; got != 1 {
		t.Errorf("after the repair, anna's favorites total = %d, want 1", got)
	}
}

// TestMigrateTagCountsInUse runs migration 9 over counters that the
// previous release left: tag shards at zero (an article deleted, a tag
// removed from an article) are deleted, the others kept, and the tag list
// read from them is the one the old column gave.
func TestMigrateTagCountsInUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewURL(t)
	old, err := db.Open(ctx, url, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.MigrateDownTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	// Written in SQL, as the release of migration 8 wrote them: this
	// release's store writes columns of later migrations.
	jake := mustCreateUser(t, old, "jake")
	dbtest.Exec(t, url, `INSERT INTO tags (name) VALUES ('go'), ('gone'), ('sql')`)
	dbtest.Exec(t, url, `INSERT INTO articles (slug, author_id, title, description, body)
		SELECT s, $1, s, 'd', 'b' FROM unnest(ARRAY['a1', 'a2', 'a3']) s`, jake.ID)
	dbtest.Exec(t, url, `INSERT INTO article_tags (article_id, tag_id)
		SELECT a.id, t.id FROM articles a, tags t
		WHERE (a.slug, t.name) IN (('a1', 'go'), ('a1', 'gone'), ('a2', 'go'), ('a2', 'sql'), ('a3', 'sql'), ('a3', 'go'))`)
	// a1 loses its tag gone, and a3 goes.
	dbtest.Exec(t, url, `DELETE FROM article_tags WHERE article_id = (SELECT id FROM articles WHERE slug = 'a1')
		AND tag_id = (SELECT id FROM tags WHERE name = 'gone')`)
	dbtest.Exec(t, url, `DELETE FROM articles WHERE slug = 'a3'`)
	old.Close()
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'tag' AND n = 0`); n != 3 {
		t.Fatalf("before migration 9, %d tag shards at zero, want 3 (gone's, and a3's go and sql)", n)
	}

	d, err := db.Open(ctx, url, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'tag' AND n = 0`); n != 0 {
		t.Errorf("after migration 9, %d tag shards at zero, want 0", n)
	}
	if wrong, err := d.CheckCounters(ctx, false); err != nil || len(wrong) > 0 {
		t.Errorf("CheckCounters = %+v, %v; want none", wrong, err)
	}
	tags, err := d.Tags(ctx)
	if err != nil || !slices.Equal(tags, []string{"go", "sql"}) {
		t.Errorf("Tags = %v, %v; want [go sql]", tags, err)
	}
	// And from here a removal deletes the shard it empties.
	dbtest.Exec(t, url, `DELETE FROM articles WHERE slug = 'a2'`)
	if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM article_counts WHERE scope = 'tag' AND n = 0`); n != 0 {
		t.Errorf("after a delete, %d tag shards at zero, want 0", n)
	}
	if tags, err := d.Tags(ctx); err != nil || !slices.Equal(tags, []string{"go"}) {
		t.Errorf("Tags = %v, %v; want [go]", tags, err)
	}
}

// TestRetagBesideDeleteInOneShard retags articles from a later tag to an
// earlier one while articles of the same shard of the counters that carry
// both tags are deleted: the retag moves the shard's tag counters in two
// statements (the later tag's, then the earlier's), the delete in one
// (the earlier's, then the later's). Articles with both tags are created
// meanwhile, a sixteenth of them in that shard. They must all queue, not
// deadlock.
func TestRetagBesideDeleteInOneShard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	u := mustCreateUser(t, d, "writer")
	first := mustCreateArticle(t, d, u.ID, "first", "early", "late") // the tags, in id order
	const pairs = 24
	var retagged, deleted []int64
	for i := 0; len(retagged) < pairs || len(deleted) < pairs; i++ {
		tags := []string{"late"}
		if len(retagged) == len(deleted) {
			tags = []string{"early", "late"}
		}
		a := mustCreateArticle(t, d, u.ID, fmt.Sprint("a", i), tags...)
		if a.ID%16 != first.ID%16 {
			if err := d.DeleteArticle(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if len(tags) == 2 {
			deleted = append(deleted, a.ID)
		} else {
			retagged = append(retagged, a.ID)
		}
	}
	before := dbtest.QueryInt(t, url, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 4*pairs)
	for i := range 2 * pairs {
		wg.Go(func() {
			<-start
			for j := range 8 {
				if _, err := d.CreateArticle(ctx, conduit.NewArticle{AuthorID: u.ID, Slug: fmt.Sprintf("new-%d-%d", i, j),
					Title: "T", Description: "D", Body: "B", TagList: []string{"early", "late"}}); err != nil {
					errs <- fmt.Errorf("create: %w", err)
					return
				}
			}
		})
	}
	for i := range pairs {
		wg.Go(func() {
			<-start
			if _, err := d.UpdateArticle(ctx, u.ID, retagged[i], conduit.ArticleChanges{TagList: conduit.Some([]string{"early"})}); err != nil {
				errs <- fmt.Errorf("retag %d: %w", retagged[i], err)
			}
		})
		wg.Go(func() {
			<-start
			if err := d.DeleteArticle(ctx, deleted[i]); err != nil {
				errs <- fmt.Errorf("delete %d: %w", deleted[i], err)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	time.Sleep(1100 * time.Millisecond) // backends report their statistics within a second
	if n := dbtest.QueryInt(t, url, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`) - before; n != 0 {
		t.Errorf("%d deadlocks between retags and deletes, want 0", n)
	}
	wrong, err := d.CheckCounters(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(wrong) > 0 {
		t.Errorf("counters differ from the rows: %+v", wrong)
	}
}
