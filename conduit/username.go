package conduit

import (
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// normalizeUsername is the form a username is stored in: trimmed and in
// Unicode normalization form KC, so that compatibility characters (the
// fullwidth "ａｌｉｃｅ", ligatures, superscripts) are stored as the plain
// letters they stand for. Text that is not valid UTF-8 is left for
// checkUsername to refuse.
func normalizeUsername(name string) string {
	name = strings.TrimSpace(name)
	if !wellFormed(name) {
		return name
	}
	return norm.NFKC.String(name)
}

// UsernameKey is what two usernames must share to be the same name: the
// NFKC form, case-folded (and normalized again, as folding may undo it).
// "Alice", "ALICE" and "ａｌｉｃｅ" have the key "alice". The store keeps
// it unique.
func UsernameKey(name string) string {
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(name)))
}
