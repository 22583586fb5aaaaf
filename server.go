// Command lethe keeps personal data only as long as a policy allows,
// everywhere it lives.
//
//	lethe serve | sweep | migrate | demo | token | version
package main

//go:generate go run github.com/99designs/gqlgen generate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/metrics"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	err := run(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return // the flags were printed: asking for them is no failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lethe:", err)
		os.Exit(1)
	}
}

const usage = `usage: lethe <command> [flags]

commands:
  serve    serve the GraphQL API (runs pending migrations first)
  migrate  apply pending database migrations
  sweep    run one retention sweep now [--dry-run] [--as-of T]
  demo     write deterministic demo data into a data directory
  token    create, list and revoke API tokens
  audit    verify the audit log's hash chain, print its public key, sign a checkpoint
  version  print the version

Run 'lethe <command> -h' for the flags of a command.`

func run(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return errors.New("no command given")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:])
	case "migrate":
		return migrateCmd(ctx, args[1:])
	case "demo":
		return demoCmd(ctx, args[1:])
	case "sweep":
		return sweepCmd(ctx, args[1:])
	case "token":
		return tokenCmd(ctx, args[1:], os.Stdout)
	case "audit":
		return auditCmd(ctx, args[1:], os.Stdout)
	case "version", "--version", "-v":
		fmt.Println("lethe", version)
		return nil
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	}
	fmt.Fprintln(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func openStore(ctx context.Context, cfg Config) (*store.Store, error) {
	return openStoreFor(ctx, cfg, false)
}

// openStoreFor opens the store; bulk for a command that mostly writes (see
// store.Config.BulkLoad).
func openStoreFor(ctx context.Context, cfg Config, bulk bool) (*store.Store, error) {
	// A transaction left idle for half a lease term belongs to a frozen or
	// stuck process: the server ends it, so that its locks do not keep the
	// lease from changing hands.
	idle := max(cfg.Scheduler.Lease()/2, time.Second)
	s, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, Database: cfg.Database, MaxConns: cfg.DatabaseMaxConns, IdleTxTimeout: idle,
		PhoneRegion: cfg.PhoneRegion, BulkLoad: bulk})
	if err != nil {
		return nil, err
	}
	if _, err := attachAuditKey(s, cfg); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openMigratedStore opens the store and applies pending migrations, as
// every command but `migrate` itself does before it works.
func openMigratedStore(ctx context.Context, cfg Config) (*store.Store, []string, error) {
	return openMigratedStoreFor(ctx, cfg, false)
}

func openMigratedStoreFor(ctx context.Context, cfg Config, bulk bool) (*store.Store, []string, error) {
	s, err := openStoreFor(ctx, cfg, bulk)
	if err != nil {
		return nil, nil, err
	}
	applied, err := s.Migrate(ctx)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, applied, nil
}

func migrateCmd(ctx context.Context, args []string) error {
	cfg, err := loadConfig("migrate", args)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Println("database is up to date")
	}
	for _, name := range applied {
		fmt.Println("applied", name)
	}
	return nil
}

func serve(ctx context.Context, args []string) error {
	var devToken bool
	var pprofAddr string
	cfg, err := loadConfig("serve", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&devToken, "dev-admin-token", false, "development only (make run): create an admin token in the data directory and print it")
		fs.StringVar(&pprofAddr, "pprof", "", "serve Go profiles (net/http/pprof) at this address, e.g. 127.0.0.1:6060; off when empty")
	})
	if err != nil {
		return err
	}
	tuneServeGC()
	log := newLogger()
	if pprofAddr != "" {
		stopProfiles, err := serveProfiles(pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopProfiles()
	}
	s, applied, err := openMigratedStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	if len(applied) > 0 {
		log.Info("migrations applied", "migrations", applied)
	}

	manager, err := loadConnectors(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer manager.Close()

	// Connector calls are timed and counted whoever makes them.
	var registry retention.ConnectorRegistry = manager
	// The service's own runs (HIDDEN purges, manual erasures) are sized and
	// fenced like the scheduled sweeps.
	svcOpts := []retention.Option{retention.WithLogger(log), retention.WithBatchSize(cfg.Scheduler.SweepBatchSize),
		retention.WithLeaseTTL(cfg.Scheduler.Lease())}
	var m *metrics.Metrics
	if cfg.Metrics {
		m = metrics.New()
		registry = m.InstrumentConnectors(manager)
		m.WatchPlugins(manager.PIDs)
		svcOpts = append(svcOpts, retention.WithMetrics(m))
	}
	svc := retention.NewService(s, append(svcOpts, retention.WithConnectors(registry))...)
	engine := newEngine(cfg, s, registry, log, svcOpts...)
	if cfg.Sweep {
		stopScheduler, err := startScheduler(cfg, s, engine, svc, log)
		if err != nil {
			return err
		}
		defer stopScheduler()
	}
	resolver := &graph.Resolver{Service: svc, Registry: manager, Engine: engine, Log: log}
	httpServer := &http.Server{
		Addr:              cfg.Listen,
		Handler:           httpapi.NewHandler(resolver, httpOptions(cfg, s, manager, m)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	log.Info("lethe serving", "graphql", url+"/graphql", "console", url+"/console/", "playground", cfg.Playground, "database", s.Dialect(),
		"connectors", manager.Names())
	if devToken {
		token, err := ensureDevToken(ctx, svc, cfg.DataDir)
		if err != nil {
			return fmt.Errorf("development token: %w", err)
		}
		fmt.Fprint(os.Stderr, devBanner(url, token, cfg.DataDir))
	} else if cfg.Playground {
		fmt.Fprintf(os.Stderr, "\n  Lethe is running. Admin console: %s/console/\n  Playground: %s/ (paste an API token into its Token field)\n  GraphQL endpoint: %s/graphql\n\n", url, url, url)
	} else {
		fmt.Fprintf(os.Stderr, "\n  Lethe is running. Admin console: %s/console/\n  GraphQL endpoint: %s/graphql\n\n", url, url)
	}
	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return httpServer.Shutdown(shutdownCtx)
}

// A server's heap is a few megabytes that live and, under load, hundreds
// of kilobytes per request that die with it: with Go's default (collect
// when the heap has doubled) the collector ran several times a second
// under a search load, its marking about 5% of the server's CPU besides
// what it costs the requests it interrupts. Collecting when the heap has
// grown fivefold does so a fifth as often; the soft limit bounds what
// that costs in memory once the live heap is large (a long sweep): above
// it, the collector runs as often as it needs to. GOGC or GOMEMLIMIT in
// the environment override both.
const (
	serveGCPercent = 400
	serveHeapLimit = 1 << 30
)

func tuneServeGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(serveGCPercent)
	debug.SetMemoryLimit(serveHeapLimit)
}

// loadConnectors starts the configured connector plugins, or the built-in
// ones found beside the lethe binary.
func loadConnectors(ctx context.Context, cfg Config, log *slog.Logger) (*connectors.Manager, error) {
	cc := cfg.Connectors
	cc.DataDir = cfg.DataDir
	if store.IsPostgresURL(cfg.Database) {
		// Every replica's plugins must see the same stores: the built-in
		// ones live in Lethe's database (see ConnectorDSN), not in this
		// replica's data directory.
		cc.BuiltinDSN = func(name string) string { return store.ConnectorDSN(cfg.Database, name) }
	}
	if cc.PluginDir == "" {
		if exe, err := os.Executable(); err == nil {
			cc.PluginDir = filepath.Dir(exe)
		}
	}
	return connectors.Load(ctx, cc, log.With("component", "connectors"))
}

// newLogger logs JSON unless stderr is a terminal; every record made with
// a request's context carries its request id.
func newLogger() *slog.Logger {
	var h slog.Handler
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		h = slog.NewTextHandler(os.Stderr, nil)
	} else {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	return slog.New(httpapi.LogHandler(h))
}

// httpOptions wires the limits, metrics and readiness checks into the API.
func httpOptions(cfg Config, s *store.Store, manager *connectors.Manager, m *metrics.Metrics) httpapi.Options {
	opts := httpapi.Options{
		Playground: cfg.Playground,
		Limits: httpapi.Limits{MaxDepth: cfg.Limits.MaxDepth, MaxComplexity: cfg.Limits.MaxComplexity,
			MaxBodyBytes: cfg.Limits.MaxBodyBytes, RequestTimeout: cfg.Limits.RequestTimeout},
		Ready:       func(ctx context.Context) map[string]error { return readiness(ctx, s, manager) },
		CORSOrigins: cfg.CORSOrigins,
		Documents:   manager,
	}
	if m != nil {
		opts.Observer, opts.Metrics = m, m.Handler()
	}
	return opts
}

// readiness: the database answers, and every configured connector answers
// its health check.
func readiness(ctx context.Context, s *store.Store, manager *connectors.Manager) map[string]error {
	checks := map[string]error{"database": s.DB().PingContext(ctx)}
	// Connectors lists in the order of Names, also for a plugin that never
	// started (whose Info is empty).
	names := manager.Names()
	for i, c := range manager.Connectors(ctx) {
		var err error
		if !c.Healthy {
			err = fmt.Errorf("connector %s is not healthy", names[i])
		}
		checks["connector:"+names[i]] = err
	}
	return checks
}
