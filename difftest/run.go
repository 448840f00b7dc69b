// Package difftest is a differential test of the legacy REST API: it
// plays the same calls against an old backend and this one, each on its
// own database, and reports every way their answers differ, after
// normalising what legitimately differs (tokens, ids, timestamps, slug
// suffixes). A fixed script covers the 19 operations with their successes
// and failures; seeded generated sequences reach states no script does.
// Each unexpected difference is reduced, by delta debugging, to the
// shortest sequence of calls that still shows it. Differences listed in a
// known-differences file are expected; any other fails the run.
//
// `conduit diff` (Command) runs it.
package difftest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of a run.
const (
	DefaultSequences = 100
	// DefaultReplays bounds the replays spent reducing one difference.
	DefaultReplays = 200
	// DefaultReduce bounds how many distinct unexpected differences are
	// reduced; the others are reported with the whole sequence up to them.
	DefaultReduce = 20
	// DefaultParallel is how many generated sequences are played at once.
	DefaultParallel = 4
)

// Config is what a run compares, and how hard it works.
type Config struct {
	// Old and New are the base URLs of the two backends' REST APIs, such
	// as http://127.0.0.1:5000/api.
	Old, New string
	// Seed chooses the generated sequences: the same seed, the same calls.
	Seed uint64
	// Sequences is how many generated sequences follow the script.
	Sequences int
	// Known lists the accepted differences.
	Known []Known
	// Replays bounds the replays spent reducing each difference.
	Replays int
	// Reduce bounds how many distinct unexpected differences are reduced;
	// 0 is DefaultReduce, a negative number none.
	Reduce int
	// Parallel is how many generated sequences are played at once.
	Parallel int
	// Salt goes into the run's prefix after the seed; empty: a random one,
	// so that a second run against the same databases uses new names.
	Salt string
	// Client sends the requests; nil: one with a 30 s timeout that keeps
	// a connection per sequence played at once.
	Client *http.Client
	// Log receives a line as each phase ends; nil: nothing.
	Log io.Writer
}

// Result is what a run found.
type Result struct {
	Old       string `json:"old"`
	New       string `json:"new"`
	Seed      uint64 `json:"seed"`
	Sequences int    `json:"sequences"`
	// Prefix starts every name the run made: users, emails, titles, tags.
	Prefix   string    `json:"prefix"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Calls    int       `json:"calls"`
	Replays  int       `json:"replays"`
	Ops      []OpStats `json:"operations"`
	Findings []Finding `json:"findings"`
}

// OpStats counts the calls of one operation: each was answered the same
// by both backends, or differently in expected ways only, or in at least
// one unexpected way.
type OpStats struct {
	Operation  string `json:"operation"`
	Calls      int    `json:"calls"`
	Same       int    `json:"same"`
	Expected   int    `json:"expected"`
	Unexpected int    `json:"unexpected"`
}

// Finding is one distinct difference (operation, kind and path) and where
// it was first seen.
type Finding struct {
	Difference
	// Count is how many calls showed it.
	Count int `json:"count"`
	// Expected is the known difference that accepts it, if any.
	Expected *Known `json:"expected,omitempty"`
	// Sequence is where it was first seen: 0 for the script, then the
	// generated sequences from 1; Step counts from 1.
	Sequence int `json:"sequence"`
	Step     int `json:"step"`
	// Reproduction is the shortest sequence found that still shows it;
	// only for unexpected differences.
	Reproduction *Reproduction `json:"reproduction,omitempty"`
}

// Unexpected counts the calls that differed in a way no known difference
// accepts.
func (r *Result) Unexpected() int {
	n := 0
	for _, o := range r.Ops {
		n += o.Unexpected
	}
	return n
}

// Reproduction is a sequence of calls that shows a difference at its last
// call.
type Reproduction struct {
	// Calls are the steps, as both backends received them, and their
	// answers.
	Calls []Call `json:"calls"`
	// Prefix is what {p} stood for when it was played.
	Prefix string `json:"prefix"`
	// From is how many calls the sequence had up to the difference.
	From int `json:"from"`
	// Replays is how many replays the reduction took.
	Replays int `json:"replays"`
	// Minimal says no single call can be left out; false when the bound
	// of replays stopped the reduction first.
	Minimal bool `json:"minimal"`
	// Reproduced is false when a replay of the whole sequence did not show
	// the difference again (it depends on what else the databases hold,
	// or on timing): Calls is then the sequence as first played.
	Reproduced bool `json:"reproduced"`
}

// Call is one step of a reproduction.
type Call struct {
	Step      Step    `json:"step"`
	OldCall   request `json:"oldRequest"`
	NewCall   request `json:"newRequest"`
	OldAnswer answer  `json:"oldAnswer"`
	NewAnswer answer  `json:"newAnswer"`
}

// played is a step played on both backends.
type played struct {
	Call
	diffs []Difference
}

type runner struct {
	cfg      Config
	old, new backend
	prefix   string
	mu       sync.Mutex
	replays  int
	replayNo int
}

// Run plays the script, then the generated sequences, against both
// backends, and reduces each unexpected difference it found. It returns an
// error only when the run could not be made (a backend unreachable, or
// refusing calls for their rate); differences are in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Old == "" || cfg.New == "" {
		return nil, errors.New("both backends' base URLs are needed")
	}
	if cfg.Replays <= 0 {
		cfg.Replays = DefaultReplays
	}
	if cfg.Reduce == 0 {
		cfg.Reduce = DefaultReduce
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.Client == nil {
		// Enough idle connections for every sequence played at once, so
		// that calls do not open a connection each.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 2 * cfg.Parallel
		cfg.Client = &http.Client{Timeout: 30 * time.Second, Transport: t}
	}
	if cfg.Salt == "" {
		cfg.Salt = randomSalt()
	}
	r := &runner{
		cfg:    cfg,
		old:    backend{strings.TrimSuffix(cfg.Old, "/"), cfg.Client},
		new:    backend{strings.TrimSuffix(cfg.New, "/"), cfg.Client},
		prefix: "d" + strconv.FormatUint(cfg.Seed, 36) + "x" + cfg.Salt,
	}
	res := &Result{Old: cfg.Old, New: cfg.New, Seed: cfg.Seed, Sequences: cfg.Sequences, Prefix: r.prefix, Started: time.Now().UTC()}

	seqs := make([][]Step, cfg.Sequences+1)
	seqs[0] = Script()
	for i := 1; i <= cfg.Sequences; i++ {
		seqs[i] = Generate(cfg.Seed, i)
	}
	plays := make([][]played, len(seqs))

	// The script lists articles without a filter, so it plays alone.
	var err error
	if plays[0], err = r.play(ctx, seqs[0], r.sequencePrefix(0)); err != nil {
		return nil, err
	}
	r.logf("script: %d calls", len(seqs[0]))
	if err := r.playAll(ctx, seqs, plays); err != nil {
		return nil, err
	}
	r.logf("generated: %d sequences", cfg.Sequences)

	r.tally(res, plays)
	reduced := 0
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Expected != nil || cfg.Reduce < 0 || reduced == cfg.Reduce {
			continue
		}
		reduced++
		seq := seqs[f.Sequence][:f.Step]
		rep, err := r.reduce(ctx, seq, f.Difference, plays[f.Sequence][:f.Step], r.sequencePrefix(f.Sequence))
		if err != nil {
			return nil, err
		}
		f.Reproduction = rep
		r.logf("reduced %s %s %s: %d of %d calls, %d replays", f.Op, f.Kind, f.Path, len(rep.Calls), rep.From, rep.Replays)
	}
	res.Replays = r.replays
	res.Seconds = time.Since(res.Started).Seconds()
	return res, nil
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "diff: "+format+"\n", args...)
	}
}

func randomSalt() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails
	for i, c := range b {
		b[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(b[:])
}

// sequencePrefix is the prefix of sequence i of the run: its names cannot
// collide with another sequence's.
func (r *runner) sequencePrefix(i int) string { return r.prefix + "s" + strconv.Itoa(i) }

// playAll plays the generated sequences, Parallel at a time: each keeps
// to its own users and tags, so that they cannot see each other.
func (r *runner) playAll(ctx context.Context, seqs [][]Step, plays [][]played) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	errs := make(chan error, r.cfg.Parallel)
	var wg sync.WaitGroup
	for range r.cfg.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p, err := r.play(ctx, seqs[i], r.sequencePrefix(i))
				if err != nil {
					errs <- err
					cancel()
					return
				}
				plays[i] = p
			}
		}()
	}
feed:
	for i := 1; i < len(seqs); i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// play plays steps in order on both backends, each call sent to both at
// once, with a session of its own per backend.
func (r *runner) play(ctx context.Context, steps []Step, prefix string) ([]played, error) {
	oldS, newS := newSession(prefix), newSession(prefix)
	out := make([]played, 0, len(steps))
	for _, st := range steps {
		oreq, err := oldS.request(st)
		if err != nil {
			return nil, err
		}
		nreq, err := newS.request(st)
		if err != nil {
			return nil, err
		}
		var oa, na answer
		var oerr, nerr error
		var wg sync.WaitGroup
		wg.Go(func() { oa, oerr = r.old.do(ctx, oreq) })
		na, nerr = r.new.do(ctx, nreq)
		wg.Wait()
		if oerr != nil {
			return nil, fmt.Errorf("old backend: %w", oerr)
		}
		if nerr != nil {
			return nil, fmt.Errorf("new backend: %w", nerr)
		}
		for _, b := range []struct {
			name string
			a    answer
		}{{"old", oa}, {"new", na}} {
			if b.a.Status == http.StatusTooManyRequests {
				return nil, fmt.Errorf("the %s backend answered 429 Too Many Requests to %s: turn its rate limits off for the diff "+
					"(on this server: RATE_LIMIT_REGISTER_PER_ADDRESS=off RATE_LIMIT_LOGIN_PER_ADDRESS=off RATE_LIMIT_LOGIN_PER_ACCOUNT=off)", b.name, st.Op)
			}
		}
		oldS.bind(st, oa)
		newS.bind(st, na)
		out = append(out, played{
			Call:  Call{Step: st, OldCall: oreq, NewCall: nreq, OldAnswer: oa, NewAnswer: na},
			diffs: compare(st.Op, oa, na, oldS, newS),
		})
	}
	return out, nil
}

// tally counts the calls by operation and gathers the distinct
// differences, in the order they were first seen.
func (r *runner) tally(res *Result, plays [][]played) {
	byOp := map[string]*OpStats{}
	for _, op := range Operations() {
		res.Ops = append(res.Ops, OpStats{Operation: op})
	}
	for i := range res.Ops {
		byOp[res.Ops[i].Operation] = &res.Ops[i]
	}
	index := map[string]int{}
	for seq, ps := range plays {
		for step, p := range ps {
			res.Calls++
			s := byOp[p.Step.Op]
			s.Calls++
			if len(p.diffs) == 0 {
				s.Same++
				continue
			}
			unexpected := false
			for _, d := range p.diffs {
				k := lookup(r.cfg.Known, d)
				unexpected = unexpected || k == nil
				sig := d.signature()
				if i, ok := index[sig]; ok {
					res.Findings[i].Count++
					continue
				}
				index[sig] = len(res.Findings)
				res.Findings = append(res.Findings, Finding{Difference: d, Count: 1, Expected: k, Sequence: seq, Step: step + 1})
			}
			if unexpected {
				s.Unexpected++
			} else {
				s.Expected++
			}
		}
	}
}

// reduce finds a short sequence that still shows d at its last call, by
// delta debugging over the calls before the one that showed it: subsets
// are replayed, each under a fresh prefix (new users, new names) on both
// backends, until no single call can be left out, or the bound of replays
// is spent. first is the sequence as it was played in the run, under
// firstPrefix.
func (r *runner) reduce(ctx context.Context, seq []Step, d Difference, first []played, firstPrefix string) (*Reproduction, error) {
	target := seq[len(seq)-1]
	before := seq[:len(seq)-1]
	rep := &Reproduction{From: len(seq)}
	var lastPass []played
	var lastPrefix string
	var playErr error
	spent := false
	defer func() {
		r.mu.Lock()
		r.replays += rep.Replays
		r.mu.Unlock()
	}()
	test := func(keep []int) bool {
		if playErr != nil {
			return false
		}
		if rep.Replays >= r.cfg.Replays {
			spent = true
			return false
		}
		steps := make([]Step, 0, len(keep)+1)
		for _, i := range keep {
			steps = append(steps, before[i])
		}
		steps = append(steps, target)
		rep.Replays++
		prefix := r.replayPrefix()
		ps, err := r.play(ctx, steps, prefix)
		if err != nil {
			playErr = err
			return false
		}
		for _, got := range ps[len(ps)-1].diffs {
			if got.signature() == d.signature() {
				lastPass, lastPrefix = ps, prefix
				return true
			}
		}
		return false
	}
	// Calls that wrote nothing rarely matter: reads, and calls that both
	// backends refused. The first replay keeps only the others, and when
	// that still shows the difference, the reduction starts from there,
	// which spares most of the replays of long sequences.
	all := make([]int, len(before))
	var writes []int
	for i := range all {
		all[i] = i
		if routes[before[i].Op].method != http.MethodGet && (first[i].OldAnswer.Status < 300 || first[i].NewAnswer.Status < 300) {
			writes = append(writes, i)
		}
	}
	start := all
	if len(writes) < len(all) && test(writes) {
		start = writes
	} else if !test(all) {
		if playErr != nil {
			return nil, playErr
		}
		rep.Prefix = firstPrefix
		for _, p := range first {
			rep.Calls = append(rep.Calls, p.Call)
		}
		return rep, nil
	}
	rep.Reproduced = true
	ddmin(start, test)
	if playErr != nil {
		return nil, playErr
	}
	rep.Minimal = !spent
	rep.Prefix = lastPrefix
	for _, p := range lastPass {
		rep.Calls = append(rep.Calls, p.Call)
	}
	return rep, nil
}

func (r *runner) replayPrefix() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replayNo++
	return r.prefix + "r" + strconv.Itoa(r.replayNo)
}

// ddmin is Zeller's minimising delta debugging: it returns a subset of
// items for which test holds and from which no single item can be left
// out without it failing (1-minimal), given that test(items) holds. It
// tries the empty set first, then ever smaller chunks and their
// complements.
func ddmin(items []int, test func([]int) bool) []int {
	if test(nil) {
		return nil
	}
	n := 2
	for len(items) >= 2 {
		chunks := split(items, n)
		reduced := false
		for _, c := range chunks {
			if test(c) {
				items, n, reduced = c, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks {
				if c := complement(chunks, i); test(c) {
					items, n, reduced = c, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(items) {
				break
			}
			n = min(2*n, len(items))
		}
	}
	return items
}

// split cuts items into n chunks of nearly equal length.
func split(items []int, n int) [][]int {
	var out [][]int
	start := 0
	for i := range n {
		end := start + (len(items)-start)/(n-i)
		if end > start {
			out = append(out, items[start:end])
		}
		start = end
	}
	return out
}

// complement is every chunk but the i-th, in order.
func complement(chunks [][]int, i int) []int {
	var out []int
	for j, c := range chunks {
		if j != i {
			out = append(out, c...)
		}
	}
	return out
}
