package resolvers

import (
	"log/slog"
	"net/http"

	"github.com/conduit-dev/conduit/conduit"
)

// CacheSizes is what the caches of a handler hold: entries, and what they
// weigh.
type CacheSizes struct {
	QueryEntries, PersistedEntries int
	QueryBytes, PersistedBytes     int64
}

// NewHandlerWithCacheSizes is NewHandler, with a function that reports
// what the handler's caches hold.
func NewHandlerWithCacheSizes(svc *conduit.Service, logger *slog.Logger, opts Options) (http.Handler, func() CacheSizes) {
	h, c := newHandler(svc, logger, opts)
	return h, func() CacheSizes {
		var s CacheSizes
		s.QueryEntries, s.QueryBytes = c.query.size()
		s.PersistedEntries, s.PersistedBytes = c.persisted.size()
		return s
	}
}
