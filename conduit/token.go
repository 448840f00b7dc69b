package conduit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
)

// tokenIssuer is the iss claim of every token we sign and accept.
const tokenIssuer = "conduit"

// Tokens signs and verifies the HS256 JWTs that prove who a viewer is.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser
	// verified holds the viewers of the tokens verified last, until they
	// expire: a client sends its token with every request, and parsing it
	// (base64, two JSON objects, the HMAC) was 7% of the server's CPU on a
	// signed-in feed under load. A token's signature and claims say the
	// same thing every time; only the clock moves, so a token found here is
	// checked against its expiry again. Tokens that fail are not kept,
	// so keeping them costs a forger nothing to fill.
	verified *lru.Cache[string, Viewer]
}

// verifiedTokens bounds Tokens.verified: a few MiB at most.
const verifiedTokens = 8192

// NewTokens returns Tokens that sign with secret and make tokens valid for ttl.
func NewTokens(secret []byte, ttl time.Duration) *Tokens {
	verified, err := lru.New[string, Viewer](verifiedTokens)
	if err != nil {
		panic(err) // only for a size below 1
	}
	t := &Tokens{secret: secret, ttl: ttl, now: time.Now, verified: verified}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return t.now() }),
	)
	return t
}

// claims are what a token says: the registered claims, and the version
// of the user's credentials it was issued under ("ver", absent for 0).
type claims struct {
	jwt.RegisteredClaims
	Version int64 `json:"ver,omitempty"`
}

// Sign returns a token for the viewer: their user id and token version.
func (t *Tokens) Sign(v Viewer) (string, error) {
	now := t.now()
	claims := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   strconv.FormatInt(v.UserID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		},
		Version: v.TokenVersion,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", InternalError(fmt.Errorf("sign token: %w", err))
	}
	return s, nil
}

// Verify returns the viewer a token speaks for. Returns Unauthenticated if
// the token is malformed, forged, from another issuer, or expired. Whether
// its version is still current is for the Service to check.
func (t *Tokens) Verify(token string) (Viewer, error) {
	if v, ok := t.verified.Get(token); ok {
		// As the parser checks exp: valid while now is before it.
		if t.now().Before(v.ExpiresAt) {
			return v, nil
		}
		t.verified.Remove(token)
	}
	var claims claims
	_, err := t.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil {
		msg := "invalid token"
		if errors.Is(err, jwt.ErrTokenExpired) {
			msg = "token expired"
		}
		return Viewer{}, &Error{Code: Unauthenticated, Fields: map[string][]string{"token": {msg}}, Err: err}
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return Viewer{}, &Error{Code: Unauthenticated, Fields: map[string][]string{"token": {"invalid token"}}, Err: fmt.Errorf("subject %q", claims.Subject)}
	}
	if claims.Version < 0 {
		return Viewer{}, &Error{Code: Unauthenticated, Fields: map[string][]string{"token": {"invalid token"}}, Err: fmt.Errorf("version %d", claims.Version)}
	}
	v := Viewer{UserID: id, TokenVersion: claims.Version}
	if claims.ExpiresAt != nil { // always: the parser requires exp
		v.ExpiresAt = claims.ExpiresAt.Time
		// A copy, which keeps no more of the request than the token.
		t.verified.Add(strings.Clone(token), v)
	}
	return v, nil
}
