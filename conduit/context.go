package conduit

import "context"

type authKey struct{}

// auth is what the authentication middleware learned from a request.
type auth struct {
	viewer Viewer
	err    error
}

// NewContextWithViewer returns a copy of ctx that carries the signed-in viewer.
func NewContextWithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, authKey{}, auth{viewer: v})
}

// NewContextWithAuthError returns a copy of ctx that records that the
// request presented a token that could not be accepted. Every service call
// made with it fails with that error, even one that allows anonymous
// callers: a client that sends a token expects it to be honoured.
func NewContextWithAuthError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, authKey{}, auth{err: err})
}

// ViewerFromContext returns the signed-in viewer, if there is one.
func ViewerFromContext(ctx context.Context) (Viewer, bool) {
	a, ok := ctx.Value(authKey{}).(auth)
	return a.viewer, ok && a.err == nil && a.viewer.UserID != 0
}

// viewerID returns the viewer's user id, 0 for an anonymous request, or the
// error of a token that was presented and refused.
func viewerID(ctx context.Context) (int64, error) {
	a, _ := ctx.Value(authKey{}).(auth)
	if a.err != nil {
		return 0, a.err
	}
	return a.viewer.UserID, nil
}

// requireViewer is viewerID for operations that anonymous callers may not use.
func requireViewer(ctx context.Context) (int64, error) {
	id, err := viewerID(ctx)
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, errAuthRequired
	}
	return id, nil
}

type clientKey struct{}

// NewContextWithClientAddress returns a copy of ctx that carries the
// network address of the client making the request (an IP address), which
// rate limits are counted against.
func NewContextWithClientAddress(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey{}, addr)
}

// ClientAddressFromContext returns the client's address, or "" if unknown.
func ClientAddressFromContext(ctx context.Context) string {
	addr, _ := ctx.Value(clientKey{}).(string)
	return addr
}

var errAuthRequired = Errorf(Unauthenticated, "authentication required")
