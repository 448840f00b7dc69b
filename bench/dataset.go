package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/conduit-dev/conduit/conduit"
)

// How the dataset is generated. A change to how it is generated must bump
// datasetVersion, which names the marker user, so that an old dataset is
// seeded again rather than reused.
const (
	datasetVersion = 1
	seed           = 20260218
	numTags        = 50
	hotEvery       = 20 // every 20th article is "hot": it has exactly hotComments comments
	hotComments    = 20 // so the comments scenario reads 20 comments on both surfaces
	seedPassword   = "bench-password"
)

// datasetSize is how much a dataset holds. The full one is what the
// published tables measure; the smaller ones make quick runs (and the test
// of -old) fast.
type datasetSize struct {
	name                                          string
	users, articles, comments, favorites, follows int
	feedFollows                                   int // user 0 reads the feed: they follow users 1..feedFollows
	signedIn                                      int // the signed-in list rotates over users 0..signedIn-1
}

// datasetSizes are the sizes -dataset names. Each needs articles ≥ 100 and
// signedIn ≥ 10 (the floor check reads ten of each kind), comments ≥
// articles (the hot ones alone have articles ÷ 20 × 20) and feedFollows <
// users.
var datasetSizes = map[string]datasetSize{
	"full":  {name: "full", users: 500, articles: 10_000, comments: 30_000, favorites: 20_000, follows: 5_000, feedFollows: 150, signedIn: 50},
	"small": {name: "small", users: 100, articles: 1_000, comments: 3_000, favorites: 2_000, follows: 1_000, feedFollows: 30, signedIn: 20},
	"tiny":  {name: "tiny", users: 20, articles: 100, comments: 200, favorites: 200, follows: 60, feedFollows: 10, signedIn: 10},
}

// writerName is the account the write scenarios act as. It has no seeded
// articles and nobody follows it, so what it writes can be removed again
// and reads never see it. Registered last, it also marks a finished seed:
// its name carries the version and the size, so that a dataset of another
// kind is never taken for this one.
func (z datasetSize) writerName() string {
	if z.name == "full" {
		return fmt.Sprintf("bench-writer-v%d", datasetVersion)
	}
	return fmt.Sprintf("bench-writer-v%d-%s", datasetVersion, z.name)
}

// dataset is every row the benchmark seeds, derived from a fixed seed. Rows
// refer to each other by index (users[i], articles[j]).
type dataset struct {
	size      datasetSize
	users     []seedUser
	tags      []string
	articles  []seedArticle
	comments  []seedComment
	favorites []pair // user, article
	follows   []pair // follower, followee
}

type seedUser struct {
	username, email string
	bio, image      *string
}

type seedArticle struct {
	author                   int
	title, description, body string
	tags                     []string
}

// slug is the slug the service gives the article: titles are unique, so
// the first candidate is always free.
func (a seedArticle) slug() string { return conduit.Slugify(a.title) }

type seedComment struct {
	article, author int
	body            string
}

type pair struct{ a, b int }

// isHot tells whether article i is one of those with exactly hotComments comments.
func isHot(i int) bool { return i%hotEvery == 0 }

var (
	firstNames = strings.Fields("ada alan barbara claude donald edsger frances grace hedy ida john ken " +
		"leslie linus margaret niklaus radia rob robin shafi sophie tim tony ward yukihiro")
	adjectives = strings.Fields("quiet fast lazy careful honest brittle shiny patient eager humble " +
		"strict gentle bold hidden simple curious ancient modern tiny vast")
	nouns = strings.Fields("index cursor query lock cache queue schema tuple page buffer thread " +
		"socket router parser token vacuum planner replica shard ledger")
	tagNames = strings.Fields("go postgres graphql rest http sql json testing performance design " +
		"security docker linux concurrency databases caching indexing migrations api backend " +
		"frontend react css html javascript typescript rust python tooling observability logging " +
		"metrics tracing profiling kubernetes cloud networking tls auth jwt ux accessibility " +
		"architecture refactoring review career writing opensource community mentoring")
	words = strings.Fields("the a of to and in is that it for on with as was at by an be this from " +
		"or have not are but which one all were we when there can been has more if will so no " +
		"index query plan row page lock commit write read fast slow time cost batch loop")
)

// newDataset generates a dataset of size z from the fixed seed.
func newDataset(z datasetSize) *dataset {
	r := rand.New(rand.NewPCG(seed, datasetVersion))
	d := &dataset{size: z, tags: tagNames[:numTags]}
	d.users = genUsers(r, z.users)
	d.articles = genArticles(r, z, d.tags)
	d.comments = genComments(r, z)
	d.favorites = genPairs(r, z.favorites, z.users, z.articles, nil)
	follows := make([]pair, 0, z.follows)
	for i := 1; i <= z.feedFollows; i++ {
		follows = append(follows, pair{0, i})
	}
	d.follows = genPairs(r, z.follows, z.users, z.users, follows)
	return d
}

// writerName is the marker account of the dataset's size.
func (d *dataset) writerName() string { return d.size.writerName() }

func genUsers(r *rand.Rand, n int) []seedUser {
	users := make([]seedUser, n)
	for i := range users {
		name := fmt.Sprintf("%s_%03d", firstNames[i%len(firstNames)], i)
		u := seedUser{username: name, email: name + "@bench.example"}
		switch i % 5 {
		case 0, 1:
			bio := fmt.Sprintf("I write about %s & %s — \"mostly\" <b>%s</b>.",
				pick(r, nouns), pick(r, nouns), pick(r, adjectives))
			u.bio = &bio
		case 2:
			bio := "Café owner, ünïcode fan."
			u.bio = &bio
		}
		if i%3 == 0 {
			img := "https://img.bench.example/" + name + ".png"
			u.image = &img
		}
		users[i] = u
	}
	return users
}

func genArticles(r *rand.Rand, z datasetSize, tags []string) []seedArticle {
	as := make([]seedArticle, z.articles)
	for i := range as {
		title := fmt.Sprintf("The %s %s, part %d", pick(r, adjectives), pick(r, nouns), i)
		if i%7 == 0 {
			title = fmt.Sprintf("Café & \"%s\" <%s> №%d", pick(r, nouns), pick(r, adjectives), i)
		}
		as[i] = seedArticle{
			author:      r.IntN(z.users),
			title:       title,
			description: sentence(r, 8+r.IntN(10)),
			body:        paragraphs(r, 2+r.IntN(4)),
			tags:        pickTags(r, tags),
		}
	}
	return as
}

// pickTags chooses 1 to 5 distinct tags, the first ones of the list more
// often than the last, so that the tag cloud has an order.
func pickTags(r *rand.Rand, tags []string) []string {
	n := 1 + r.IntN(5)
	seen := map[string]bool{}
	out := make([]string, 0, n)
	for len(out) < n {
		f := r.Float64()
		t := tags[int(f*f*float64(len(tags)))]
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// genComments gives each hot article exactly hotComments comments and
// spreads the rest over the other articles.
func genComments(r *rand.Rand, z datasetSize) []seedComment {
	cs := make([]seedComment, 0, z.comments)
	for i := 0; i < z.articles; i += hotEvery {
		for range hotComments {
			cs = append(cs, seedComment{article: i, author: r.IntN(z.users), body: sentence(r, 5+r.IntN(25))})
		}
	}
	for len(cs) < z.comments {
		a := r.IntN(z.articles)
		if isHot(a) {
			continue
		}
		cs = append(cs, seedComment{article: a, author: r.IntN(z.users), body: sentence(r, 5+r.IntN(25))})
	}
	return cs
}

// genPairs adds distinct random pairs (a < na, b < nb, a != b when both
// count users) to start until there are n.
func genPairs(r *rand.Rand, n, na, nb int, start []pair) []pair {
	seen := make(map[pair]bool, n)
	for _, p := range start {
		seen[p] = true
	}
	out := append(make([]pair, 0, n), start...)
	for len(out) < n {
		p := pair{r.IntN(na), r.IntN(nb)}
		if seen[p] || (na == nb && p.a == p.b) {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

func pick(r *rand.Rand, from []string) string { return from[r.IntN(len(from))] }

func sentence(r *rand.Rand, n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = pick(r, words)
	}
	s := strings.Join(ws, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func paragraphs(r *rand.Rand, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = sentence(r, 20+r.IntN(30))
	}
	return strings.Join(ps, "\n\n")
}
