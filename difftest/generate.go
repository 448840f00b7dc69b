package difftest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// words make the titles, tags and comments of generated articles.
var words = []string{"dragons", "tea", "rivers", "maps", "owls", "lanterns", "gardens", "clocks", "ferns", "kites"}

// model is what a generated sequence believes it has done so far. It
// only steers the choice of the next call towards ones that mean
// something (favoriting an article that exists, deleting one's own
// comment); the backends' answers never feed back into it, so a seed
// always gives the same calls.
type model struct {
	rnd        *rand.Rand
	users      []string // symbols, in the order of sign-up
	unborn     []string // symbols not signed up yet
	articles   []*genArticle
	comments   []*genComment
	nArticles  int
	nComments  int
	usedTitles []string
}

type genArticle struct {
	sym, author, title string
	tags               []string
	gone               bool
}

type genComment struct {
	sym, article, author string
	gone                 bool
}

// Generate returns generated sequence i of the run with the seed: between
// 8 and 30 calls by two to four users, in an order of the seed's choosing.
func Generate(seed uint64, i int) []Step {
	m := &model{rnd: rand.New(rand.NewPCG(seed, uint64(i)))}
	for u := range 2 + m.rnd.IntN(3) {
		m.unborn = append(m.unborn, fmt.Sprintf("u%d", u+1))
	}
	n := 8 + m.rnd.IntN(23)
	var steps []Step
	for len(steps) < n {
		if st, ok := m.next(); ok {
			steps = append(steps, st)
		}
	}
	return steps
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// next chooses a call, or reports false when the chosen kind of call has
// nothing to act on yet.
func (m *model) next() (Step, bool) {
	r := m.rnd
	if len(m.users) == 0 || len(m.unborn) > 0 && r.IntN(5) == 0 {
		u := m.unborn[0]
		m.unborn = m.unborn[1:]
		m.users = append(m.users, u)
		return register(u), true
	}
	me := pick(r, m.users)
	other := pick(r, m.users)
	// optional routes are called anonymously now and then.
	viewer := me
	if r.IntN(4) == 0 {
		viewer = ""
	}
	switch r.IntN(17) {
	case 0:
		return login(me), true
	case 1:
		bio := any(pick(r, words) + " and " + pick(r, words))
		if r.IntN(3) == 0 {
			bio = nil
		}
		return Step{Op: opUpdateUser, As: me, Body: userBody(obj{"bio": bio}), Bind: me}, true
	case 2:
		return profileStep(opProfile, viewer, "{p}"+other), true
	case 3:
		return profileStep(opFollow, me, "{p}"+other), true
	case 4:
		return profileStep(opUnfollow, me, "{p}"+other), true
	case 5, 6:
		return m.create(me), true
	case 7:
		a, ok := m.article(true)
		if !ok {
			return Step{}, false
		}
		as := a.author
		if r.IntN(5) == 0 {
			as = me // someone else's, most of the time
		}
		fields := obj{}
		switch r.IntN(3) {
		case 0:
			a.title = m.title()
			fields["title"] = a.title
		case 1:
			fields["description"] = "Now about " + pick(r, words)
		default:
			fields["body"] = "Rewritten with " + pick(r, words) + "."
		}
		return Step{Op: opUpdateArticle, As: as, Args: map[string]string{"slug": "{slug:" + a.sym + "}"}, Body: articleBody(fields), Bind: a.sym}, true
	case 8:
		a, ok := m.article(true)
		if !ok {
			return Step{}, false
		}
		as := a.author
		if r.IntN(4) == 0 {
			as = me
		}
		if as == a.author {
			a.gone = true
		}
		return onArticle(opDeleteArticle, as, a.sym), true
	case 9, 10:
		a, ok := m.article(false)
		if !ok {
			return Step{}, false
		}
		return onArticle(opFavorite, me, a.sym), true
	case 11:
		a, ok := m.article(false)
		if !ok {
			return Step{}, false
		}
		return onArticle(opUnfavorite, me, a.sym), true
	case 12:
		a, ok := m.article(false)
		if !ok {
			return Step{}, false
		}
		m.nComments++
		c := &genComment{sym: fmt.Sprintf("k%d", m.nComments), article: a.sym, author: me}
		m.comments = append(m.comments, c)
		return addComment(me, a.sym, c.sym, "On "+pick(r, words)+", "+pick(r, words)+"."), true
	case 13:
		if len(m.comments) == 0 {
			return Step{}, false
		}
		c := pick(r, m.comments)
		as := c.author
		if r.IntN(4) == 0 {
			as = me
		}
		if as == c.author {
			c.gone = true
		}
		return deleteComment(as, c.article, "{comment:"+c.sym+"}"), true
	case 14:
		a, ok := m.article(false)
		if !ok {
			return Step{}, false
		}
		if r.IntN(2) == 0 {
			return onArticle(opComments, viewer, a.sym), true
		}
		return onArticle(opArticle, viewer, a.sym), true
	case 15:
		return list(viewer, m.filter()+m.page()), true
	default:
		q := m.page()
		return feed(me, strings.TrimPrefix(q, "&")), true
	}
}

// create makes an article; now and then with a title used before, so
// that its slug must differ from the first one's.
func (m *model) create(author string) Step {
	r := m.rnd
	m.nArticles++
	a := &genArticle{sym: fmt.Sprintf("x%d", m.nArticles), author: author, title: m.title()}
	if len(m.usedTitles) > 0 && r.IntN(6) == 0 {
		a.title = pick(r, m.usedTitles)
	}
	m.usedTitles = append(m.usedTitles, a.title)
	for range r.IntN(4) {
		t := "{p}" + pick(r, words)
		if !slices.Contains(a.tags, t) {
			a.tags = append(a.tags, t)
		}
	}
	m.articles = append(m.articles, a)
	return createArticle(author, a.sym, a.title, a.tags...)
}

func (m *model) title() string {
	r := m.rnd
	return fmt.Sprintf("{p} %s of %s %d", strings.ToUpper(pick(r, words)[:1])+pick(r, words)[1:], pick(r, words), r.IntN(100))
}

// article picks an article, one that still exists most of the time; alive
// insists on one that exists, when there is one.
func (m *model) article(alive bool) (*genArticle, bool) {
	var live []*genArticle
	for _, a := range m.articles {
		if !a.gone {
			live = append(live, a)
		}
	}
	switch {
	case len(live) > 0 && (alive || m.rnd.IntN(8) != 0):
		return pick(m.rnd, live), true
	case len(m.articles) > 0 && !alive:
		return pick(m.rnd, m.articles), true
	}
	return nil, false
}

// filter is the query of a list: always narrowed to the sequence's own
// users or tags, so that what other sequences write cannot show in it.
func (m *model) filter() string {
	r := m.rnd
	u := pick(r, m.users)
	switch r.IntN(5) {
	case 0:
		return "author={p}" + u
	case 1:
		return "favorited={p}" + u
	case 2:
		return "tag={p}" + pick(r, words)
	case 3:
		return "author={p}" + u + "&tag={p}" + pick(r, words)
	default:
		return "favorited={p}" + u + "&author={p}" + pick(r, m.users)
	}
}

// page is the paging part of a query, often none.
func (m *model) page() string {
	r := m.rnd
	switch r.IntN(6) {
	case 0:
		return fmt.Sprintf("&limit=%d", 1+r.IntN(3))
	case 1:
		return fmt.Sprintf("&limit=%d&offset=%d", 1+r.IntN(3), r.IntN(4))
	case 2:
		return fmt.Sprintf("&offset=%d", r.IntN(3))
	}
	return ""
}
