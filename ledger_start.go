package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/lethe-privacy/lethe/ledger"
	"github.com/lethe-privacy/lethe/metrics"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
)

// ledgerDir is where the erasure ledger lives: --ledger-dir, or "ledger" in
// the data directory (which docs/operations-backup.md tells operators to
// move to other storage).
func ledgerDir(cfg Config) string {
	if cfg.LedgerDir != "" {
		return cfg.LedgerDir
	}
	return filepath.Join(cfg.DataDir, "ledger")
}

// openLedger opens and verifies the erasure ledger: a ledger whose chain
// does not verify stops the command with an error naming the line.
func openLedger(cfg Config) (*ledger.Ledger, error) {
	return ledger.Open(ledgerDir(cfg))
}

// openLedger opens the app's ledger, and its metrics (registered when
// metrics are on).
func (a *App) openLedger() error {
	l, err := openLedger(a.Config)
	if err != nil {
		return err
	}
	a.Ledger, a.LedgerMetrics, a.guards = l, metrics.NewLedger(a.Metrics), newConnectorGuards()
	a.onClose(func() { l.Close() })
	return nil
}

// CatchUpLedger re-applies what a restored database forgot (catchUpLedger)
// with the app's engine; serve and sweep call it before anything else.
func (a *App) CatchUpLedger(ctx context.Context) error {
	return catchUpLedger(ctx, a.Store, a.Ledger, a.Engine, a.Log, a.LedgerMetrics)
}

// catchUpLedger brings a database restored from an older backup up to the
// ledger, before anything reads customers: every erase and anonymise the
// ledger records after the database's position is re-applied through the
// journal, then the position is recorded. It refuses a ledger that is
// behind the database or disagrees with it (lines removed from its end, or
// another ledger). lm may be nil.
func catchUpLedger(ctx context.Context, s *store.Store, l *ledger.Ledger, engine *relinquish.Engine, log *slog.Logger, lm *metrics.Ledger) error {
	dbPos, err := s.LedgerPosition(ctx)
	if err != nil {
		return err
	}
	head, err := l.Head()
	if err != nil {
		return err
	}
	if err := checkAgainstDatabase(l, dbPos, head); err != nil {
		return err
	}
	if head.Seq == dbPos.Seq {
		return nil
	}
	records, err := l.Since(dbPos.Seq)
	if err != nil {
		return err
	}
	log.Warn("the database is behind the erasure ledger (restored from an older backup?): relinquishing again before serving",
		"database_position", dbPos.Seq, "ledger_position", head.Seq, "records", len(records))
	domain := make([]retention.LedgerRecord, len(records))
	for i, r := range records {
		domain[i] = r.Domain()
	}
	started := time.Now()
	done, err := engine.Reapply(ctx, domain)
	if err != nil {
		return fmt.Errorf("re-applying the erasure ledger after a restore (records %d to %d): %w; nothing is served until it succeeds",
			dbPos.Seq+1, head.Seq, err)
	}
	event := retention.LedgerReapplyEvent(done, dbPos.Seq, head.Seq, len(records))
	if err := s.RecordLedgerPositionAudited(ctx, head, event); err != nil {
		return err
	}
	if lm != nil {
		lm.Reapplied(done.Run.CustomersDone)
	}
	log.Warn("erasure ledger re-applied after a restore", "run", done.Run.ID, "customers", done.Customers,
		"relinquished_again", done.Run.CustomersDone, "unknown_to_database", done.Unknown, "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// checkAgainstDatabase refuses a ledger that is behind the database, or
// whose record at the database's position is not the one it applied.
func checkAgainstDatabase(l *ledger.Ledger, dbPos, head retention.LedgerPosition) error {
	if dbPos.Seq == 0 {
		return nil
	}
	if dbPos.Seq > head.Seq {
		return &ledger.ChainError{Path: l.Path(), Line: head.Seq + 1, Reason: fmt.Sprintf(
			"missing: the database has applied %d records but the ledger ends after %d (lines were removed from its end, or this is another ledger)",
			dbPos.Seq, head.Seq)}
	}
	rec, ok, err := l.At(dbPos.Seq)
	if err != nil {
		return err
	}
	if !ok || rec.Hash != dbPos.Hash {
		return &ledger.ChainError{Path: l.Path(), Line: dbPos.Seq, Reason: "the record differs from the one the database applied (the ledger was rewritten, or this is another ledger)"}
	}
	return nil
}

// catchUpUnlessDry is CatchUpLedger for `lethe sweep`: a dry run changes
// nothing, not even that.
func (a *App) catchUpUnlessDry(ctx context.Context, dryRun bool) error {
	if dryRun {
		return nil
	}
	return a.CatchUpLedger(ctx)
}

// catchUpOnMigrate is CatchUpLedger for `lethe migrate`, which runs
// without connectors: they are started only when the database is behind
// the ledger.
func (a *App) catchUpOnMigrate(ctx context.Context) error {
	dbPos, err := a.Store.LedgerPosition(ctx)
	if err != nil {
		return err
	}
	head, err := a.Ledger.Head()
	if err != nil {
		return err
	}
	if err := checkAgainstDatabase(a.Ledger, dbPos, head); err != nil || head.Seq == dbPos.Seq {
		return err
	}
	manager, err := loadConnectors(ctx, a.Config, a.Log)
	if err != nil {
		return err
	}
	defer manager.Close()
	engine := relinquish.NewEngine(a.Store, manager, retention.WithLogger(a.Log), retention.WithLedger(a.Ledger),
		retention.WithBatchSize(a.Config.Scheduler.SweepBatchSize), retention.WithLeaseTTL(a.Config.Scheduler.Lease()))
	if err := catchUpLedger(ctx, a.Store, a.Ledger, engine, a.Log, a.LedgerMetrics); err != nil {
		return err
	}
	fmt.Printf("erasure ledger re-applied: the database was behind it (position %d, ledger %d)\n", dbPos.Seq, head.Seq)
	return nil
}
