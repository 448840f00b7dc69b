package graph

import (
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalInt writes i as a GraphQL Int. The values the schema answers with
// (counts of rows) stay far below 2^31, so no range check is made here.
func MarshalInt(i int) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { writeInt(w, i) })
}

// UnmarshalInt reads a GraphQL Int into a Go int, refusing what does not
// fit in 32 bits, as the specification requires of Int: gqlgen's own Int
// takes anything a Go int holds, 64 bits on our platforms. The handler
// refuses such values in the document and in variables before anything
// runs; this is the last line, for arguments read any other way.
func UnmarshalInt(v any) (int, error) {
	n, err := graphql.UnmarshalInt32(v)
	if err != nil {
		return 0, fmt.Errorf("not a 32-bit Int: %w", err)
	}
	return int(n), nil
}
