package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// The wire shapes of the legacy API, written out again here so that the
// floor shares no code with what it is compared to. Field order is key
// order; bio and image are null when unset; tagList is never null.

// timestamp encodes a time in UTC with exactly three fractional digits.
type timestamp time.Time

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON writes the time the legacy API does.
func (t timestamp) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(timeLayout)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, timeLayout)
	return append(b, '"'), nil
}

type author struct {
	Username  string  `json:"username"`
	Bio       *string `json:"bio"`
	Image     *string `json:"image"`
	Following bool    `json:"following"`
}

// listedArticle is an article as lists show it: without its body.
type listedArticle struct {
	Slug           string    `json:"slug"`
	Title          string    `json:"title"`
	Description    string    `json:"description"`
	TagList        []string  `json:"tagList"`
	CreatedAt      timestamp `json:"createdAt"`
	UpdatedAt      timestamp `json:"updatedAt"`
	Favorited      bool      `json:"favorited"`
	FavoritesCount int       `json:"favoritesCount"`
	Author         author    `json:"author"`
}

type articleList struct {
	Articles      []listedArticle `json:"articles"`
	ArticlesCount int             `json:"articlesCount"`
}

type article struct {
	Slug           string    `json:"slug"`
	Title          string    `json:"title"`
	Description    string    `json:"description"`
	Body           string    `json:"body"`
	TagList        []string  `json:"tagList"`
	CreatedAt      timestamp `json:"createdAt"`
	UpdatedAt      timestamp `json:"updatedAt"`
	Favorited      bool      `json:"favorited"`
	FavoritesCount int       `json:"favoritesCount"`
	Author         author    `json:"author"`
}

type articleEnvelope struct {
	Article article `json:"article"`
}

type tagsEnvelope struct {
	Tags []string `json:"tags"`
}

type errorEnvelope struct {
	Errors map[string][]string `json:"errors"`
}

// writeJSON writes v without HTML escaping and without a final newline,
// as the legacy API does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, errorEnvelope{Errors: map[string][]string{field: {msg}}})
}
