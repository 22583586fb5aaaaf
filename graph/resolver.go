package graph

import (
	"log/slog"

	"github.com/lethe-privacy/lethe/retention"
)

// Resolver holds the dependencies of the resolvers; they only translate
// between GraphQL and retention.Service.
type Resolver struct {
	Service  *retention.Service
	Registry retention.ConnectorRegistry
	// Engine runs and lists retention sweeps.
	Engine *retention.Engine
	Log    *slog.Logger
}
