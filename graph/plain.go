package graph

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// The helpers of the plain writers (plain_gen.go, written by graph/gen):
// what gqlgen's executor writes around and for a field it resolved, for
// a selection of plain fields only, byte for byte
// (TestPlainWritersWriteWhatGqlgenWrites compares the two).

// plainWritersOff, set, leaves every object, and the root of a query of
// one field (singleRoot_Query), to gqlgen's own execution: the tests
// compare the two (export_test.go).
var plainWritersOff atomic.Bool

// plainFields tells whether fields, as graphql.CollectFields returns them,
// can be written one after the other: none deferred, no name twice (which
// gqlgen writes once).
func plainFields(fields []graphql.CollectedField) bool {
	for i, f := range fields {
		if len(f.Deferrables) > 0 {
			return false
		}
		for _, g := range fields[:i] {
			if g.Alias == f.Alias {
				return false
			}
		}
	}
	return true
}

// singleField returns the field of sel, the selection of an operation,
// as graphql.CollectFields would collect it, when sel is that one field
// and nothing else: no directive on it (so nothing skipped, included by a
// variable's value, or deferred), no fragment around it.
func singleField(sel ast.SelectionSet) (graphql.CollectedField, bool) {
	if len(sel) != 1 {
		return graphql.CollectedField{}, false
	}
	f, ok := sel[0].(*ast.Field)
	if !ok || len(f.Directives) > 0 {
		return graphql.CollectedField{}, false
	}
	return graphql.CollectedField{Field: f, Selections: f.SelectionSet, IsNonDeferrable: true}, true
}

// resolveRoot resolves field, the one root field of an operation of type
// object, with resolve (its _Query_ function), and returns the operation's
// data, as the executor's _Query does for any number of fields: in a field
// context of the object and a root field context of the field, through
// the root field middleware, a panic recovered into null and reported,
// and the whole data null when the field's value is the null that makes
// its object invalid (a non-null field's null; the marker of one below a
// nullable field). What it does not build is what several fields need: a
// field set, whose values wait to be written under names not yet written,
// a group for deferred fields, and a closure per field to schedule. On
// `{ tags }` under the benchmark's load that was 12% of GraphQL's rate
// (BENCHMARKS.md, round ten).
func resolveRoot(ctx context.Context, oc *graphql.OperationContext, object string, field graphql.CollectedField,
	nonNull bool, resolve func(context.Context) graphql.Marshaler,
) graphql.Marshaler {
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: object})
	ctx = graphql.WithRootFieldContext(ctx, &graphql.RootFieldContext{Object: field.Name, Field: field})
	m := oc.RootResolverMiddleware(ctx, func(ctx context.Context) (res graphql.Marshaler) {
		defer func() {
			if r := recover(); r != nil {
				oc.Error(ctx, oc.Recover(ctx, r))
				res = graphql.Null
			}
		}()
		return resolve(ctx)
	})
	if nonNull && m == graphql.Null || !nonNull && m == graphql.RequiredNull {
		return graphql.Null
	}
	alias := field.Alias
	return graphql.WriterFunc(func(w io.Writer) {
		writeOpen(w)
		writeName(w, 0, alias)
		m.MarshalGQL(w)
		writeClose(w)
	})
}

// emit writes what add appends. The executor writes a response into a
// bytes.Buffer, whose spare capacity takes the bytes without an
// allocation.
func emit[T any](w io.Writer, add func([]byte, T) []byte, v T) {
	if b, ok := w.(*bytes.Buffer); ok {
		_, _ = b.Write(add(b.AvailableBuffer(), v))
		return
	}
	_, _ = w.Write(add(nil, v))
}

// minReserve and maxReserve bound what reserveRest reserves. Less than
// minReserve is left to the buffer's own doubling: the short lists nested
// in a longer one (the comments of each article of a page) made the
// buffer grow sooner, and by more, than their own bytes did
// (BenchmarkCommentsLoader: 10 KB more per request). More than maxReserve
// is not reserved at once: a list whose first element is large and the
// rest small must not reserve a hundred times the first.
const (
	minReserve = 2 << 10
	maxReserve = 1 << 20
)

// written returns how many bytes the executor's buffer holds, or -1 when w
// is another writer.
func written(w io.Writer) int {
	if b, ok := w.(*bytes.Buffer); ok {
		return b.Len()
	}
	return -1
}

// reserveRest grows the executor's buffer, once the first element of a
// list is written from start, for n more elements of its size and their
// commas (see minReserve and maxReserve). The buffer starts empty for each
// response (gqlgen's generated Exec) and doubles as it fills, a copy each
// time; grown once for what the list will need, it copies once. In-process
// (resolvers' benchmarks), a page of 20 articles allocated 51.5 KB per
// request, now 42.1; an article's 20 comments 41.2, now 36.7.
func reserveRest(w io.Writer, start, n int) {
	b, ok := w.(*bytes.Buffer)
	if !ok || start < 0 || n <= 0 {
		return
	}
	if need := (b.Len() - start + 1) * n; need >= minReserve {
		b.Grow(min(need, maxReserve))
	}
}

func writeOpen(w io.Writer)      { _, _ = io.WriteString(w, "{") }
func writeClose(w io.Writer)     { _, _ = io.WriteString(w, "}") }
func writeNull(w io.Writer)      { _, _ = io.WriteString(w, "null") }
func writeComma(w io.Writer)     { _, _ = io.WriteString(w, ",") }
func writeListOpen(w io.Writer)  { _, _ = io.WriteString(w, "[") }
func writeListClose(w io.Writer) { _, _ = io.WriteString(w, "]") }

// writeName writes the name of the i-th field of an object, after a comma
// for all but the first. A name is a GraphQL Name ([_A-Za-z][_0-9A-Za-z]*),
// which JSON needs no escape for.
func writeName(w io.Writer, i int, alias string) {
	if i > 0 {
		writeComma(w)
	}
	emit(w, appendName, alias)
}

func appendName(b []byte, alias string) []byte {
	b = append(b, '"')
	b = append(b, alias...)
	return append(b, '"', ':')
}

func writeString(w io.Writer, s string) { emit(w, appendString, s) }

// writeOptString writes s, or null for nil.
func writeOptString(w io.Writer, s *string) {
	if s == nil {
		writeNull(w)
		return
	}
	writeString(w, *s)
}

// writeStrings writes a list of strings.
func writeStrings(w io.Writer, list []string) {
	if b, ok := w.(*bytes.Buffer); ok {
		// Room for the list as it is when nothing needs escaping (the
		// quotes and a comma each), so that it is appended in place.
		n := 2
		for _, s := range list {
			n += len(s) + 3
		}
		b.Grow(n)
	}
	emit(w, appendStrings, list)
}

// appendStrings appends list as a JSON array of strings (appendString).
func appendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// plainStrings is the marshaler of a [String!]! that graph/gen puts
// before gqlgen's, which makes one per string.
func plainStrings(v []string) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { writeStrings(w, v) })
}

const upperHex = "0123456789ABCDEF"

// appendString appends s as a JSON string the way gqlgen's String
// marshaler writes one: control characters, '"' and '\' escaped, the rest
// as it is (gqlgen leaves <, >, & and U+2028 unescaped too). Bytes are
// looked at one by one: every byte of a multi-byte UTF-8 sequence is at
// least 0x80, so none of them is escaped, as gqlgen's loop over runes
// escapes no rune from 0x80 on.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, `\u00`...)
			b = append(b, upperHex[c>>4], upperHex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func writeBool(w io.Writer, v bool) { emit(w, strconv.AppendBool, v) }

func writeInt(w io.Writer, i int) { emit(w, appendInt, i) }

func appendInt(b []byte, i int) []byte { return strconv.AppendInt(b, int64(i), 10) }

func writeDateTime(w io.Writer, t time.Time) { emit(w, appendDateTime, t) }

// writeGlobalID writes the global id of the object of type typ with
// database id id, as MarshalGlobalID does in a field of that type.
func writeGlobalID(w io.Writer, typ string, id int64) {
	emit(w, func(b []byte, id int64) []byte { return appendGlobalID(b, typ, id) }, id)
}

// collected keeps the fields collected from the selection sets of one
// plain list, for its elements to share. Each element of a page of 20
// comments selects its author with the same selection set, and
// graphql.CollectFields, which keeps its answer for the operation, builds
// its key anew at each call (a hash of the implementors and allocations):
// 40 calls for the check and the writing of one page. nil collects each
// time.
type collected struct{ sets []collectedSet }

// collectedSet is the fields of one selection set of a type.
type collectedSet struct {
	sel          *ast.Selection // the set's first selection: a set is one slice of the parsed document
	n            int
	implementors *string // the type's implementors, one slice per type in the executor
	fields       []graphql.CollectedField
}

// fields returns graphql.CollectFields(op, sel, implementors), from c when
// c has it.
func (c *collected) fields(op *graphql.OperationContext, sel ast.SelectionSet, implementors []string) []graphql.CollectedField {
	if c == nil {
		return graphql.CollectFields(op, sel, implementors)
	}
	first, impl := unsafe.SliceData(sel), unsafe.SliceData(implementors)
	for _, s := range c.sets {
		if s.sel == first && s.n == len(sel) && s.implementors == impl {
			return s.fields
		}
	}
	fields := graphql.CollectFields(op, sel, implementors)
	c.sets = append(c.sets, collectedSet{sel: first, n: len(sel), implementors: impl, fields: fields})
	return fields
}
