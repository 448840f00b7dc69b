package resolvers

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/conduit-dev/conduit/web"
)

// TracerName is the instrumentation scope of the GraphQL operation spans.
const TracerName = "github.com/conduit-dev/conduit/resolvers"

// maxOperationNames is how many operation names the operation metric
// keeps as label values; the names it meets after those are counted as
// "(other)". Our clients send a few dozen named operations; the bound is
// what keeps a client that names each request anew from growing the
// metric without end.
const maxOperationNames = 100

// Label values that no GraphQL name can take (names are [_A-Za-z][_0-9A-Za-z]*).
const (
	labelAnonymous = "(anonymous)"
	labelOther     = "(other)"
	// labelInvalid names a request refused before an operation was
	// chosen: a document that does not parse or validate, or an
	// operationName it does not hold.
	labelInvalid = "(invalid)"
	typeUnknown  = "(unknown)"
)

// operations observes each GraphQL operation: one span from the start of
// the request's parsing to its response, with the spans of its SQL
// statements as children, and its duration in Prometheus by operation
// name, type and outcome. It makes no span per field: a page of 20
// articles resolves hundreds of fields, and a span each would cost more
// than the fields do.
//
// Operations that run are seen by InterceptOperation; requests refused
// before they run (parse and validation errors, the document limits, the
// cost limit) reach only the response middleware, through the executor's
// DispatchError, and are seen by InterceptResponse.
type operations struct {
	tracer    trace.Tracer   // nil: no spans
	observers *web.Observers // of the duration histogram; nil: no metrics
	names     *operationNames
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = (*operations)(nil)

// newOperations returns the extension, or nil when there is nothing to
// observe with: then it is not installed and costs nothing.
func newOperations(tp trace.TracerProvider, reg prometheus.Registerer) *operations {
	if tp == nil && reg == nil {
		return nil
	}
	o := &operations{names: &operationNames{known: map[string]struct{}{}, max: maxOperationNames}}
	if tp != nil {
		o.tracer = tp.Tracer(TracerName)
	}
	if reg != nil {
		duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "conduit_graphql_operation_duration_seconds",
			Help: "Time from reading a GraphQL request to its response, by operation name (the first " +
				strconv.Itoa(maxOperationNames) + " names of valid documents, then (other)), type and outcome (error: the response has errors).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation", "type", "outcome"})
		reg.MustRegister(duration)
		o.observers = web.NewObservers(duration)
	}
	return o
}

func (*operations) ExtensionName() string                   { return "Operations" }
func (*operations) Validate(graphql.ExecutableSchema) error { return nil }

// runningKey marks the context of an operation that InterceptOperation
// observes, so that InterceptResponse leaves it alone.
type runningKey struct{}

// InterceptOperation opens the operation's span, which the resolvers and
// the statements they run see in their context, and closes it with the
// operation's (last) response.
func (o *operations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	op := opCtx.Operation // set: the document validated
	start := startOf(opCtx)
	var span trace.Span
	if o.tracer != nil {
		ctx, span = o.tracer.Start(ctx, operationSpanName(op), trace.WithTimestamp(start), trace.WithAttributes(operationAttrs(op)...))
	}
	ctx = context.WithValue(ctx, runningKey{}, true)
	responses := next(ctx)
	failed := false
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if resp != nil {
			failed = failed || len(resp.Errors) > 0
			if op.Operation == ast.Subscription {
				return resp // a subscription ends with the nil response
			}
		}
		o.done(span, op, start, failed, resp)
		return resp
	}
}

// InterceptResponse observes the requests that were refused before they
// ran; the responses of operations that run pass through untouched.
func (o *operations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if ctx.Value(runningKey{}) != nil || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	resp := next(ctx)
	opCtx := graphql.GetOperationContext(ctx)
	start := startOf(opCtx)
	var span trace.Span
	if o.tracer != nil {
		_, span = o.tracer.Start(ctx, operationSpanName(opCtx.Operation), trace.WithTimestamp(start),
			trace.WithAttributes(operationAttrs(opCtx.Operation)...))
	}
	o.done(span, opCtx.Operation, start, true, resp)
	return resp
}

// done ends the span, if there is one, and counts the operation.
func (o *operations) done(span trace.Span, op *ast.OperationDefinition, start time.Time, failed bool, resp *graphql.Response) {
	if span != nil {
		if failed {
			desc := ""
			if resp != nil && len(resp.Errors) > 0 {
				desc = resp.Errors[0].Message // as the client sees it: internal errors are masked
			}
			span.SetStatus(codes.Error, desc)
		}
		span.End()
	}
	if o.observers != nil {
		name, typ := labelInvalid, typeUnknown
		if op != nil {
			name, typ = o.names.label(op.Name), string(op.Operation)
		}
		outcome := "ok"
		if failed {
			outcome = "error"
		}
		o.observers.Of(name, typ, outcome).Observe(time.Since(start).Seconds())
	}
}

// startOf is when the transport began reading the request.
func startOf(opCtx *graphql.OperationContext) time.Time {
	if opCtx.Stats.OperationStart.IsZero() {
		return time.Now()
	}
	return opCtx.Stats.OperationStart
}

// operationSpanName names an operation's span as the semantic conventions
// have it: "query Articles", "mutation" for an anonymous one.
func operationSpanName(op *ast.OperationDefinition) string {
	switch {
	case op == nil:
		return "GraphQL Operation"
	case op.Name == "":
		return string(op.Operation)
	}
	return string(op.Operation) + " " + op.Name
}

// operationAttrs are the span's attributes. The document is left out
// (graphql.document): it may hold a password typed inline into a login
// mutation.
func operationAttrs(op *ast.OperationDefinition) []attribute.KeyValue {
	if op == nil {
		return nil
	}
	attrs := []attribute.KeyValue{semconv.GraphQLOperationTypeKey.String(string(op.Operation))}
	if op.Name != "" {
		attrs = append(attrs, semconv.GraphQLOperationName(op.Name))
	}
	return attrs
}

// operationNames hands out the label values of operation names: each name
// of a validated document is its own value until max names are known, and
// later ones share "(other)". Names of documents that did not validate
// never get here, so a stream of garbage does not fill the set; a client
// can still take the free places with valid documents of made-up names,
// which then only moves later names to "(other)".
type operationNames struct {
	mu    sync.RWMutex
	known map[string]struct{}
	max   int
}

func (n *operationNames) label(name string) string {
	if name == "" {
		return labelAnonymous
	}
	n.mu.RLock()
	_, ok := n.known[name]
	full := len(n.known) >= n.max
	n.mu.RUnlock()
	switch {
	case ok:
		return name
	case full:
		return labelOther
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.known[name]; !ok {
		if len(n.known) >= n.max {
			return labelOther
		}
		n.known[name] = struct{}{}
	}
	return name
}
