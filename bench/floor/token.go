package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// verifier checks the tokens Conduit signs: HS256 with the shared secret,
// issuer "conduit", an expiry, and the user id as subject.
type verifier struct {
	secret []byte
	parser *jwt.Parser
}

func newVerifier(secret []byte) *verifier {
	return &verifier{secret: secret, parser: jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer("conduit"),
		jwt.WithExpirationRequired(),
	)}
}

var errScheme = errors.New("authorization: want Token <jwt> or Bearer <jwt>")

// verify returns the user id that the Authorization header value proves.
func (v *verifier) verify(header string) (int64, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !(strings.EqualFold(scheme, "Token") || strings.EqualFold(scheme, "Bearer")) {
		return 0, errScheme
	}
	var claims jwt.RegisteredClaims
	if _, err := v.parser.ParseWithClaims(strings.TrimSpace(token), &claims, v.key); err != nil {
		return 0, fmt.Errorf("verify token: %w", err)
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("verify token: subject %q is not a user id", claims.Subject)
	}
	return id, nil
}

func (v *verifier) key(*jwt.Token) (any, error) { return v.secret, nil }
