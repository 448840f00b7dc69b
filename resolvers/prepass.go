package resolvers

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// documentLimits refuses documents too big to validate, before gqlgen
// validates them. Validation is not linear in the size of a document: the
// rule that overlapping fields can merge compares the fields of one
// response name pairwise, so 14,000 __typename in one selection set took
// 13 to 22 seconds, and ten `viewer { id ×100 }` side by side (3 KB) take
// 80 ms. So the document is bounded first, by a pass that is linear: its
// bytes, its tokens (parsing), then, over the parsed document, the fields
// in all, the fields of each selection set, the fields that repeat a
// response name, the aliased fields, and the depth.
//
// Fields are counted where fragments are spread, as validation and
// execution see them. The counts in all are made with each fragment
// measured once (two spreads of a fragment of 50 fields add 100 fields for
// the cost of one walk), so a chain of fragments that doubles at each step
// is refused without being expanded. Only a document within the total is
// then expanded to count, per selection set of the response, the fields
// merged into it: from fragments, and from the fields of the same name
// whose selections merge. The fragments have not been validated yet:
// spreads of unknown fragments count nothing, and a fragment spread within
// itself counts nothing there (validation refuses the cycle, once the
// document is within bounds).
//
// Every limit is one of the whole document, whatever operation the request
// names: the validated-document cache is keyed by the text alone, so an
// operation of the document that was not checked would run unchecked from
// the cache. Documents found in that cache are skipped, since they passed
// once; so they are not parsed twice.
//
// It is an OperationParameterMutator, to run before parsing; it must come
// after the persisted-query extension, which fills in the query text.
type documentLimits struct {
	cache graphql.Cache[*ast.QueryDocument]

	maxBytes, maxTokens, maxFields, maxSetFields, maxRepeats, maxAliases, maxDepth int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = documentLimits{}

// ExtensionName names the extension in gqlgen's list.
func (documentLimits) ExtensionName() string { return "DocumentLimits" }

// Validate accepts any schema.
func (documentLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters measures the document of the request.
func (l documentLimits) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil // the executor says that no operation was sent
	}
	if _, ok := l.cache.Get(ctx, params.Query); ok {
		return nil
	}
	if n := len(params.Query); n > l.maxBytes {
		return limitError("DOCUMENT_TOO_LARGE", nil, "the document is %d bytes, which exceeds the limit of %d", n, l.maxBytes)
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, l.maxTokens)
	if err != nil {
		// As the executor reports it, which would parse the text again only
		// to fail the same way.
		gqlErr, ok := err.(*gqlerror.Error)
		if !ok {
			gqlErr = gqlerror.WrapIfUnwrapped(err)
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		return gqlErr
	}
	return l.check(doc)
}

func (l documentLimits) check(doc *ast.QueryDocument) *gqlerror.Error {
	m := measureDocument(doc)
	switch {
	case m.fields > l.maxFields:
		return limitError("TOO_MANY_FIELDS", nil,
			"the document selects %d fields, fragments counted where they are spread, which exceeds the limit of %d", m.fields, l.maxFields)
	case m.aliases > l.maxAliases:
		return limitError("TOO_MANY_ALIASES", nil,
			"the document has %d aliased fields, fragments counted where they are spread, which exceeds the limit of %d", m.aliases, l.maxAliases)
	case m.depth > l.maxDepth:
		return limitError("DEPTH_LIMIT_EXCEEDED", nil,
			"operation is %d fields deep, which exceeds the limit of %d", m.depth, l.maxDepth)
	}
	mm := measureMerged(doc, min(l.maxFields, maxMergedFields))
	switch {
	case mm.widest > l.maxSetFields:
		return limitError("TOO_MANY_FIELDS", mm.widestAt,
			"a selection set has %d fields, counting those of its fragments and of fields of the same name, which exceeds the limit of %d", mm.widest, l.maxSetFields)
	case mm.repeats > l.maxRepeats:
		return limitError("TOO_MANY_REPEATED_FIELDS", nil,
			"the document repeats a field of the same name in the same selection set %d times, fragments included, which exceeds the limit of %d (each repetition is compared with the others)", mm.repeats, l.maxRepeats)
	}
	return nil
}

// limitError is the refusal of a limit: a request error with the code, at
// pos when the limit concerns one place of the document.
func limitError(code string, pos *ast.Position, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	if pos != nil {
		err.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
	err.Extensions = map[string]any{"code": code}
	return err
}

// documentMeasure is what documentLimits bounds in one linear walk.
type documentMeasure struct {
	fields  int // fields of every operation, and of fragments no operation spreads
	aliases int // aliased fields among those
	depth   int // how deep the deepest operation nests, introspection left out
}

// setMeasure sums up one selection set, the fragments it spreads included.
type setMeasure struct {
	fields  int // every field in and under the set
	aliases int // aliased fields in and under the set
	depth   int
}

// fragmentState is where the measuring of a fragment stands.
type fragmentState struct {
	def       *ast.FragmentDefinition
	measuring bool // on the stack: a spread of it now is a cycle
	done      bool
	m         setMeasure
}

type documentMeter struct {
	fragments map[string]*fragmentState
}

// measureDocument measures doc, walking each selection set once.
func measureDocument(doc *ast.QueryDocument) documentMeasure {
	mt := documentMeter{fragments: fragmentStates(doc)}
	var out documentMeasure
	add := func(m setMeasure) {
		out.fields = satAdd(out.fields, m.fields)
		out.aliases = satAdd(out.aliases, m.aliases)
	}
	for _, op := range doc.Operations {
		m := mt.set(op.SelectionSet)
		add(m)
		out.depth = max(out.depth, m.depth)
	}
	// Fragments no operation spreads are validated too (and refused, but
	// only once validation has looked at them).
	for _, f := range doc.Fragments {
		if st := mt.fragments[f.Name]; st.def == f && !st.done {
			add(mt.fragment(st))
		}
	}
	return out
}

// fragmentStates indexes the fragments of doc by name; of duplicate names,
// the first is the one validation looks up.
func fragmentStates(doc *ast.QueryDocument) map[string]*fragmentState {
	m := make(map[string]*fragmentState, len(doc.Fragments))
	for _, f := range doc.Fragments {
		if _, ok := m[f.Name]; !ok {
			m[f.Name] = &fragmentState{def: f}
		}
	}
	return m
}

func (mt *documentMeter) set(set ast.SelectionSet) setMeasure {
	var m setMeasure
	for _, sel := range set {
		var sub setMeasure
		switch s := sel.(type) {
		case *ast.Field:
			sub = mt.set(s.SelectionSet)
			m.fields = satAdd(m.fields, satAdd(1, sub.fields))
			if s.Alias != "" && s.Alias != s.Name {
				m.aliases = satAdd(m.aliases, 1)
			}
			m.aliases = satAdd(m.aliases, sub.aliases)
			// Introspection is left out of the depth: GraphiQL's query is
			// deep by nature, and gqlparser bounds it with its own rule.
			if !strings.HasPrefix(s.Name, "__") {
				m.depth = max(m.depth, 1+sub.depth)
			}
			continue
		case *ast.InlineFragment:
			sub = mt.set(s.SelectionSet)
		case *ast.FragmentSpread:
			if st := mt.fragments[s.Name]; st != nil {
				sub = mt.fragment(st)
			}
		}
		m.fields = satAdd(m.fields, sub.fields)
		m.aliases = satAdd(m.aliases, sub.aliases)
		m.depth = max(m.depth, sub.depth)
	}
	return m
}

// fragment measures a fragment once, whatever the number of its spreads.
func (mt *documentMeter) fragment(st *fragmentState) setMeasure {
	switch {
	case st.done:
		return st.m
	case st.measuring:
		return setMeasure{}
	}
	st.measuring = true
	st.m = mt.set(st.def.SelectionSet)
	st.measuring, st.done = false, true
	return st.m
}

// mergedMeasure is what documentLimits bounds in the selection sets of the
// response: each holds the fields of the document's selection set, of the
// fragments it spreads, and of the other selection sets of fields of the
// same response name beside it, which merge into one object.
type mergedMeasure struct {
	widest   int           // fields merged into the widest set
	widestAt *ast.Position // the first field of that set
	repeats  int           // fields whose response name an earlier field of their set has
}

type mergeMeter struct {
	fragments map[string]*fragmentState
	budget    int // fields left to visit
	out       mergedMeasure
}

// maxMergedFields bounds the expansion of measureMerged whatever MaxFields
// says, so that it takes under a millisecond even when the limits are
// raised far beyond their use (4 times the default MaxFields): a document
// beyond it is measured as far as it goes, which is enough to refuse it.
const maxMergedFields = 1 << 12

// measureMerged measures the merged selection sets of doc, visiting at most
// budget fields: past it, the measure is what the fields visited so far
// make, less than the whole. Within its total of fields, a document
// without a cycle of fragments is measured whole; one with a cycle, which
// nests without end, as far as the budget goes.
func measureMerged(doc *ast.QueryDocument, budget int) mergedMeasure {
	mm := mergeMeter{fragments: fragmentStates(doc), budget: budget}
	for _, op := range doc.Operations {
		mm.merge([]ast.SelectionSet{op.SelectionSet})
	}
	// As in measureDocument, fragments no operation spreads count too, and
	// the others only where they are spread.
	for _, f := range doc.Fragments {
		if st := mm.fragments[f.Name]; st.def == f && !st.done {
			st.done = true
			mm.merge([]ast.SelectionSet{f.SelectionSet})
		}
	}
	return mm.out
}

// merge measures the set made of sets, then the sets under its fields.
func (mm *mergeMeter) merge(sets []ast.SelectionSet) {
	var fields []*ast.Field
	for _, s := range sets {
		fields = mm.collect(s, fields)
	}
	if len(fields) == 0 {
		return
	}
	if len(fields) > mm.out.widest {
		mm.out.widest, mm.out.widestAt = len(fields), fields[0].Position
	}
	byName := make(map[string][]ast.SelectionSet, len(fields))
	var names []string
	for _, f := range fields {
		name := f.Alias
		if name == "" {
			name = f.Name
		}
		subs, seen := byName[name]
		if seen {
			mm.out.repeats++
		} else {
			names = append(names, name)
		}
		if len(f.SelectionSet) > 0 {
			subs = append(subs, f.SelectionSet)
		}
		byName[name] = subs
	}
	for _, name := range names {
		if subs := byName[name]; len(subs) > 0 && mm.budget >= 0 {
			mm.merge(subs)
		}
	}
}

// collect appends the fields of set to fields, those of inline fragments
// and fragment spreads included.
func (mm *mergeMeter) collect(set ast.SelectionSet, fields []*ast.Field) []*ast.Field {
	for _, sel := range set {
		if mm.budget < 0 {
			return fields
		}
		switch s := sel.(type) {
		case *ast.Field:
			mm.budget--
			fields = append(fields, s)
		case *ast.InlineFragment:
			fields = mm.collect(s.SelectionSet, fields)
		case *ast.FragmentSpread:
			if st := mm.fragments[s.Name]; st != nil && !st.measuring {
				st.done = true // spread: measured where it is
				st.measuring = true
				fields = mm.collect(st.def.SelectionSet, fields)
				st.measuring = false
			}
		}
	}
	return fields
}

// maxCount is where counts stop growing: past it, nothing is compared to
// a limit any more, and sums cannot overflow.
const maxCount = 1 << 40

// satAdd adds two non-negative counts, stopping at maxCount.
func satAdd(a, b int) int {
	return min(a+b, maxCount)
}

// satMul multiplies two non-negative counts, stopping at maxCount.
func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > maxCount/b {
		return maxCount
	}
	return min(a*b, maxCount)
}
