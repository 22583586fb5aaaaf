package httpapi

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/lethe-privacy/lethe/graph"
)

// documentLimit bounds a document before gqlgen validates it. Validation
// cannot be interrupted (gqlparser takes no context) and some of its rules
// cost the square of a selection set's size (overlapping fields: 10,000
// repeated fields took 4.6 s of CPU, 95,000 took 9 minutes) or follow every
// fragment spread (30 levels of doubled spreads: 2^30 fields). So the
// document is first parsed with a token limit, which is linear, and its
// fields, aliases and fragment spreads are counted with every spread
// replaced by its fragment, each fragment counted once (memoised), which
// is linear too; a document over a bound is refused with a code before
// any rule runs. Within the bounds validation takes milliseconds.
//
// It runs as an OperationParameterMutator, after automatic persisted
// queries have filled in the query, for HTTP and websocket alike.
type documentLimit struct {
	limits Limits
	// validated is gqlgen's cache of documents that passed validation,
	// hence these bounds: a repeated query is not parsed twice.
	validated graphql.Cache[*ast.QueryDocument]
}

var (
	_ graphql.HandlerExtension          = documentLimit{}
	_ graphql.OperationParameterMutator = documentLimit{}
)

func (documentLimit) ExtensionName() string                   { return "DocumentLimit" }
func (documentLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d documentLimit) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil // gqlgen answers a missing query (or an unknown persisted one)
	}
	if _, ok := d.validated.Get(ctx, p.Query); ok {
		return nil
	}
	if ctx.Err() != nil {
		// The request's deadline passed or its client left while it waited.
		err := gqlerror.Errorf("the request took too long and was stopped; ask for less at once")
		errcode.Set(err, graph.CodeTimeout)
		return err
	}
	return checkDocument(p.Query, d.limits)
}

// checkDocument refuses a document over a limit; a document that does
// not parse is left to gqlgen, which reports where.
func checkDocument(query string, l Limits) *gqlerror.Error {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, l.MaxTokens)
	if err != nil {
		var perr *gqlerror.Error
		if errors.As(err, &perr) && strings.HasPrefix(perr.Message, "exceeded token limit") {
			return limitError(graph.CodeTokenLimit, l.MaxTokens,
				"the document has more than %d tokens (names, punctuation, values, comments); send a smaller query", l.MaxTokens)
		}
		return nil
	}
	n := countDocument(doc)
	switch {
	case n.fields > l.MaxFields:
		return limitError(graph.CodeFieldLimit, l.MaxFields,
			"the document selects more than %d fields once its fragments are expanded; ask for less at once", l.MaxFields)
	case n.aliases > l.MaxAliases:
		return limitError(graph.CodeAliasLimit, l.MaxAliases,
			"the document has more than %d aliased fields; send fewer operations at once", l.MaxAliases)
	case n.spreads > l.MaxFragmentSpreads:
		return limitError(graph.CodeFragmentLimit, l.MaxFragmentSpreads,
			"the document spreads fragments more than %d times once they are expanded; use fewer, flatter fragments", l.MaxFragmentSpreads)
	}
	return nil
}

func limitError(code string, limit int, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, code)
	err.Extensions["limit"] = limit
	return err
}

// documentCount is what a document asks for, fragments expanded.
type documentCount struct{ fields, aliases, spreads int }

// countCap keeps counts of exponentially spreading fragments from
// overflowing: anything this large is far over every limit.
const countCap = math.MaxInt32

func (a documentCount) plus(b documentCount) documentCount {
	add := func(x, y int) int { return min(x+y, countCap) }
	return documentCount{add(a.fields, b.fields), add(a.aliases, b.aliases), add(a.spreads, b.spreads)}
}

// countDocument counts every operation with its spreads expanded, and
// every fragment no operation spreads (validation refuses those, but it
// walks them first).
func countDocument(doc *ast.QueryDocument) documentCount {
	c := fragmentCounter{defs: map[string]*ast.FragmentDefinition{}, counted: map[string]documentCount{}, busy: map[string]bool{}}
	for _, f := range doc.Fragments {
		if _, dup := c.defs[f.Name]; !dup {
			c.defs[f.Name] = f
		}
	}
	var n documentCount
	for _, op := range doc.Operations {
		n = n.plus(c.selections(op.SelectionSet))
	}
	for name := range c.defs {
		if _, reached := c.counted[name]; !reached {
			n = n.plus(c.fragment(name))
		}
	}
	return n
}

// fragmentCounter counts selection sets, each fragment once.
type fragmentCounter struct {
	defs    map[string]*ast.FragmentDefinition
	counted map[string]documentCount
	busy    map[string]bool // on the current path: a cycle, which validation refuses
}

func (c *fragmentCounter) selections(set ast.SelectionSet) documentCount {
	var n documentCount
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n.fields = min(n.fields+1, countCap)
			if s.Alias != "" && s.Alias != s.Name {
				n.aliases = min(n.aliases+1, countCap)
			}
			n = n.plus(c.selections(s.SelectionSet))
		case *ast.InlineFragment:
			n = n.plus(c.selections(s.SelectionSet))
		case *ast.FragmentSpread:
			n.spreads = min(n.spreads+1, countCap)
			n = n.plus(c.fragment(s.Name))
		}
	}
	return n
}

func (c *fragmentCounter) fragment(name string) documentCount {
	if n, ok := c.counted[name]; ok {
		return n
	}
	def := c.defs[name]
	if def == nil || c.busy[name] {
		return documentCount{}
	}
	c.busy[name] = true
	n := c.selections(def.SelectionSet)
	delete(c.busy, name)
	c.counted[name] = n
	return n
}
