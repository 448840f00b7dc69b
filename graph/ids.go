package graph

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// EncodeGlobalID returns the opaque id of the object of GraphQL type typ
// with database id id: base64url of "Type:id", so that ids are unique
// across types and carry no promise about their content.
func EncodeGlobalID(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString(appendTypedID(nil, typ, id))
}

func appendTypedID(b []byte, typ string, id int64) []byte {
	b = append(b, typ...)
	b = append(b, ':')
	return strconv.AppendInt(b, id, 10)
}

// MarshalGlobalID writes the database id of the object whose id field is
// being written as its global id (EncodeGlobalID), the type being the
// object's: so that id is a plain field of the domain types (their int64
// ID), which gqlgen runs inline, rather than a resolver of each type.
func MarshalGlobalID(id int64) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(ctx context.Context, w io.Writer) error {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil {
			return errors.New("global id: no field")
		}
		var out [72]byte
		_, err := w.Write(appendGlobalID(out[:0], fc.Object, id))
		return err
	})
}

// appendGlobalID appends the global id of the object of type typ with
// database id id, quoted.
func appendGlobalID(b []byte, typ string, id int64) []byte {
	var raw [48]byte
	b = append(b, '"')
	b = base64.RawURLEncoding.AppendEncode(b, appendTypedID(raw[:0], typ, id))
	return append(b, '"')
}

// UnmarshalGlobalID refuses: global ids are read by the resolvers, which
// know which type they expect.
func UnmarshalGlobalID(context.Context, any) (int64, error) {
	return 0, errors.New("global ids are not read as database ids")
}
