// Package graph holds the GraphQL schema (*.graphqls, the source of truth)
// and what gqlgen generates from it: the executor and the models the domain
// has no type for. The custom scalars (scalars.go, int.go, ids.go), the
// Node interface (node.go) and what graph/gen adds to the executor (lists.go,
// plain.go) are written by hand.
package graph

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/conduit-dev/conduit/conduit"
)

// DateTimeLayout is the wire format of the DateTime scalar: UTC with exactly
// three fractional digits, the format the Conduit clients have always read,
// as the legacy surface writes its timestamps.
const DateTimeLayout = conduit.TimestampLayout

// MarshalDateTime writes t in UTC as DateTimeLayout.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { writeDateTime(w, t) })
}

// appendDateTime appends t as a DateTime, quoted.
func appendDateTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = conduit.AppendTimestamp(b, t)
	return append(b, '"')
}

// UnmarshalDateTime reads an RFC 3339 timestamp, with or without a fraction.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("DateTime must be a string, not %T", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("DateTime must be RFC 3339, like %s: %w", strconv.Quote(DateTimeLayout), err)
	}
	return t.UTC(), nil
}
