package resolvers

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/graph"
)

// The type names that prefix global ids.
const (
	userType    = "User"
	profileType = "Profile"
	articleType = "Article"
	commentType = "Comment"
)

// globalID returns the opaque id of the object of type typ with database id
// id, as the id fields write it (graph.MarshalGlobalID).
func globalID(typ string, id int64) string {
	return graph.EncodeGlobalID(typ, id)
}

// parseGlobalID undoes globalID. It reports false for anything globalID
// could not have produced.
func parseGlobalID(gid string) (typ string, id int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(gid)
	if err != nil {
		return "", 0, false
	}
	typ, num, found := strings.Cut(string(b), ":")
	if !found {
		return "", 0, false
	}
	id, err = strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != num {
		return "", 0, false
	}
	return typ, id, true
}

// idOf returns the database id in gid if gid names an object of type typ;
// an id of another type or no id at all names nothing, which the caller
// reports as the NotFound of field.
func idOf(gid, typ, field string) (int64, error) {
	t, id, ok := parseGlobalID(gid)
	if !ok || t != typ {
		return 0, conduit.FieldError(conduit.NotFound, field, strings.ToLower(typ)+" not found")
	}
	return id, nil
}

// encodeCursor returns the opaque form of a position in a list: base64url
// of the row's creation time at full precision and its id.
func encodeCursor(c conduit.Cursor) string {
	// Built on the stack: one allocation, the string, per cursor.
	var raw [64]byte
	b := c.CreatedAt.UTC().AppendFormat(raw[:0], time.RFC3339Nano)
	b = append(b, '|')
	b = strconv.AppendInt(b, c.ID, 10)
	var out [96]byte
	return string(base64.RawURLEncoding.AppendEncode(out[:0], b))
}

// decodeCursor undoes encodeCursor. It reports false for anything
// encodeCursor could not have produced.
func decodeCursor(s string) (conduit.Cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return conduit.Cursor{}, false
	}
	at, num, found := strings.Cut(string(b), "|")
	if !found {
		return conduit.Cursor{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return conduit.Cursor{}, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return conduit.Cursor{}, false
	}
	return conduit.Cursor{CreatedAt: t.UTC(), ID: id}, true
}
