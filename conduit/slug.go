package conduit

import (
	"crypto/rand"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// maxSlugBase bounds the part of a slug derived from the title.
const maxSlugBase = 80

// letterFolds spells letters that do not decompose into an ASCII base.
var letterFolds = map[rune]string{
	'ß': "ss", 'æ': "ae", 'Æ': "ae", 'ø': "o", 'Ø': "o", 'œ': "oe", 'Œ': "oe",
	'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'ð': "d", 'Ð': "d", 'þ': "th", 'Þ': "th",
	'ı': "i",
}

// Slugify derives the readable part of a slug from a title: lowercase ASCII
// words joined by "-", accented letters reduced to their base letter, other
// characters dropped. A title with nothing left gives "article".
func Slugify(title string) string {
	var b strings.Builder
	pendingDash := false
	for _, r := range norm.NFKD.String(title) {
		var s string
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			s = string(unicode.ToLower(r))
		case unicode.Is(unicode.Mn, r): // combining marks left by decomposition
			continue
		case letterFolds[r] != "":
			s = letterFolds[r]
		case r == '\'' || r == '’':
			continue // "don't" reads better as "dont" than "don-t"
		default:
			pendingDash = b.Len() > 0
			continue
		}
		if b.Len()+len(s)+1 > maxSlugBase {
			break
		}
		if pendingDash {
			b.WriteByte('-')
			pendingDash = false
		}
		b.WriteString(s)
	}
	if b.Len() == 0 {
		return "article"
	}
	return b.String()
}

// slugSuffix returns a short random suffix that makes a slug unique.
func slugSuffix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var buf [6]byte
	_, _ = rand.Read(buf[:])
	for i, c := range buf {
		buf[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(buf[:])
}

// slugCandidate returns the slug to try on the attempt-th try for a title:
// the bare slug first, then with a random suffix. "feed" is never bare,
// because /api/articles/feed is the feed.
func slugCandidate(base string, attempt int) string {
	if attempt == 0 && base != "feed" {
		return base
	}
	return base + "-" + slugSuffix()
}
