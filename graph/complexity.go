package graph

import (
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/lethe-privacy/lethe/graph/model"
)

// NewSchema is the executable schema with its directives (@hasRole) and
// complexity weights: what the HTTP edge serves, and what tests walk.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	return NewExecutableSchema(Config{
		Resolvers:  r,
		Directives: DirectiveRoot{HasRole: hasRole},
		Complexity: complexity(),
	})
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
	c.Query.Customers = func(child int, _ *string, first *int, _ *string, _ *model.CustomerStatus, _, _ *bool, _ *model.CustomerOrder) int {
		return 1 + child*pageWeight(first, 20)
	}
	c.Query.AuditLog = func(child int, first *int, _, _, _, _, _ *string, _, _ *time.Time, _ *string) int {
		return 1 + child*pageWeight(first, 20)
	}
	// Connections weigh like the lists they page: what they select, times a
	// tenth of the page.
	c.Query.AuditEvents = func(child int, first *int, _ *string) int {
		return 1 + child*pageWeight(first, 20)
	}
	c.Query.RetentionRunsConnection = func(child int, first *int, _ *string, _ *bool) int {
		return 1 + child*pageWeight(first, 20)
	}
	c.RetentionRun.ActionsConnection = func(child int, first *int, _ *string) int {
		return 1 + child*pageWeight(first, 100)
	}
	c.RetentionRun.FailuresConnection = func(child int, first *int, _ *string) int {
		return 1 + child*pageWeight(first, 100)
	}
	c.Query.Connectors = func(child int) int { return connectorCallWeight + child }
	c.Mutation.ExportCustomer = func(child int, _ string) int { return connectorCallWeight + child }
	c.Mutation.DeleteCustomer = func(child int, _ string) int { return connectorCallWeight + child }
	return c
}
