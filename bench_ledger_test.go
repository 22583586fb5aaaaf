package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
)

// BenchmarkLedgerCost measures what the erasure ledger adds to a sweep:
// copies of the same demo data with every customer that can be due
// made due, swept by the same engine over the same plugin processes, once
// without the ledger and once appending every erase and anonymise to it
// (fdatasynced before each batch's commit). It prints both times and the ratio
// (goal: the ledger adds at most 10%, issue 19).
//
//	go test -run '^$' -bench BenchmarkLedgerCost -benchtime 1x -timeout 60m .
//	(LETHE_BENCH_CUSTOMERS=100000 by default)
func BenchmarkLedgerCost(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("LETHE_BENCH_CUSTOMERS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		demo := ledgerBenchDemo(b, n)
		due := 0
		// Four copies of the one demo, swept in the order plain, ledger,
		// ledger, plain: a drift of the machine's load over the run
		// weighs on both alike.
		var plain, withLedger, appending time.Duration
		var records int64
		for _, ledger := range []bool{false, true, true, false} {
			dir := b.TempDir()
			if out, err := exec.Command("cp", "-a", demo+"/.", dir).CombinedOutput(); err != nil {
				b.Fatalf("copy: %v %s", err, out)
			}
			took, done, appended, inAppend := sweepInProcess(b, dir, ledger)
			if due != 0 && done != due {
				b.Fatalf("the copies differ: %d and %d relinquished", due, done)
			}
			due = done
			if ledger {
				withLedger += took / 2
				appending += inAppend / 2
				records = appended
			} else {
				plain += took / 2
			}
		}
		ratio := withLedger.Seconds() / plain.Seconds()
		b.ReportMetric(float64(due), "due_customers")
		b.ReportMetric(plain.Seconds(), "sweep_s")
		b.ReportMetric(withLedger.Seconds(), "sweep_ledger_s")
		b.ReportMetric(ratio, "ledger_ratio")
		b.ReportMetric(appending.Seconds()/withLedger.Seconds(), "append_share")
		fmt.Printf("\nsweep of %d due customers (mean of two each, order plain, ledger, ledger, plain): without the ledger %s, with it %s (%d records appended): ratio %.3f (goal <= 1.10, issue 19)\n",
			due, plain.Round(time.Millisecond), withLedger.Round(time.Millisecond), records, ratio)
		fmt.Printf("time inside the ledger's Append (write + fdatasync, holding the batch's transaction) in the ledger sweeps: %s, %.2f%% of their time\n\n",
			appending.Round(time.Millisecond), 100*appending.Seconds()/withLedger.Seconds())
	}
}

// timedLedger sums the time spent in Append: the ledger's share of the
// sweep's critical path, measured inside the same run.
type timedLedger struct {
	l     retention.ErasureLedger
	spent time.Duration
	mu    sync.Mutex
}

func (t *timedLedger) Append(ctx context.Context, recs []retention.LedgerRecord) (retention.LedgerPosition, error) {
	start := time.Now()
	pos, err := t.l.Append(ctx, recs)
	t.mu.Lock()
	t.spent += time.Since(start)
	t.mu.Unlock()
	return pos, err
}

// ledgerBenchDemo writes demo data and makes every customer due that can
// be (policies at 0 days).
func ledgerBenchDemo(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	out, err := exec.Command(filepath.Join(binDir, "lethe"), "demo", "--data-dir", dir, "--customers", strconv.Itoa(n), "--seed", "3").CombinedOutput()
	if err != nil {
		b.Fatalf("demo: %v\n%s", err, out)
	}
	makeDue(b, dir)
	return dir
}

// sweepInProcess runs one sweep over dir with the engine the App builds,
// with or without the erasure ledger, and returns its time, the ledger
// records it appended and the time spent appending them.
func sweepInProcess(b *testing.B, dir string, withLedger bool) (time.Duration, int, int64, time.Duration) {
	b.Helper()
	ctx := context.Background()
	cfg := defaultConfig()
	cfg.DataDir, cfg.Metrics = dir, false
	cfg.Connectors.PluginDir = binDir
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := OpenApp(ctx, cfg, AppOptions{Log: log, Connectors: true})
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	opts := []retention.Option{retention.WithLogger(log)}
	timed := &timedLedger{l: app.Ledger}
	if withLedger {
		opts = append(opts, retention.WithLedger(timed))
	}
	engine := relinquish.NewEngine(app.Store, app.Registry, opts...)
	start := time.Now()
	run, err := engine.Run(ctx, retention.RunOptions{Trigger: "cli", Actor: "bench"})
	took := time.Since(start)
	if err != nil || run.Status != retention.RunSucceeded {
		b.Fatalf("sweep: %+v %v", run, err)
	}
	head, err := app.Ledger.Head()
	if err != nil {
		b.Fatal(err)
	}
	return took, run.CustomersDone, head.Seq, timed.spent
}
