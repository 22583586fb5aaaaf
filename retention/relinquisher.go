package retention

import (
	"context"
	"log/slog"
	"time"
)

// Relinquisher carries out erasures and anonymisations through the journal:
// the engine (package relinquish), which plans, claims, dispatches and
// finalizes. The Service hands it the runs it starts itself (a manual
// erasure, a HIDDEN purge, a resume after a reload); the wiring (app.go)
// builds both and connects them with SetRelinquisher.
type Relinquisher interface {
	// Start begins a real run and executes it in the background.
	// Errors: BAD_USER_INPUT, CONFLICT (ErrSweepRunning).
	Start(ctx context.Context, opts RunOptions) (Run, error)
	// EraseCustomer erases one customer now, through the journal.
	EraseCustomer(ctx context.Context, id, actor string) error
}

// SetRelinquisher connects the engine the service hands erasures to.
func (s *Service) SetRelinquisher(r Relinquisher) { s.engine = r }

// relinquisher is the connected engine, or an error saying none is (a
// wiring mistake, never an input's).
func (s *Service) relinquisher() (Relinquisher, error) {
	if s.engine == nil {
		return nil, Errorf(CodeInternal, "no relinquishing engine is connected to the service")
	}
	return s.engine, nil
}

// EngineSettings is what the service's options set for the engines built
// on it (package relinquish): one set of options bounds every run.
type EngineSettings struct {
	Store      Store
	Connectors ConnectorRegistry
	Clock      Clock
	Log        *slog.Logger
	Metrics    Metrics
	Ledger     ErasureLedger
	// BatchSize, SweepMaxRate and LeaseTTL are 0 when not set (the
	// engine's defaults apply).
	BatchSize    int
	SweepMaxRate int
	LeaseTTL     time.Duration
}

// EngineSettings returns the settings for an engine built on the service.
func (s *Service) EngineSettings() EngineSettings {
	return EngineSettings{Store: s.store, Connectors: s.connectors, Clock: s.now, Log: s.log, Metrics: s.metrics, Ledger: s.ledger,
		BatchSize: s.batchSize, SweepMaxRate: s.sweepMaxRate, LeaseTTL: s.leaseTTL}
}

// RunOptions starts a run.
type RunOptions struct {
	DryRun bool
	// AsOf is the time the run acts as of; default now. A dry run may look
	// into the future; a real run may not.
	AsOf    *time.Time
	Trigger string
	Actor   string
	// PurgeRun, when set, makes this run execute the open entries of that
	// HIDDEN purge run and nothing else: it plans no due customer and
	// adopts no other open entry (an action does what it says).
	PurgeRun string
	// ResumeOnly makes this run finish the open journal entries earlier
	// runs left (after a crash, or for connectors just reloaded) and plan
	// nothing new.
	ResumeOnly bool
}

// ErrSweepRunning is returned when another sweep holds the lease.
var ErrSweepRunning = Errorf(CodeConflict, "another retention sweep is running; try again when it has finished")
