package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// BenchmarkWideningDataPolicy times, over LETHE_BENCH_CUSTOMERS demo
// customers (100,000 by default), dataPolicyPreview of a widening change
// against a dry run of the policy in force (the baseline, same data, same
// run), and the sweep that relinquishes the added category for every
// customer relinquished in part against the sweep that relinquished the
// first category.
//
//	make bench
func BenchmarkWideningDataPolicy(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("LETHE_BENCH_CUSTOMERS")); err == nil && v > 0 {
		n = v
	}
	for range b.N {
		dir := b.TempDir()
		if out, err := exec.Command(filepath.Join(binDir, "lethe"), "demo", "--data-dir", dir, "--customers", strconv.Itoa(n), "--seed", "3").CombinedOutput(); err != nil {
			b.Fatalf("demo: %v\n%s", err, out)
		}
		w := &world{dir: dir}
		w.open(b)
		ctx := context.Background()
		// Keep the retention policies from erasing anyone: only the data
		// policy acts, so both sweeps relinquish the same customers.
		long := 3650
		for _, p := range []string{retention.PolicyDefault, retention.PolicyVisit, retention.PolicyAppointment} {
			if _, err := w.svc.UpdatePolicy(ctx, p, &long, nil); err != nil {
				b.Fatal(err)
			}
		}
		cdrOnly := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 30, RemoveCDRs: true}
		both := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 30, AnonymiseCustomerData: true, RemoveCDRs: true}
		if _, err := w.svc.UpdateDataPolicy(ctx, cdrOnly); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		first, err := w.engine.Run(ctx, retention.RunOptions{Trigger: "bench"})
		firstTime := time.Since(start)
		if err != nil || first.CustomersFailed != 0 {
			b.Fatalf("first sweep: %+v %v", first, err)
		}
		// Customers on the direct policy were erased; the others were
		// relinquished in part (call records only).
		var partial int
		if err := w.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM customers WHERE erased_at IS NULL AND relinquished LIKE '%"cdr"%'`).Scan(&partial); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		dry, err := w.engine.Run(ctx, retention.RunOptions{DryRun: true})
		dryTime := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		preview, err := w.engine.PreviewDataPolicy(ctx, both, nil, "bench")
		previewTime := time.Since(start)
		if err != nil || preview.CustomersPlanned != partial {
			b.Fatalf("preview plans %d customers, the first sweep relinquished %d in part (%v)", preview.CustomersPlanned, partial, err)
		}
		if _, err := w.svc.UpdateDataPolicy(ctx, both); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		widening, err := w.engine.Run(ctx, retention.RunOptions{Trigger: "bench"})
		wideningTime := time.Since(start)
		if err != nil || widening.CustomersDone != partial || widening.CustomersFailed != 0 {
			b.Fatalf("widening sweep: %+v (relinquished in part %d) %v", widening, partial, err)
		}
		b.ReportMetric(previewTime.Seconds(), "preview_s")
		b.ReportMetric(wideningTime.Seconds(), "widening_sweep_s")
		fmt.Printf("\n%d customers, %d relinquished in part (first sweep: %d done):\n", n, partial, first.CustomersDone)
		fmt.Printf("  dataPolicyPreview (widening) %s; dry run of the policy in force %s (%d planned): ratio %.2f\n",
			previewTime.Round(time.Millisecond), dryTime.Round(time.Millisecond), dry.CustomersPlanned, previewTime.Seconds()/dryTime.Seconds())
		fmt.Printf("  widening sweep (anonymise the rest) %s; first sweep (remove CDRs) %s: ratio %.2f\n\n",
			wideningTime.Round(time.Millisecond), firstTime.Round(time.Millisecond), wideningTime.Seconds()/firstTime.Seconds())
	}
}
