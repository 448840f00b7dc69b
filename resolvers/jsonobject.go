package resolvers

import "encoding/json"

// objectMembers calls member with the name and the raw value of each
// member of the JSON object b, in order, and reports whether b is an
// object. b must be valid JSON (json.Valid), which the walk relies on and
// does not check again.
//
// It is written by hand because what encoding/json offers for this costs
// more than the rest of reading a request: decoding the body into a
// map[string]json.RawMessage allocates the map and a copy of every value,
// and its recursive decoder is the deepest frame of a request, where the
// connection's goroutine grows its stack again after each GC has shrunk
// it. encoding/json/jsontext would do it, but is not in the standard
// library without GOEXPERIMENT=jsonv2.
func objectMembers(b []byte, member func(name, raw []byte)) bool {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	for b[i] != '}' {
		end := endOfString(b, i)
		name := memberName(b[i:end])
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the colon
		end = endOfValue(b, i)
		member(name, b[i:end])
		i = skipSpace(b, end)
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return true
}

// memberName returns the text a member's name (a JSON string, quotes
// included) holds.
func memberName(quoted []byte) []byte {
	for _, c := range quoted {
		if c == '\\' {
			var s string
			_ = json.Unmarshal(quoted, &s) // valid: the body passed json.Valid
			return []byte(s)
		}
	}
	return quoted[1 : len(quoted)-1]
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the index after the JSON string that starts at
// b[i].
func endOfString(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++ // the escaped byte, which may be a quote
		}
	}
	return i + 1
}

// endOfValue returns the index after the JSON value that starts at b[i].
func endOfValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return endOfString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = endOfString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default: // a number, true, false or null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' &&
			b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}
