package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/retention"
)

// Limits bound what one request may cost, so that a hostile or careless
// query gets a clear error instead of a slow server. Zero values take the
// defaults.
type Limits struct {
	// MaxDepth is the deepest nesting of fields (default 15: the playground's
	// introspection query needs 13; Lethe's own queries need under 8).
	MaxDepth int
	// MaxComplexity is gqlgen's complexity: one per field, lists of
	// customers and audit events multiplied by a tenth of their page size,
	// calls that reach every connector weighted 50 (default 1000).
	MaxComplexity int
	// MaxTokens bounds a document's tokens (names, punctuation, values,
	// comments), counted by gqlgen's parser before anything else (default
	// 10,000: GraphiQL's introspection query has 150, the console's
	// largest query 82; parsing 10,000 takes about a millisecond).
	MaxTokens int
	// MaxFields bounds the fields a document selects once every fragment
	// spread is replaced by its fragment (default 1,000: GraphiQL's
	// introspection query selects 181, the console's largest query 58;
	// validation's cost grows with the square of this figure, and at
	// 1,000 it takes milliseconds).
	MaxFields int
	// MaxAliases bounds the aliased fields of a document (default 100):
	// each alias runs its resolver once more, and the console uses none.
	MaxAliases int
	// MaxFragmentSpreads bounds fragment spreads, counted expanded
	// (default 200; GraphiQL's introspection query has 10): nested spreads
	// of a 1 KB document can stand for billions of fields.
	MaxFragmentSpreads int
	// MaxBodyBytes bounds a request body (default 1 MiB).
	MaxBodyBytes int64
	// RequestTimeout bounds a request's work; websocket connections are
	// exempt, their operations are not long-running reads (default 30s).
	RequestTimeout time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = 15
	}
	if l.MaxComplexity <= 0 {
		l.MaxComplexity = 1000
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = 10_000
	}
	if l.MaxFields <= 0 {
		l.MaxFields = 1000
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = 100
	}
	if l.MaxFragmentSpreads <= 0 {
		l.MaxFragmentSpreads = 200
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = 30 * time.Second
	}
	return l
}

// depthLimit refuses operations nested deeper than max, after parsing and
// validation (which bound fragments: cycles are invalid) and before any
// resolver runs.
type depthLimit struct{ max int }

var (
	_ graphql.HandlerExtension        = depthLimit{}
	_ graphql.OperationContextMutator = depthLimit{}
)

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Doc.Operations.ForName(rc.OperationName)
	if op == nil {
		return nil // gqlgen has already refused an unknown operation name
	}
	if depth := selectionDepth(op.SelectionSet, d.max+1, map[string]bool{}); depth > d.max {
		err := gqlerror.Errorf("operation is nested more than %d levels deep; ask for less at once", d.max)
		errcode.Set(err, graph.CodeDepthLimit)
		return err
	}
	return nil
}

// selectionDepth is the depth of a selection set, counting fields only
// (fragments and inline fragments add none), and stops counting at stop so
// that a deep query costs no more than the limit to refuse.
func selectionDepth(set ast.SelectionSet, stop int, visiting map[string]bool) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			d = 1
			if len(s.SelectionSet) > 0 && stop > 1 {
				d += selectionDepth(s.SelectionSet, stop-1, visiting)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, stop, visiting)
		case *ast.FragmentSpread:
			if s.Definition == nil || visiting[s.Name] {
				continue
			}
			visiting[s.Name] = true
			d = selectionDepth(s.Definition.SelectionSet, stop, visiting)
			delete(visiting, s.Name)
		}
		deepest = max(deepest, d)
		if deepest >= stop {
			return deepest
		}
	}
	return deepest
}

// limitRequest applies the body size limit and the timeout. The body is
// read here, whole and bounded, so that an oversized one is answered 413
// with a clear code instead of a decoding error; a slow sender is cut off
// by the read deadline.
func limitRequest(l Limits, write errorWriter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		deadline := time.Now().Add(l.RequestTimeout)
		// Not supported by every ResponseWriter (tests' recorders); the
		// context deadline below still bounds the work.
		_ = http.NewResponseController(w).SetReadDeadline(deadline)
		ctx, cancel := context.WithDeadline(r.Context(), deadline)
		defer cancel()
		r = r.WithContext(ctx)
		if r.ContentLength > l.MaxBodyBytes {
			tooLarge(w, write, l.MaxBodyBytes)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, l.MaxBodyBytes))
			var maxErr *http.MaxBytesError
			switch {
			case errors.As(err, &maxErr):
				tooLarge(w, write, l.MaxBodyBytes)
				return
			case err != nil:
				write(w, http.StatusBadRequest, string(retention.CodeBadUserInput), "could not read the request body: it was cut off or too slow")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter, write errorWriter, limit int64) {
	w.Header().Set("Connection", "close")
	write(w, http.StatusRequestEntityTooLarge, graph.CodeBodyTooLarge,
		fmt.Sprintf("the request body is larger than %d bytes; send a smaller query or fewer variables", limit))
}

// complexityLimit refuses operations that cost more than max, before any
// resolver runs, with the cost and the limit in extensions (clients read
// figures there, not in the message). An operation that asks with the
// request extension {"cost": true} gets its cost in the response's
// extensions too, to tune its queries against the limit.
type complexityLimit struct {
	max int
	es  graphql.ExecutableSchema
}

var (
	_ graphql.HandlerExtension        = (*complexityLimit)(nil)
	_ graphql.OperationContextMutator = (*complexityLimit)(nil)
	_ graphql.ResponseInterceptor     = (*complexityLimit)(nil)
)

// costStats is what the limit measured, kept for the response.
type costStats struct {
	Complexity int `json:"complexity"`
	Limit      int `json:"limit"`
}

const costExtension = "cost"

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Doc.Operations.ForName(rc.OperationName)
	if op == nil {
		return nil
	}
	cost := complexity.Calculate(ctx, c.es, op, rc.Variables)
	rc.Stats.SetExtension(costExtension, &costStats{Complexity: cost, Limit: c.max})
	if cost > c.max {
		err := gqlerror.Errorf("operation costs %d, more than the limit of %d; ask for fewer fields or smaller pages", cost, c.max)
		errcode.Set(err, graph.CodeComplexityLimit)
		err.Extensions["cost"] = cost
		err.Extensions["limit"] = c.max
		return err
	}
	return nil
}

func (c *complexityLimit) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || !graphql.HasOperationContext(ctx) {
		return resp
	}
	rc := graphql.GetOperationContext(ctx)
	if want, _ := rc.Extensions[costExtension].(bool); !want {
		return resp
	}
	if stats, ok := rc.Stats.GetExtension(costExtension).(*costStats); ok {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions[costExtension] = stats
	}
	return resp
}
