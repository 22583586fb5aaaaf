package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/evidence"
	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/ledger"
	"github.com/lethe-privacy/lethe/metrics"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/scheduler"
	"github.com/lethe-privacy/lethe/store"
)

// App is one Lethe process: every part built once from the configuration,
// in dependency order, and torn down in reverse by Close. Every command and
// the tests of this package build what they need through OpenApp, so that
// a part is wired in one place only (benbjohnson/wtf's Main).
type App struct {
	Config Config
	Log    *slog.Logger

	Store *store.Store
	// AuditKey verifies the checkpoints this process signs (cmd_audit.go).
	AuditKey ed25519.PublicKey
	// Migrations lists the migrations OpenApp applied.
	Migrations []string
	// Connectors is nil unless AppOptions.Connectors.
	Connectors *connectors.Manager
	// Metrics is nil when Config.Metrics is off.
	Metrics *metrics.Metrics
	// Registry is Connectors, timed and counted when metrics are on (nil
	// without connectors): every connector call goes through it.
	Registry retention.ConnectorRegistry
	Service  *retention.Service
	// Ledger is the erasure ledger every erase and anonymise is appended
	// to (ledger_start.go); LedgerMetrics counts what its guards find.
	Ledger        *ledger.Ledger
	LedgerMetrics *metrics.Ledger
	guards        *connectorGuards
	// Engine runs sweeps; its runs, the service's own (HIDDEN purges,
	// manual erasures) and the scheduler's are sized and fenced alike.
	Engine *relinquish.Engine

	closers []func()
}

// AppOptions says which parts a command needs beyond the store and the
// service.
type AppOptions struct {
	// Log defaults to newLogger().
	Log *slog.Logger
	// Connectors starts the connector plugins.
	Connectors bool
	// BulkLoad opens the store for a command that mostly writes (see
	// store.Config.BulkLoad).
	BulkLoad bool
	// NoMigrate opens the store without applying pending migrations.
	NoMigrate bool
}

// OpenApp builds the store (migrated), the connectors when asked, the
// metrics when configured, the service and the engine. On error, what was
// built is closed again.
func OpenApp(ctx context.Context, cfg Config, opt AppOptions) (_ *App, err error) {
	a := &App{Config: cfg, Log: opt.Log}
	if a.Log == nil {
		a.Log = newLogger()
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := a.openStore(ctx, opt); err != nil {
		return nil, err
	}
	if opt.Connectors {
		if a.Connectors, err = loadConnectors(ctx, cfg, a.Log); err != nil {
			return nil, err
		}
		a.onClose(func() { a.Connectors.Close() })
		a.Registry = a.Connectors
	}
	// The service's own runs (HIDDEN purges, manual erasures) are sized and
	// fenced like the scheduled sweeps.
	opts := []retention.Option{retention.WithLogger(a.Log), retention.WithBatchSize(cfg.Scheduler.SweepBatchSize),
		retention.WithSweepMaxRate(cfg.Scheduler.SweepMaxRate),
		retention.WithLeaseTTL(cfg.Scheduler.Lease())}
	if cfg.Metrics {
		a.Metrics = metrics.New()
		opts = append(opts, retention.WithMetrics(a.Metrics))
		if a.Connectors != nil {
			// Connector calls are timed and counted whoever makes them.
			a.Registry = a.Metrics.InstrumentConnectors(a.Connectors)
			a.Metrics.WatchPlugins(a.Connectors.PIDs)
		}
	}
	if a.Registry != nil {
		opts = append(opts, retention.WithConnectors(a.Registry))
	}
	if err := a.openLedger(); err != nil {
		return nil, err
	}
	opts = append(opts, retention.WithLedger(a.Ledger))
	a.Service = retention.NewService(a.Store, opts...)
	// The service hands the runs it starts itself to an engine of its own
	// settings; the scheduler's and the API's runs go to a.Engine.
	relinquish.Connect(a.Service)
	if a.Registry != nil {
		settings := a.Service.EngineSettings()
		settings.Log = a.Log.With("component", "engine")
		a.Engine = relinquish.New(settings, a.Registry)
		// On PostgreSQL other replicas join its runs (StartScheduler).
		a.Engine.Shared = a.Store.Dialect() == store.Postgres
	}
	return a, nil
}

func (a *App) openStore(ctx context.Context, opt AppOptions) error {
	cfg := a.Config
	// A transaction left idle for half a lease term belongs to a frozen or
	// stuck process: the server ends it, so that its locks do not keep the
	// lease from changing hands.
	idle := max(cfg.Scheduler.Lease()/2, time.Second)
	s, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, Database: cfg.Database, MaxConns: cfg.DatabaseMaxConns,
		IdleTxTimeout: idle, PhoneRegion: cfg.PhoneRegion, BulkLoad: opt.BulkLoad})
	if err != nil {
		return err
	}
	a.Store = s
	a.onClose(func() { s.Close() })
	if a.AuditKey, err = attachAuditKey(s, cfg); err != nil {
		return err
	}
	if opt.NoMigrate {
		return nil
	}
	a.Migrations, err = s.Migrate(ctx)
	return err
}

func (a *App) onClose(f func()) { a.closers = append(a.closers, f) }

// Close tears the parts down in the reverse order of their making.
func (a *App) Close() {
	for _, f := range slices.Backward(a.closers) {
		f()
	}
	a.closers = nil
}

// joinEvery is how often a replica looks for a run with batches to share.
const joinEvery = 250 * time.Millisecond

// StartScheduler runs the sweep and visit clean-up jobs until Close; on
// PostgreSQL only the replica holding the leader lease runs them.
func (a *App) StartScheduler() error {
	if a.Engine == nil {
		return errors.New("the scheduler needs the connectors")
	}
	// A nil interface on SQLite, never a nil *LeaseElector in one (gocron
	// would call IsLeader on it and panic at the first job).
	var elector gocron.Elector
	if a.Store.Dialect() == store.Postgres {
		le := scheduler.NewLeaseElector(a.Store, a.Config.Scheduler.Lease())
		a.onClose(func() { le.Close() }) //nolint:errcheck
		elector = le
	}
	sched, err := scheduler.Start(a.Config.Scheduler, a.Engine, a.Service, elector, a.Log.With("component", "scheduler"))
	if err != nil {
		return err
	}
	a.onClose(func() { sched.Stop() }) //nolint:errcheck
	if a.Store.Dialect() == store.Postgres {
		// Every replica that sweeps shares the batches of a run the leader
		// started (on SQLite the one process claims them all itself).
		sched.JoinSweeps(a.Engine, joinEvery)
	}
	return errors.Join(a.scheduleResidueAudit(sched), a.scheduleCanary(sched))
}

// Handler is the HTTP API over the app's parts: GraphQL, the console,
// /export, /metrics and /readyz, with the configured limits.
func (a *App) Handler() http.Handler {
	resolver := &graph.Resolver{Service: a.Service, Registry: a.Connectors, Engine: a.Engine, Log: a.Log, Guards: a.guards, AuditChain: a.Store}
	if a.Connectors != nil {
		resolver.ReloadConnectors = a.graphReload
	}
	cfg := a.Config
	opts := httpapi.Options{
		Playground: cfg.Playground,
		Limits: httpapi.Limits{MaxDepth: cfg.Limits.MaxDepth, MaxComplexity: cfg.Limits.MaxComplexity,
			MaxBodyBytes: cfg.Limits.MaxBodyBytes, RequestTimeout: cfg.Limits.RequestTimeout},
		Ready:       a.readiness,
		CORSOrigins: cfg.CORSOrigins,
		Documents:   a.Connectors,
		Evidence:    a.EvidenceSources(),
	}
	if a.Metrics != nil {
		opts.Observer, opts.Metrics = a.Metrics, a.Metrics.Handler()
	}
	return httpapi.NewHandler(resolver, opts)
}

// Serve serves the HTTP API on ln until ctx ends, then shuts down
// gracefully.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// readiness: the database answers, and every configured connector answers
// its health check.
func (a *App) readiness(ctx context.Context) map[string]error {
	checks := map[string]error{"database": a.Store.DB().PingContext(ctx), "storage": a.Store.StorageFull(ctx)}
	if a.Connectors == nil {
		return checks
	}
	// Connectors lists in the order of Names, also for a plugin that never
	// started (whose Info is empty).
	names := a.Connectors.Names()
	for i, c := range a.Connectors.Connectors(ctx) {
		var err error
		if !c.Healthy {
			err = fmt.Errorf("connector %s is not healthy", names[i])
		}
		checks["connector:"+names[i]] = err
	}
	return checks
}

// loadConnectors starts the configured connector plugins, or the built-in
// ones found beside the lethe binary.
func loadConnectors(ctx context.Context, cfg Config, log *slog.Logger) (*connectors.Manager, error) {
	return connectors.Load(ctx, connectorsConfig(cfg), log.With("component", "connectors"))
}

// connectorsConfig is the connectors' part of cfg, completed: Lethe's data
// directory, the built-ins beside the lethe binary, and on PostgreSQL the
// built-in stores in Lethe's database.
func connectorsConfig(cfg Config) connectors.Config {
	cc := cfg.Connectors
	cc.DataDir = cfg.DataDir
	// The plugins' database sessions get the bound Lethe's own have
	// (openStore): a frozen plugin must not hold a transaction's locks.
	cc.IdleTxTimeout = max(cfg.Scheduler.Lease()/2, time.Second)
	if store.IsPostgresURL(cfg.Database) {
		// Every replica's plugins must see the same stores: the built-in
		// ones live in Lethe's database (see ConnectorDSN), not in this
		// replica's data directory.
		cc.BuiltinDSN = func(name string) string { return store.ConnectorDSN(cfg.Database, name) }
	}
	if cc.PluginDir == "" {
		cc.PluginDir = executableDir()
	}
	return cc
}

// executableDir is where the built-in plugins are installed: beside lethe.
func executableDir() string {
	if exe, err := os.Executable(); err == nil {
		return filepath.Dir(exe)
	}
	return ""
}

// EvidenceSources are the parts an evidence pack is read from
// (cmd_evidence.go, /evidence).
func (a *App) EvidenceSources() *evidence.Sources {
	src := &evidence.Sources{Service: a.Service, Chain: a.Store}
	if a.Engine != nil {
		src.Engine = a.Engine
	}
	if a.Registry != nil {
		src.Connectors = a.Registry
	}
	return src
}
