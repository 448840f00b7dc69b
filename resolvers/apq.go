package resolvers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// persistedQueries serves automatic persisted queries as Apollo's clients
// send them, with the wire behaviour of gqlgen's
// extension.AutomaticPersistedQuery: a request with
// extensions.persistedQuery {version: 1, sha256Hash} and no query runs the
// query stored under the hash, or fails with PERSISTED_QUERY_NOT_FOUND,
// which tells the client to send the query along with the hash; a request
// with both has the hash checked against the query.
//
// Unlike gqlgen's, it stores a query only once the query has been parsed
// and validated (in MutateOperationContext, which the executor calls after
// both), so the cache holds only documents that can run: a client cannot
// fill it with text that fails, and a query refused by the document
// limits never gets there. It must be used before documentLimits, whose
// work needs the query the hash stands for.
type persistedQueries struct {
	cache graphql.Cache[string]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = persistedQueries{}

// apqStatsKey is where gqlgen's extension keeps its stats, so that
// extension.GetApqStats reads ours.
const apqStatsKey = "APQ"

// ExtensionName names the extension in gqlgen's list.
func (persistedQueries) ExtensionName() string { return "AutomaticPersistedQuery" }

// Validate checks that there is a cache.
func (p persistedQueries) Validate(graphql.ExecutableSchema) error {
	if p.cache == nil {
		return errors.New("persisted queries: no cache")
	}
	return nil
}

// MutateOperationParameters puts the query a hash stands for into the
// request, or checks the hash of the query sent with it.
func (p persistedQueries) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	raw, ok := params.Extensions["persistedQuery"]
	if !ok || raw == nil {
		return nil
	}
	hash, version, ok := decodePersistedQuery(raw)
	if !ok {
		return gqlerror.Errorf("invalid APQ extension data")
	}
	if version != 1 {
		return gqlerror.Errorf("unsupported APQ version")
	}
	sent := params.Query != ""
	if sent {
		if queryHash(params.Query) != hash {
			return gqlerror.Errorf("provided APQ hash does not match query")
		}
	} else {
		params.Query, ok = p.cache.Get(ctx, hash)
		if !ok {
			err := gqlerror.Errorf("PersistedQueryNotFound")
			errcode.Set(err, "PERSISTED_QUERY_NOT_FOUND")
			return err
		}
	}
	graphql.GetOperationContext(ctx).Stats.SetExtension(apqStatsKey, &extension.ApqStats{Hash: hash, SentQuery: sent})
	return nil
}

// MutateOperationContext stores the query of a request that sent one with
// its hash: the executor calls it only for documents that parsed and
// validated.
func (p persistedQueries) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if s, ok := opCtx.Stats.GetExtension(apqStatsKey).(*extension.ApqStats); ok && s.SentQuery {
		p.cache.Add(ctx, s.Hash, opCtx.RawQuery)
	}
	return nil
}

// decodePersistedQuery reads {sha256Hash, version} as the HTTP layer
// decodes JSON (numbers as json.Number), tolerating the float64 and int of
// other decoders. Fields of other types make the extension invalid, as
// they do for gqlgen's.
func decodePersistedQuery(raw any) (hash string, version int64, ok bool) {
	m, ok := raw.(map[string]any)
	if !ok {
		return "", 0, false
	}
	if h, present := m["sha256Hash"]; present && h != nil {
		if hash, ok = h.(string); !ok {
			return "", 0, false
		}
	}
	switch v := m["version"].(type) {
	case nil:
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return "", 0, false
		}
		version = n
	case float64:
		version = int64(v)
		if float64(version) != v {
			return "", 0, false
		}
	case int:
		version = int64(v)
	case int64:
		version = v
	default:
		return "", 0, false
	}
	return hash, version, true
}

func queryHash(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}
