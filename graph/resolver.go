package graph

import (
	"context"
	"crypto/ed25519"
	"log/slog"

	"github.com/lethe-privacy/lethe/auditchain"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
)

// Resolver holds the dependencies of the resolvers; they only translate
// between GraphQL and retention.Service.
type Resolver struct {
	Service  *retention.Service
	Registry retention.ConnectorRegistry
	// Engine runs and lists retention sweeps.
	Engine *relinquish.Engine
	Log    *slog.Logger
	// AuditChain verifies the audit log's hash chain (the store); nil
	// answers auditVerification with INTERNAL.
	AuditChain AuditChain
	// ReloadConnectors reloads the connector plugins from the
	// configuration file (App.ReloadConnectors); nil answers
	// reloadConnectors with BAD_USER_INPUT.
	ReloadConnectors func(ctx context.Context) ([]ConnectorReloadResult, *retention.Run, error)
	// Guards says what the erasure ledger's guards found per connector;
	// nil: nothing (a process without the scheduler's audits).
	Guards ConnectorGuards
}

// ConnectorGuards reports, per connector, how many erased customers the
// residue audit found it holding again (each erased again), and the last
// canary's warning ("" when it passed or none ran).
type ConnectorGuards interface {
	ConnectorGuard(name string) (resurrected int, canaryWarning string)
}

// ConnectorReloadResult is what a reload did to one connector.
type ConnectorReloadResult struct {
	Name, PreviousVersion, Version string
	// Err is why it kept its old process; nil when reloaded.
	Err error
}

// AuditChain walks the audit log's hash chain against the installation's
// own signing key.
type AuditChain interface {
	VerifyAudit(ctx context.Context, keys ...ed25519.PublicKey) (*auditchain.Result, error)
}
