package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// openWorldWith opens a demo installation like newWorld, with the
// configuration changed by tune first.
func openWorldWith(t *testing.T, customers int, tune func(*Config)) *world {
	t.Helper()
	w := &world{dir: t.TempDir()}
	lethe(t, w.args("demo", "--customers", fmt.Sprint(customers), "--seed", "7")...)
	cfg := defaultConfig()
	cfg.DataDir = w.dir
	cfg.Connectors.PluginDir = binDir
	tune(&cfg)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := OpenApp(context.Background(), cfg, AppOptions{Log: log, Connectors: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	w.store, w.manager, w.svc, w.engine, w.metrics = app.Store, app.Connectors, app.Service, app.Engine, app.Metrics
	return w
}

// TestPluginFrozenMidSweep freezes a plugin (SIGSTOP, for longer than the
// run takes) while a sweep dispatches, with a call deadline of 2 s: the
// call to it fails after its deadline, its process is killed and a new
// one launched, the other connectors' work of the same batches is
// confirmed, the run ends and names the connector that timed out, nothing
// is marked done without every connector's confirmation, and the next
// sweep finishes the failed customers on the new process.
func TestPluginFrozenMidSweep(t *testing.T) {
	t.Parallel()
	const deadline = 2 * time.Second
	w := openWorldWith(t, 300, func(cfg *Config) { cfg.Connectors.CallTimeout = deadline })
	ctx := context.Background()
	if _, err := w.svc.UpdateDataPolicy(ctx, relinquishPolicy); err != nil {
		t.Fatal(err)
	}
	w.engine.BatchSize = 5
	batches, frozen := 0, 0
	w.engine.Progress = func(retention.Run) {
		batches++
		if batches == 10 { // well into the dispatch
			frozen = w.manager.PIDs()["invoicestore"]
			if frozen > 0 {
				syscall.Kill(frozen, syscall.SIGSTOP) //nolint:errcheck
			}
		}
	}
	t.Cleanup(func() {
		if frozen > 0 {
			syscall.Kill(frozen, syscall.SIGKILL) //nolint:errcheck // in case the test failed before Lethe killed it
		}
	})
	done := make(chan struct{})
	var run retention.Run
	var err error
	go func() {
		defer close(done)
		run, err = w.engine.Run(ctx, retention.RunOptions{})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Minute): // generous: the run takes seconds
		t.Fatal("the sweep is held by the frozen plugin")
	}
	if err != nil && run.ID == "" {
		t.Fatal(err)
	}
	if frozen == 0 || batches < 10 {
		t.Fatalf("the run ended after %d batches, before the freeze (pid %d)", batches, frozen)
	}
	// Killed and relaunched: a live process serves the connector now.
	if errno := syscall.Kill(frozen, 0); errno != syscall.ESRCH {
		t.Errorf("the frozen plugin process %d is still there (%v)", frozen, errno)
	}
	if pid := w.manager.PIDs()["invoicestore"]; pid == 0 || pid == frozen {
		t.Errorf("invoicestore not relaunched: pid %d, frozen %d", pid, frozen)
	}
	if run.CustomersFailed == 0 || run.Status != retention.RunFailed {
		t.Fatalf("no failure reported for the frozen plugin's batch: %+v", run)
	}
	if run.CustomersDone+run.CustomersFailed+run.CustomersSkipped != run.CustomersPlanned {
		t.Fatalf("run lost customers: %+v", run)
	}
	failures, err := w.engine.RunFailures(ctx, run.ID, nil)
	if err != nil || len(failures) == 0 {
		t.Fatalf("failures %v %v", failures, err)
	}
	for _, f := range failures {
		if !strings.Contains(f.Error, `connector "invoicestore" did not answer within 2s`) {
			t.Errorf("failure does not name the connector that timed out: %+v", f)
		}
	}
	w.checkNothingWrong(t)
	// The other connectors went on: in the failed customers' entries their
	// actions are confirmed, only invoicestore's are not.
	var othersUnconfirmed, othersConfirmed int
	err = w.store.DB().QueryRowContext(ctx, `SELECT
		count(CASE WHEN a.status <> 'confirmed' THEN 1 END), count(CASE WHEN a.status = 'confirmed' THEN 1 END)
		FROM journal_entries e JOIN journal_actions a ON a.entry_id = e.id
		WHERE e.status = 'open' AND a.connector <> 'invoicestore' AND a.operation <> 'verify'`).Scan(&othersUnconfirmed, &othersConfirmed)
	if err != nil || othersUnconfirmed != 0 || othersConfirmed == 0 {
		t.Fatalf("other connectors' actions of the failed customers: %d unconfirmed, %d confirmed (%v)", othersUnconfirmed, othersConfirmed, err)
	}
	t.Logf("run with a frozen plugin: %+v; %d failures, first: %s", run, len(failures), failures[0].Error)

	// The failed batch is retried once its backoff passed, on the new
	// process, and finishes.
	w.expireBackoff(t)
	next, err := w.engine.Run(ctx, retention.RunOptions{})
	if err != nil || next.CustomersFailed != 0 || next.CustomersDone != run.CustomersFailed {
		t.Fatalf("retry run: %+v %v", next, err)
	}
	w.checkNothingWrong(t)
}

// checkNothingWrong: no entry is done without every action confirmed, and
// no customer changed without a done entry.
func (w *world) checkNothingWrong(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var unconfirmed int
	err := w.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM journal_entries e JOIN journal_actions a ON a.entry_id = e.id
		WHERE e.status = 'done' AND a.status <> 'confirmed'`).Scan(&unconfirmed)
	if err != nil || unconfirmed != 0 {
		t.Fatalf("%d done entries have unconfirmed actions (%v)", unconfirmed, err)
	}
	var changedWithoutEntry int
	err = w.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM customers c WHERE (c.erased_at IS NOT NULL OR c.anonymised_at IS NOT NULL)
		AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.customer_id = c.id AND e.status = 'done')`).Scan(&changedWithoutEntry)
	if err != nil || changedWithoutEntry != 0 {
		t.Fatalf("%d customers changed without a done journal entry (%v)", changedWithoutEntry, err)
	}
}
