package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/lethe-privacy/lethe/graph/model"
	"github.com/lethe-privacy/lethe/retention"
)

// domainRole maps the schema's Role to retention's.
func domainRole(r model.Role) retention.Role {
	switch r {
	case model.RoleViewer:
		return retention.RoleViewer
	case model.RoleOperator:
		return retention.RoleOperator
	case model.RoleAdmin:
		return retention.RoleAdmin
	}
	return ""
}

// hasRole implements @hasRole: the one place where fields are authorized.
// It runs before the resolver, so a refused mutation changes nothing.
func hasRole(ctx context.Context, _ any, next graphql.Resolver, role model.Role) (any, error) {
	if err := RequireRole(ctx, domainRole(role)); err != nil {
		return nil, err
	}
	return next(ctx)
}

// RequireRole answers UNAUTHENTICATED without an actor and FORBIDDEN when
// the actor's role does not include need. Resolvers call it only to narrow
// a field's @hasRole by an argument (see the directive's comment); the
// HTTP edge calls it for the routes that are not GraphQL (/export).
func RequireRole(ctx context.Context, need retention.Role) error {
	a, ok := retention.ActorFrom(ctx)
	if !ok {
		return retention.Errorf(retention.CodeUnauthenticated, "no API token: send Authorization: Bearer <token>")
	}
	if !a.Role.Allows(need) {
		return retention.Errorf(retention.CodeForbidden, "the %s role of token %q does not allow this; it needs %s", a.Role, a.Name, need)
	}
	return nil
}
