package conduit

import "context"

// Store is the persistence the Service needs. Each method that writes runs
// in one transaction. Methods return *Error values with code NotFound when
// the thing asked for does not exist and Conflict when a uniqueness rule
// would break; any other failure is Internal.
//
// viewerID is the user whose point of view fills Profile.Following and
// Article.Favorited; 0 means anonymous.
type Store interface {
	// CreateUser inserts u (ID, TokenVersion, CreatedAt and UpdatedAt are
	// assigned). Returns Conflict with fields "username" and/or "email"
	// when taken: usernames are the same when their UsernameKey is, emails
	// compare case-insensitively.
	CreateUser(ctx context.Context, u User) (User, error)
	// UserByID returns NotFound if there is no such user.
	UserByID(ctx context.Context, id int64) (User, error)
	// TokenVersion returns the token version of user id. Returns NotFound.
	TokenVersion(ctx context.Context, id int64) (int64, error)
	// UserByEmail matches case-insensitively. Returns NotFound.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UpdateUser applies the set fields of ch to user id and moves UpdatedAt;
	// a new PasswordHash also moves TokenVersion on by one. Returns
	// NotFound, or Conflict like CreateUser.
	UpdateUser(ctx context.Context, id int64, ch UserChanges) (User, error)

	// ProfileByUsername returns NotFound if no user has the username.
	ProfileByUsername(ctx context.Context, viewerID int64, username string) (Profile, error)
	// ProfilesByID returns the profiles of the users that exist, in any order.
	ProfilesByID(ctx context.Context, viewerID int64, ids []int64) ([]Profile, error)
	// Follow makes follower follow followee; doing it twice is not an error.
	Follow(ctx context.Context, followerID, followeeID int64) error
	// Unfollow undoes Follow; undoing what is not there is not an error.
	Unfollow(ctx context.Context, followerID, followeeID int64) error
	// FollowersAmong returns those of the candidate user ids that follow
	// authorID, in one statement however many candidates there are.
	FollowersAmong(ctx context.Context, authorID int64, candidates []int64) ([]int64, error)

	// ListArticles returns one page of the articles matching f, newest first,
	// in a constant number of statements whatever the page size.
	ListArticles(ctx context.Context, viewerID int64, f ArticleFilter, p Page) (ArticlePage, error)
	// ArticleBySlug returns NotFound if no article has the slug.
	ArticleBySlug(ctx context.Context, viewerID int64, slug string) (Article, error)
	// ArticlesByID returns the articles that exist, in any order.
	ArticlesByID(ctx context.Context, viewerID int64, ids []int64) ([]Article, error)
	// CreateArticle inserts a and links its tags (a.TagList, already clean).
	// Returns Conflict with field "slug" if the slug is taken, having
	// written nothing.
	CreateArticle(ctx context.Context, a NewArticle) (Article, error)
	// UpdateArticle applies the set fields of ch to article id, moves
	// UpdatedAt and returns the article as viewerID sees it. Returns NotFound,
	// or Conflict with field "slug" having written nothing.
	UpdateArticle(ctx context.Context, viewerID, id int64, ch ArticleChanges) (Article, error)
	// DeleteArticle deletes article id with its comments, favorites and tag
	// links. Returns NotFound.
	DeleteArticle(ctx context.Context, id int64) error
	// Favorite marks the article with the slug as a favorite of user and
	// returns it as user sees it; doing it twice is not an error.
	// Returns NotFound if no article has the slug.
	Favorite(ctx context.Context, userID int64, slug string) (Article, error)
	// Unfavorite undoes Favorite, idempotently. Returns NotFound.
	Unfavorite(ctx context.Context, userID int64, slug string) (Article, error)
	// Tags returns every tag in use, most used first, ties alphabetical.
	Tags(ctx context.Context) ([]string, error)

	// CommentPages returns, for each article id in order, one page of its
	// comments newest first, in a constant number of statements however many
	// articles are asked for.
	CommentPages(ctx context.Context, viewerID int64, articleIDs []int64, p Page) ([]CommentPage, error)
	// ArticleWithComments returns the article with the slug and page p of
	// its comments, newest first, in one statement: what ArticleBySlug and
	// CommentPages return for it. Returns NotFound if no article has the
	// slug.
	ArticleWithComments(ctx context.Context, viewerID int64, slug string, p Page) (Article, CommentPage, error)
	// CommentPageBySlug returns page p of the comments of the article with
	// the slug, newest first, in one statement, with the article's id and
	// nothing else of it: what CommentPages returns for that id. Returns
	// NotFound if no article has the slug.
	CommentPageBySlug(ctx context.Context, viewerID int64, slug string, p Page) (CommentPage, error)
	// CommentsBySlug returns every comment of the article with the slug,
	// newest first. Returns NotFound if no article has the slug.
	CommentsBySlug(ctx context.Context, viewerID int64, slug string) ([]Comment, error)
	// CommentsByID returns the comments that exist, in any order.
	CommentsByID(ctx context.Context, viewerID int64, ids []int64) ([]Comment, error)
	// CommentInArticle returns comment id if it belongs to the article with
	// the slug. Returns NotFound ("article not found" or "comment not found")
	// otherwise.
	CommentInArticle(ctx context.Context, viewerID int64, slug string, id int64) (Comment, error)
	// CreateComment adds a comment by authorID to the article with the slug
	// and returns it as its author sees it. Returns NotFound.
	CreateComment(ctx context.Context, slug string, authorID int64, body string) (Comment, error)
	// DeleteComment deletes comment id. Returns NotFound.
	DeleteComment(ctx context.Context, id int64) error
}

// UserChanges is a partial update of a user. Bio and Image set to nil clear them.
type UserChanges struct {
	Username     Optional[string]
	Email        Optional[string]
	PasswordHash Optional[string]
	Bio          Optional[*string]
	Image        Optional[*string]
}

// NewArticle is an article about to be written.
type NewArticle struct {
	AuthorID    int64
	Slug        string
	Title       string
	Description string
	Body        string
	TagList     []string
}

// ArticleChanges is a partial update of an article. TagList, when set,
// replaces the article's tags.
type ArticleChanges struct {
	Slug        Optional[string]
	Title       Optional[string]
	Description Optional[string]
	Body        Optional[string]
	TagList     Optional[[]string]
}
