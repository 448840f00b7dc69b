package conduit

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Limits on what users may write, in characters (Unicode code points)
// unless they say bytes. Every text a reader downloads is bounded, so that
// no one writer can make a page heavy for everyone: whatever was written,
// a list of 20 articles holds at most about 100,000 characters of titles,
// descriptions, tags and authors' bios and image URLs (and tags and image
// URLs are short in practice).
const (
	MinPasswordLength = 8
	// MaxPasswordBytes is bcrypt's limit: it ignores what comes after.
	MaxPasswordBytes  = 72
	MaxUsernameLength = 64
	MaxEmailLength    = 254 // the longest address SMTP can carry
	// MaxBioLength is about two tweets; profile pages and every list item's
	// author carry the bio.
	MaxBioLength = 300
	// MaxImageURLLength admits signed CDN and storage URLs (often over
	// 1,000 characters), which is what browsers and proxies accept.
	MaxImageURLLength = 2048
	MaxTitleLength    = 255
	// MaxDescriptionLength keeps the description what the API calls it, a
	// one-line summary: lists show it for every article.
	MaxDescriptionLength = 300
	// MaxBodyLength is about 15,000 words: a long essay. Lists leave the
	// body out.
	MaxBodyLength = 100_000
	// MaxCommentLength is a long reply, as forums allow.
	MaxCommentLength = 10_000
	MaxTagLength     = 64
	MaxTags          = 32
	slugAttempts     = 6
)

// Config tunes a Service.
type Config struct {
	// JWTSecret signs tokens.
	JWTSecret []byte
	// TokenTTL is how long a token stays valid; 30 days when zero.
	TokenTTL time.Duration
	// BcryptCost is the password hashing cost; bcrypt.DefaultCost when zero.
	BcryptCost int
	// TokenCheckInterval is how long the service trusts the token version it
	// last read for a user, so that authentication costs no query per
	// request. A password change revokes older tokens at once on the
	// replica that made it, and within this interval on the others.
	// DefaultTokenCheckInterval when zero.
	TokenCheckInterval time.Duration
	// LoginPerAddress, LoginPerAccount and RegisterPerAddress, when set,
	// bound sign-in attempts per client address and per account (the email
	// tried), and sign-ups per client address. Each attempt counts, however
	// it ends.
	LoginPerAddress, LoginPerAccount, RegisterPerAddress Throttle
	// Hub fans out live updates to the subscriptions of SubscribeComments
	// and SubscribeArticles; without one, those return Unavailable.
	Hub *Hub
	// TagListTTL is how long the service keeps the list of tags in use
	// that it last read. An article created, edited or deleted through the
	// service changes it at once on this replica; elsewhere it is seen
	// within this interval, or when TagsChanged reports it.
	// DefaultTagListTTL when zero; negative reads the list every time.
	TagListTTL time.Duration
}

// DefaultTokenCheckInterval is Config.TokenCheckInterval's default.
const DefaultTokenCheckInterval = 10 * time.Second

// Throttle bounds how often something may happen per key. Allow counts one
// attempt under key and tells whether it is within the limit; when it is
// not, retryAfter says how long until it would be.
type Throttle interface {
	Allow(key string) (ok bool, retryAfter time.Duration)
}

// Service carries out every operation of the domain, whichever surface asks.
// The viewer is taken from the context (see NewContextWithViewer).
type Service struct {
	store    Store
	tokens   *Tokens
	versions *tokenVersions
	cost     int
	// dummyHash is compared against when a login names an unknown email, so
	// that it takes as long as a wrong password does.
	dummyHash []byte

	loginPerAddress, loginPerAccount, registerPerAddress Throttle
	hub                                                  *Hub
	tags                                                 *tagList // nil when not kept
}

// NewService returns a Service over store.
func NewService(store Store, cfg Config) (*Service, error) {
	if len(cfg.JWTSecret) == 0 {
		return nil, errors.New("conduit: a JWT secret is required")
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 30 * 24 * time.Hour
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a password of anyone"), cfg.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("conduit: bcrypt cost %d: %w", cfg.BcryptCost, err)
	}
	if cfg.TokenCheckInterval <= 0 {
		cfg.TokenCheckInterval = DefaultTokenCheckInterval
	}
	if cfg.TagListTTL == 0 {
		cfg.TagListTTL = DefaultTagListTTL
	}
	var tags *tagList
	if cfg.TagListTTL > 0 {
		tags = newTagList(store, cfg.TagListTTL)
	}
	return &Service{
		store:              store,
		tokens:             NewTokens(cfg.JWTSecret, cfg.TokenTTL),
		versions:           newTokenVersions(store, cfg.TokenCheckInterval),
		cost:               cfg.BcryptCost,
		dummyHash:          dummy,
		loginPerAddress:    cfg.LoginPerAddress,
		loginPerAccount:    cfg.LoginPerAccount,
		registerPerAddress: cfg.RegisterPerAddress,
		hub:                cfg.Hub,
		tags:               tags,
	}, nil
}

// errRevoked answers a token issued before its user's last password change.
var errRevoked = FieldError(Unauthenticated, "token", "token revoked: sign in again")

// Authenticate returns the viewer a token speaks for. Returns
// Unauthenticated if the token is not valid, if its user no longer exists,
// or if it was issued before the user's password last changed; Unavailable
// if that cannot be checked now.
func (s *Service) Authenticate(ctx context.Context, token string) (Viewer, error) {
	v, err := s.tokens.Verify(token)
	if err != nil {
		return Viewer{}, err
	}
	current, err := s.versions.get(ctx, v.UserID)
	switch {
	case ErrorCode(err) == NotFound:
		return Viewer{}, ErrUserGone(err)
	case err != nil:
		return Viewer{}, err
	case current != v.TokenVersion:
		return Viewer{}, errRevoked
	}
	return v, nil
}

// RegisterInput is what a new user supplies.
type RegisterInput struct {
	Username string
	Email    string
	Password string
}

// Register creates an account and signs the new user in.
// Returns Invalid for a blank or malformed field and Conflict with the
// fields "username" and/or "email" when they are taken.
//
// Usernames are stored in NFKC form and are unique whatever their case:
// "alice", "ALICE" and fullwidth "ａｌｉｃｅ" are one name (see UsernameKey).
// Returns RateLimited when the client's address has signed up too often.
func (s *Service) Register(ctx context.Context, in RegisterInput) (Session, error) {
	if err := throttle(s.registerPerAddress, "register", ClientAddressFromContext(ctx)); err != nil {
		return Session{}, err
	}
	in.Username = normalizeUsername(in.Username)
	in.Email = strings.TrimSpace(in.Email)
	p := problems{}
	checkUsername(p, in.Username)
	checkEmail(p, in.Email)
	checkPassword(p, in.Password)
	if err := p.err(); err != nil {
		return Session{}, err
	}
	hash, err := s.hash(in.Password)
	if err != nil {
		return Session{}, err
	}
	u, err := s.store.CreateUser(ctx, User{Username: in.Username, Email: in.Email, PasswordHash: hash})
	if err != nil {
		return Session{}, err
	}
	return s.session(u)
}

// LoginInput is what a returning user supplies.
type LoginInput struct {
	Email    string
	Password string
}

// errBadCredentials is the one answer to a failed login, whichever part was wrong.
var errBadCredentials = FieldError(Unauthenticated, "email or password", "is invalid")

// Login signs a user in. Returns Invalid for a blank or malformed field,
// Unauthenticated, the same way and in about the same time, for an unknown
// email and for a wrong password, and RateLimited when the client's address
// or the account has tried too often.
func (s *Service) Login(ctx context.Context, in LoginInput) (Session, error) {
	in.Email = strings.TrimSpace(in.Email)
	p := problems{}
	switch {
	case in.Email == "":
		p.add("email", "can't be blank")
	case !wellFormed(in.Email):
		p.add("email", msgMalformed)
	}
	switch {
	case in.Password == "":
		p.add("password", "can't be blank")
	case !wellFormed(in.Password):
		p.add("password", msgMalformed)
	}
	if err := p.err(); err != nil {
		return Session{}, err
	}
	if err := throttle(s.loginPerAddress, "login", ClientAddressFromContext(ctx)); err != nil {
		return Session{}, err
	}
	if err := throttle(s.loginPerAccount, "login", strings.ToLower(in.Email)); err != nil {
		return Session{}, err
	}
	u, err := s.store.UserByEmail(ctx, in.Email)
	switch {
	case ErrorCode(err) == NotFound:
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(in.Password))
		return Session{}, errBadCredentials
	case err != nil:
		return Session{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(in.Password)) != nil {
		return Session{}, errBadCredentials
	}
	return s.session(u)
}

// CurrentUser returns the viewer's account with a fresh token.
// Returns Unauthenticated for an anonymous caller.
func (s *Service) CurrentUser(ctx context.Context) (Session, error) {
	u, err := s.Viewer(ctx)
	if err != nil {
		return Session{}, err
	}
	return s.session(u)
}

// Viewer returns the viewer's account. Returns Unauthenticated for an
// anonymous caller, and for a token whose user no longer exists.
func (s *Service) Viewer(ctx context.Context) (User, error) {
	id, err := requireViewer(ctx)
	if err != nil {
		return User{}, err
	}
	u, err := s.store.UserByID(ctx, id)
	if ErrorCode(err) == NotFound {
		return User{}, ErrUserGone(err)
	}
	return u, err
}

// OptionalViewer returns the viewer's account, or nil for an anonymous
// caller. Returns Unauthenticated for a refused token, and for a token whose
// user no longer exists.
func (s *Service) OptionalViewer(ctx context.Context) (*User, error) {
	id, err := viewerID(ctx)
	if err != nil || id == 0 {
		return nil, err
	}
	u, err := s.Viewer(ctx)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// UpdateUserInput is a partial update of the viewer's account. A Bio or
// Image set to nil or "" clears it. A Username, Email or Password set to ""
// (or blanks) is left as it is: those cannot be cleared, and settings forms
// send an empty password when the user leaves it alone.
type UpdateUserInput struct {
	Username Optional[string]
	Email    Optional[string]
	Password Optional[string]
	Bio      Optional[*string]
	Image    Optional[*string]
}

// UpdateUser changes the supplied fields of the viewer's account and
// returns it with a fresh token. A new password moves the user's token
// version on, so that every token issued before stops working; the one
// returned carries the new version. Returns Unauthenticated, Invalid, or
// Conflict when the new username or email belongs to someone else.
func (s *Service) UpdateUser(ctx context.Context, in UpdateUserInput) (Session, error) {
	id, err := requireViewer(ctx)
	if err != nil {
		return Session{}, err
	}
	var ch UserChanges
	p := problems{}
	if u := normalizeUsername(in.Username.Value); in.Username.Set && u != "" {
		ch.Username = Some(u)
		checkUsername(p, u)
	}
	if e := strings.TrimSpace(in.Email.Value); in.Email.Set && e != "" {
		ch.Email = Some(e)
		checkEmail(p, e)
	}
	newPassword := in.Password.Set && in.Password.Value != ""
	if newPassword {
		checkPassword(p, in.Password.Value)
	}
	if in.Bio.Set {
		ch.Bio = Some(blankToNil(in.Bio.Value))
		checkOptionalText(p, "bio", ch.Bio.Value, MaxBioLength)
	}
	if in.Image.Set {
		ch.Image = Some(blankToNil(in.Image.Value))
		checkOptionalText(p, "image", ch.Image.Value, MaxImageURLLength)
	}
	if err := p.err(); err != nil {
		return Session{}, err
	}
	if newPassword {
		hash, err := s.hash(in.Password.Value)
		if err != nil {
			return Session{}, err
		}
		ch.PasswordHash = Some(hash)
	}
	u, err := s.store.UpdateUser(ctx, id, ch)
	if ErrorCode(err) == NotFound {
		return Session{}, ErrUserGone(err)
	}
	if err != nil {
		return Session{}, err
	}
	return s.session(u)
}

// Profile returns the profile of the user with the username.
// Returns NotFound.
func (s *Service) Profile(ctx context.Context, username string) (Profile, error) {
	viewer, err := viewerID(ctx)
	if err != nil {
		return Profile{}, err
	}
	if !wellFormed(username) {
		return Profile{}, NotFoundError(ThingProfile, nil)
	}
	return s.store.ProfileByUsername(ctx, viewer, username)
}

// ProfilesByID returns the profiles of the users with the ids, in any
// order, leaving out those that do not exist.
func (s *Service) ProfilesByID(ctx context.Context, ids []int64) ([]Profile, error) {
	viewer, err := viewerID(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.ProfilesByID(ctx, viewer, ids)
}

// Follow makes the viewer follow the user with the username; following
// twice is not an error. Returns Unauthenticated, NotFound, or Invalid when
// the viewer names themself.
func (s *Service) Follow(ctx context.Context, username string) (Profile, error) {
	return s.setFollowing(ctx, username, true)
}

// Unfollow makes the viewer stop following the user with the username;
// unfollowing twice is not an error. Returns Unauthenticated or NotFound.
func (s *Service) Unfollow(ctx context.Context, username string) (Profile, error) {
	return s.setFollowing(ctx, username, false)
}

func (s *Service) setFollowing(ctx context.Context, username string, follow bool) (Profile, error) {
	viewer, err := requireViewer(ctx)
	if err != nil {
		return Profile{}, err
	}
	if !wellFormed(username) {
		return Profile{}, NotFoundError(ThingProfile, nil)
	}
	p, err := s.store.ProfileByUsername(ctx, viewer, username)
	if err != nil {
		return Profile{}, err
	}
	if follow {
		if p.ID == viewer {
			return Profile{}, FieldError(Invalid, "username", "cannot follow yourself")
		}
		err = s.store.Follow(ctx, viewer, p.ID)
	} else {
		err = s.store.Unfollow(ctx, viewer, p.ID)
	}
	if err != nil {
		return Profile{}, err
	}
	p.Following = follow
	return p, nil
}

// Articles returns one page of the articles that match f, newest first.
// Returns Invalid for a bad page or a filter no name can match (invalid
// UTF-8, NUL bytes), on the fields "tag", "author" and "favorited".
func (s *Service) Articles(ctx context.Context, f ArticleFilter, p Page) (ArticlePage, error) {
	viewer, err := viewerID(ctx)
	if err != nil {
		return ArticlePage{}, err
	}
	f.FeedOf = 0
	bad := problems{}
	for _, v := range []struct{ field, value string }{{"tag", f.Tag}, {"author", f.Author}, {"favorited", f.FavoritedBy}} {
		if !wellFormed(v.value) {
			bad.add(v.field, msgMalformed)
		}
	}
	if err := bad.err(); err != nil {
		return ArticlePage{}, err
	}
	if p, err = checkPage(p); err != nil {
		return ArticlePage{}, err
	}
	return s.store.ListArticles(ctx, viewer, f, p)
}

// Feed returns one page of the articles by authors the viewer follows,
// newest first. Returns Unauthenticated or Invalid.
func (s *Service) Feed(ctx context.Context, p Page) (ArticlePage, error) {
	viewer, err := requireViewer(ctx)
	if err != nil {
		return ArticlePage{}, err
	}
	if p, err = checkPage(p); err != nil {
		return ArticlePage{}, err
	}
	return s.store.ListArticles(ctx, viewer, ArticleFilter{FeedOf: viewer}, p)
}

// Article returns the article with the slug. Returns NotFound.
func (s *Service) Article(ctx context.Context, slug string) (Article, error) {
	viewer, err := viewerID(ctx)
	if err != nil {
		return Article{}, err
	}
	if !wellFormed(slug) {
		return Article{}, errNoArticle
	}
	return s.store.ArticleBySlug(ctx, viewer, slug)
}

// ArticlesByID returns the articles with the ids, in any order, leaving out
// those that do not exist.
func (s *Service) ArticlesByID(ctx context.Context, ids []int64) ([]Article, error) {
	viewer, err := viewerID(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.ArticlesByID(ctx, viewer, ids)
}

// CreateArticleInput is a new article. Tags are trimmed, de-duplicated and
// sorted; empty ones are dropped.
type CreateArticleInput struct {
	Title       string
	Description string
	Body        string
	TagList     []string
}

// CreateArticle publishes an article by the viewer under a unique slug
// derived from its title. Returns Unauthenticated or Invalid.
func (s *Service) CreateArticle(ctx context.Context, in CreateArticleInput) (Article, error) {
	viewer, err := requireViewer(ctx)
	if err != nil {
		return Article{}, err
	}
	p := problems{}
	in.Title = strings.TrimSpace(in.Title)
	checkText(p, "title", in.Title, MaxTitleLength)
	checkText(p, "description", in.Description, MaxDescriptionLength)
	checkText(p, "body", in.Body, MaxBodyLength)
	tags := cleanTags(p, in.TagList)
	if err := p.err(); err != nil {
		return Article{}, err
	}
	base := Slugify(in.Title)
	// Forgotten whatever the outcome: an error may come after the commit.
	defer s.TagsChanged()
	for attempt := 0; ; attempt++ {
		a, err := s.store.CreateArticle(ctx, NewArticle{
			AuthorID: viewer, Slug: slugCandidate(base, attempt),
			Title: in.Title, Description: in.Description, Body: in.Body, TagList: tags,
		})
		if !slugTaken(err) || attempt == slugAttempts-1 {
			return a, err
		}
	}
}

// UpdateArticleInput is a partial update of an article. A changed title
// moves the slug. TagList, when set, replaces the tags.
type UpdateArticleInput struct {
	Title       Optional[string]
	Description Optional[string]
	Body        Optional[string]
	TagList     Optional[[]string]
}

// UpdateArticle changes the supplied fields of the article with the slug.
// Returns Unauthenticated, NotFound, Forbidden unless the viewer wrote it,
// or Invalid.
func (s *Service) UpdateArticle(ctx context.Context, slug string, in UpdateArticleInput) (Article, error) {
	a, err := s.ownArticle(ctx, slug)
	if err != nil {
		return Article{}, err
	}
	var ch ArticleChanges
	p := problems{}
	if in.Title.Set {
		ch.Title = Some(strings.TrimSpace(in.Title.Value))
		checkText(p, "title", ch.Title.Value, MaxTitleLength)
	}
	if in.Description.Set {
		ch.Description = in.Description
		checkText(p, "description", in.Description.Value, MaxDescriptionLength)
	}
	if in.Body.Set {
		ch.Body = in.Body
		checkText(p, "body", in.Body.Value, MaxBodyLength)
	}
	if in.TagList.Set {
		ch.TagList = Some(cleanTags(p, in.TagList.Value))
	}
	if err := p.err(); err != nil {
		return Article{}, err
	}
	if ch.TagList.Set {
		defer s.TagsChanged()
	}
	base := ""
	if ch.Title.Set && ch.Title.Value != a.Title {
		base = Slugify(ch.Title.Value)
	}
	for attempt := 0; ; attempt++ {
		if base != "" {
			ch.Slug = Some(slugCandidate(base, attempt))
			if ch.Slug.Value == a.Slug {
				ch.Slug = Optional[string]{} // same words: keep the slug it has
			}
		}
		updated, err := s.store.UpdateArticle(ctx, a.Author.ID, a.ID, ch)
		if !slugTaken(err) || attempt == slugAttempts-1 {
			return updated, err
		}
	}
}

// DeleteArticle deletes the article with the slug, its comments and
// favorites, and returns the article as it was. Returns Unauthenticated,
// NotFound, or Forbidden unless the viewer wrote it.
func (s *Service) DeleteArticle(ctx context.Context, slug string) (Article, error) {
	a, err := s.ownArticle(ctx, slug)
	if err != nil {
		return Article{}, err
	}
	defer s.TagsChanged()
	if err := s.store.DeleteArticle(ctx, a.ID); err != nil {
		return Article{}, err
	}
	return a, nil
}

// ownArticle returns the article with the slug if the viewer wrote it.
func (s *Service) ownArticle(ctx context.Context, slug string) (Article, error) {
	viewer, err := requireViewer(ctx)
	if err != nil {
		return Article{}, err
	}
	if !wellFormed(slug) {
		return Article{}, errNoArticle
	}
	a, err := s.store.ArticleBySlug(ctx, viewer, slug)
	if err != nil {
		return Article{}, err
	}
	if a.Author.ID != viewer {
		return Article{}, errForbidden
	}
	return a, nil
}

var (
	errForbidden = Errorf(Forbidden, "forbidden")
	errNoArticle = NotFoundError(ThingArticle, nil)
)

// Favorite marks the article with the slug as a favorite of the viewer;
// doing it twice is not an error. Returns Unauthenticated or NotFound.
func (s *Service) Favorite(ctx context.Context, slug string) (Article, error) {
	viewer, err := requireViewer(ctx)
	if err != nil {
		return Article{}, err
	}
	if !wellFormed(slug) {
		return Article{}, errNoArticle
	}
	return s.store.Favorite(ctx, viewer, slug)
}

// Unfavorite undoes Favorite, idempotently. Returns Unauthenticated or NotFound.
func (s *Service) Unfavorite(ctx context.Context, slug string) (Article, error) {
	viewer, err := requireViewer(ctx)
	if err != nil {
		return Article{}, err
	}
	if !wellFormed(slug) {
		return Article{}, errNoArticle
	}
	return s.store.Unfavorite(ctx, viewer, slug)
}

// Tags returns every tag in use, most used first, ties alphabetical.
// It needs no viewer and ignores a bad token, as the old API did.
// The list is kept for Config.TagListTTL (see tagList).
func (s *Service) Tags(ctx context.Context) ([]string, error) {
	if s.tags == nil {
		return s.store.Tags(ctx)
	}
	return s.tags.get(ctx)
}

// TagsChanged tells the service that the tags in use may have changed
// through a write it did not make (another replica's, as the event
// listener hears of it): the next Tags reads them anew.
func (s *Service) TagsChanged() {
	if s.tags != nil {
		s.tags.forget()
	}
}

// Comments returns every comment of the article with the slug, newest
// first. Returns NotFound.
func (s *Service) Comments(ctx context.Context, slug string) ([]Comment, error) {
	viewer, err := viewerID(ctx)
	if err != nil {
		return nil, err
	}
	if !wellFormed(slug) {
		return nil, errNoArticle
	}
	return s.store.CommentsBySlug(ctx, viewer, slug)
}

// CommentPages returns one page of comments for each article id, in the
// order of ids. Returns Invalid for a bad page.
func (s *Service) CommentPages(ctx context.Context, articleIDs []int64, p Page) ([]CommentPage, error) {
	viewer, err := viewerID(ctx)
	if err != nil {
		return nil, err
	}
	if p, err = checkPage(p); err != nil {
		return nil, err
	}
	return s.store.CommentPages(ctx, viewer, articleIDs, p)
}

// ArticleWithComments returns the article with the slug and page p of its
// comments, newest first: what Article and then CommentPages for its id
// return, under the same rules, with one call to the store. Returns
// NotFound, or Invalid for a bad page (having read nothing).
func (s *Service) ArticleWithComments(ctx context.Context, slug string, p Page) (Article, CommentPage, error) {
	viewer, err := viewerID(ctx)
	if err != nil {
		return Article{}, CommentPage{}, err
	}
	if !wellFormed(slug) {
		return Article{}, CommentPage{}, errNoArticle
	}
	if p, err = checkPage(p); err != nil {
		return Article{}, CommentPage{}, err
	}
	return s.store.ArticleWithComments(ctx, viewer, slug, p)
}

// CommentPageBySlug returns page p of the comments of the article with the
// slug, newest first, and the article's id, for a client that wants
// nothing else of the article: what CommentPages returns for its id, under
// the same rules, with one call to the store. Returns NotFound, or Invalid
// for a bad page (having read nothing).
func (s *Service) CommentPageBySlug(ctx context.Context, slug string, p Page) (CommentPage, error) {
	viewer, err := viewerID(ctx)
	if err != nil {
		return CommentPage{}, err
	}
	if !wellFormed(slug) {
		return CommentPage{}, errNoArticle
	}
	if p, err = checkPage(p); err != nil {
		return CommentPage{}, err
	}
	return s.store.CommentPageBySlug(ctx, viewer, slug, p)
}

// CommentsByID returns the comments with the ids, in any order, leaving out
// those that do not exist.
func (s *Service) CommentsByID(ctx context.Context, ids []int64) ([]Comment, error) {
	viewer, err := viewerID(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.CommentsByID(ctx, viewer, ids)
}

// AddComment adds the viewer's comment to the article with the slug.
// Returns Unauthenticated, Invalid for a blank or too long body, or NotFound.
func (s *Service) AddComment(ctx context.Context, slug, body string) (Comment, error) {
	viewer, err := requireViewer(ctx)
	if err != nil {
		return Comment{}, err
	}
	if !wellFormed(slug) {
		return Comment{}, errNoArticle
	}
	p := problems{}
	checkText(p, "body", body, MaxCommentLength)
	if err := p.err(); err != nil {
		return Comment{}, err
	}
	return s.store.CreateComment(ctx, slug, viewer, body)
}

// DeleteComment deletes comment id of the article with the slug. Returns
// Unauthenticated, NotFound when either does not exist or the comment is
// on another article, or Forbidden unless the viewer wrote the comment.
func (s *Service) DeleteComment(ctx context.Context, slug string, id int64) error {
	viewer, err := requireViewer(ctx)
	if err != nil {
		return err
	}
	if !wellFormed(slug) {
		return errNoArticle
	}
	c, err := s.store.CommentInArticle(ctx, viewer, slug, id)
	if err != nil {
		return err
	}
	if c.Author.ID != viewer {
		return errForbidden
	}
	return s.store.DeleteComment(ctx, id)
}

// session signs u in. The store has just read u, so its token version is
// current: this replica trusts it from now on.
func (s *Service) session(u User) (Session, error) {
	token, err := s.tokens.Sign(Viewer{UserID: u.ID, TokenVersion: u.TokenVersion})
	if err != nil {
		return Session{}, err
	}
	s.versions.set(u.ID, u.TokenVersion)
	return Session{User: u, Token: token}, nil
}

func (s *Service) hash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return "", InternalError(fmt.Errorf("hash password: %w", err))
	}
	return string(h), nil
}

func slugTaken(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == Conflict && len(e.Fields["slug"]) > 0
}

func checkPage(p Page) (Page, error) {
	switch {
	case p.Limit < 0:
		return p, FieldError(Invalid, "limit", "must not be negative")
	case p.Offset < 0:
		return p, FieldError(Invalid, "offset", "must not be negative")
	case p.Offset > 0 && (p.After != nil || p.Before != nil || p.FromEnd):
		return p, FieldError(Invalid, "offset", "cannot be combined with a cursor")
	}
	p.Limit = min(p.Limit, MaxPageSize)
	return p, nil
}

func checkUsername(p problems, username string) {
	switch {
	case username == "":
		p.add("username", "can't be blank")
	case !wellFormed(username):
		p.add("username", msgMalformed)
	case utf8.RuneCountInString(username) > MaxUsernameLength:
		p.add("username", fmt.Sprintf("is too long (maximum is %d characters)", MaxUsernameLength))
	case strings.ContainsFunc(username, func(r rune) bool {
		// Cf: invisible characters and those that turn text around, with
		// which two names could look alike and still differ.
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
			r == '/' || r == '?' || r == '#' || r == '%'
	}):
		p.add("username", "is invalid")
	}
}

func checkEmail(p problems, email string) {
	switch {
	case email == "":
		p.add("email", "can't be blank")
	case !wellFormed(email):
		p.add("email", msgMalformed)
	case len(email) > MaxEmailLength || !looksLikeEmail(email):
		p.add("email", "is invalid")
	}
}

// looksLikeEmail accepts a bare address with a dot in its domain, which is
// what users mean by an email; display names and comments are refused.
func looksLikeEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

func checkPassword(p problems, password string) {
	switch {
	case password == "":
		p.add("password", "can't be blank")
	case !wellFormed(password):
		p.add("password", msgMalformed)
	case utf8.RuneCountInString(password) < MinPasswordLength:
		p.add("password", fmt.Sprintf("is too short (minimum is %d characters)", MinPasswordLength))
	case len(password) > MaxPasswordBytes:
		p.add("password", fmt.Sprintf("is too long (maximum is %d bytes)", MaxPasswordBytes))
	}
}

// msgMalformed is the message about text that no stored value can equal.
const msgMalformed = "must be valid UTF-8 text without NUL characters"

// wellFormed tells whether s is text PostgreSQL can store and compare:
// valid UTF-8 without NUL, which it refuses in text values. Inputs that
// are not are mistakes of the client, never errors of the database.
func wellFormed(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// checkText requires a non-blank, well-formed value of at most max runes.
func checkText(p problems, field, value string, max int) {
	switch {
	case strings.TrimSpace(value) == "":
		p.add(field, "can't be blank")
	default:
		checkOptionalText(p, field, &value, max)
	}
}

// checkOptionalText requires a nil value or a well-formed one of at most
// max runes.
func checkOptionalText(p problems, field string, value *string, max int) {
	switch {
	case value == nil:
	case !wellFormed(*value):
		p.add(field, msgMalformed)
	case len(*value) > max && utf8.RuneCountInString(*value) > max:
		p.add(field, fmt.Sprintf("is too long (maximum is %d characters)", max))
	}
}

// cleanTags trims, drops empty and duplicate tags, and sorts the rest.
func cleanTags(p problems, tags []string) []string {
	seen := make(map[string]bool, len(tags))
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		if !wellFormed(t) {
			p.add("tagList", "tags "+msgMalformed)
			return nil
		}
		if utf8.RuneCountInString(t) > MaxTagLength {
			p.add("tagList", fmt.Sprintf("tags are at most %d characters", MaxTagLength))
			return nil
		}
		seen[t] = true
		out = append(out, t)
		if len(out) > MaxTags {
			p.add("tagList", fmt.Sprintf("has too many tags (maximum is %d)", MaxTags))
			return nil
		}
	}
	slices.Sort(out)
	return out
}

func blankToNil(s *string) *string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	return s
}
