package resolvers

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/web"
)

// WriteError answers, as a GraphQL response with no data, a request to
// /graphql that the shared plumbing refused before the GraphQL handler ran:
// a panic (Internal, logged and masked), a replica too busy (Unavailable).
// The status is the error's own (500, 503), with Retry-After when it has
// one, whatever media type the client accepts: nothing was executed.
func WriteError(logger *slog.Logger) web.Fail {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		e := conduit.AsError(err)
		status := http.StatusInternalServerError
		gqlErr := &gqlerror.Error{Message: domainMessage(e), Extensions: map[string]any{"code": errorCodes[e.Code].extension}}
		switch e.Code {
		case conduit.Unavailable:
			status = http.StatusServiceUnavailable
		default:
			id := web.RequestIDFromContext(r.Context())
			logger.ErrorContext(r.Context(), "graphql: internal error", slog.String("request_id", id), slog.Any("error", err))
			gqlErr.Message = internalMessage
			gqlErr.Extensions = map[string]any{"code": errorCodes[conduit.Internal].extension, "requestId": id}
		}
		if e.RetryAfter > 0 {
			secs := max(int(e.RetryAfter.Round(time.Second)/time.Second), 1)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			gqlErr.Extensions["retryAfter"] = secs
		}
		write(w, logger, negotiate(r.Header.Get("Accept"), false), status, &response{Errors: gqlerror.List{gqlErr}})
	}
}
