package graph

import (
	"encoding/base64"
	"io"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
)

// The helpers of the plain writers (plain_gen.go, written by graph/gen):
// what gqlgen's executor writes around and for a field it resolved, for
// a selection of plain fields only.

// plainWritersOff, set, leaves every object to gqlgen's own execution: the
// tests compare the two (export_test.go).
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

func writeOpen(w io.Writer)  { _, _ = io.WriteString(w, "{") }
func writeClose(w io.Writer) { _, _ = io.WriteString(w, "}") }
func writeNull(w io.Writer)  { _, _ = io.WriteString(w, "null") }
func writeComma(w io.Writer) { _, _ = io.WriteString(w, ",") }

func writeListOpen(w io.Writer)  { _, _ = io.WriteString(w, "[") }
func writeListClose(w io.Writer) { _, _ = io.WriteString(w, "]") }

// writeName writes the name of the i-th field of an object, after a comma
// for all but the first.
func writeName(w io.Writer, i int, alias string) {
	if i > 0 {
		_, _ = io.WriteString(w, ",")
	}
	graphql.MarshalString(alias).MarshalGQL(w)
	_, _ = io.WriteString(w, ":")
}

// writeGlobalID writes the global id of the object of type typ with
// database id id, as MarshalGlobalID does in a field of that type.
func writeGlobalID(w io.Writer, typ string, id int64) {
	var raw [48]byte
	var out [72]byte
	b := append(out[:0], '"')
	b = base64.RawURLEncoding.AppendEncode(b, appendTypedID(raw[:0], typ, id))
	_, _ = w.Write(append(b, '"'))
}
