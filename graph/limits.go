package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
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
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = 30 * time.Second
	}
	return l
}

// Codes of limit errors, in extensions.code.
const (
	CodeDepthLimit      = "DEPTH_LIMIT_EXCEEDED"
	CodeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED" // gqlgen's own
	CodeBodyTooLarge    = "REQUEST_TOO_LARGE"
	CodeTimeout         = "TIMEOUT"
	// CodeIntrospectionDisabled answers __schema and __type when the
	// playground (and with it introspection) is off.
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
)

// An operation refused for its size never ran: answer it like a
// validation error (HTTP 422), not like a resolver's error (200).
func init() {
	errcode.RegisterErrorType(CodeDepthLimit, errcode.KindProtocol)
	errcode.RegisterErrorType(CodeComplexityLimit, errcode.KindProtocol)
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
		errcode.Set(err, CodeDepthLimit)
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

// pageWeight is a tenth of a list's page size (at least one), the factor
// by which a list multiplies the cost of what it selects.
func pageWeight(first *int, def int) int {
	n := def
	if first != nil {
		n = *first
	}
	return max(1, (n+9)/10)
}

// connectorCallWeight is the cost of a field that calls every connector.
const connectorCallWeight = 50

// complexity weights the fields whose cost grows with a page or reaches
// every connector; every other field costs one plus what it selects.
func complexity() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Customers = func(child int, _ *string, first *int, _ *string) int {
		return 1 + child*pageWeight(first, 20)
	}
	c.Query.AuditLog = func(child int, first *int, _ *string, _ *string) int {
		return 1 + child*pageWeight(first, 20)
	}
	c.Query.Connectors = func(child int) int { return connectorCallWeight + child }
	c.Mutation.ExportCustomer = func(child int, _ string) int { return connectorCallWeight + child }
	c.Mutation.DeleteCustomer = func(child int, _ string) int { return connectorCallWeight + child }
	return c
}

// limitRequest applies the body size limit and the timeout. The body is
// read here, whole and bounded, so that an oversized one is answered 413
// with a clear code instead of a decoding error; a slow sender is cut off
// by the read deadline.
func limitRequest(l Limits, next http.Handler) http.Handler {
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
			tooLarge(w, l.MaxBodyBytes)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, l.MaxBodyBytes))
			var maxErr *http.MaxBytesError
			switch {
			case errors.As(err, &maxErr):
				tooLarge(w, l.MaxBodyBytes)
				return
			case err != nil:
				writeGraphQLError(w, http.StatusBadRequest, "BAD_REQUEST", "could not read the request body: it was cut off or too slow")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Connection", "close")
	writeGraphQLError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
		fmt.Sprintf("the request body is larger than %d bytes; send a smaller query or fewer variables", limit))
}
