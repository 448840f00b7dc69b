// Package conduit is the domain of the Conduit blogging platform: its types,
// the Service that holds every business rule, the error codes both API
// surfaces translate, and the Store interface the database adapter satisfies.
//
// It imports nothing of HTTP, GraphQL or PostgreSQL, so the legacy REST
// surface and the GraphQL surface are thin adapters over the same rules.
package conduit

import "time"

// User is an account. PasswordHash never leaves the service.
type User struct {
	ID           int64
	Username     string
	Email        string
	PasswordHash string
	Bio          *string
	Image        *string
	// TokenVersion counts the user's password changes; see Viewer.
	TokenVersion int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Session is a user together with a freshly signed token for them.
type Session struct {
	User  User
	Token string
}

// Profile is the public face of a user, as seen by the viewer: Following
// tells whether the viewer follows them (false for anonymous viewers).
type Profile struct {
	ID        int64
	Username  string
	Bio       *string
	Image     *string
	Following bool
}

// Article is a post with its author and the viewer-dependent flags filled in.
// TagList is always sorted alphabetically.
type Article struct {
	ID             int64
	Slug           string
	Title          string
	Description    string
	Body           string
	TagList        []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Favorited      bool
	FavoritesCount int
	Author         Profile
}

// Comment is a remark on an article, with its author as seen by the viewer.
type Comment struct {
	ID        int64
	ArticleID int64
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
	Author    Profile
}

// Viewer is who is making a request, as proven by their token.
type Viewer struct {
	UserID int64
	// TokenVersion is the version of the user's credentials the token was
	// issued under: changing the password moves the user's version on, and
	// tokens of an older version stop working.
	TokenVersion int64
	// ExpiresAt is when the token stops being valid: a subscription opened
	// with it ends then. Sign ignores it (it sets its own).
	ExpiresAt time.Time
}

// Optional is a field of a partial update: Set tells whether the caller
// supplied it at all, so that "absent" and "null" stay different things.
type Optional[T any] struct {
	Value T
	Set   bool
}

// Some returns an Optional that is set to v.
func Some[T any](v T) Optional[T] { return Optional[T]{Value: v, Set: true} }

// Cursor is a position in a list ordered newest first: lists are keyset
// paginated on (CreatedAt, ID), so a deep page costs what the first one does.
type Cursor struct {
	CreatedAt time.Time
	ID        int64
}

// DefaultPageSize and MaxPageSize bound every list.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Page selects a window of a list ordered newest first (CreatedAt, then ID,
// descending). Either Offset or the keyset cursors are used, not both.
type Page struct {
	// Limit is how many rows are wanted; the service caps it at MaxPageSize.
	Limit int
	// Offset skips that many rows (legacy paging).
	Offset int
	// After keeps only rows older than the cursor; Before only newer ones.
	After  *Cursor
	Before *Cursor
	// FromEnd takes the last Limit rows of the window instead of the first
	// (GraphQL's `last`). Rows still come back newest first.
	FromEnd bool
}

// ArticleFilter narrows a list of articles. Empty strings filter nothing;
// every filter that is set must hold (AND).
type ArticleFilter struct {
	Tag         string
	Author      string // username
	FavoritedBy string // username
	// FeedOf, when non-zero, keeps only articles whose authors that user follows.
	FeedOf int64
}

// ArticlePage is one page of a list of articles.
type ArticlePage struct {
	Articles []Article
	// Total counts every article that matches the filter, whatever the page.
	Total int
	// HasMore tells whether rows exist beyond this page in the paging
	// direction (older ones, or newer ones when paging FromEnd).
	HasMore bool
}

// CommentPage is one page of the comments of one article, newest first.
type CommentPage struct {
	ArticleID int64
	Comments  []Comment
	Total     int
	HasMore   bool
}

// Cursor returns the cursor that points at a.
func (a Article) Cursor() Cursor { return Cursor{CreatedAt: a.CreatedAt, ID: a.ID} }

// Cursor returns the cursor that points at c.
func (c Comment) Cursor() Cursor { return Cursor{CreatedAt: c.CreatedAt, ID: c.ID} }
