package main

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkSharedSweep measures a real sweep's throughput on PostgreSQL with
// one, two and three `lethe serve` replicas sharing its batches: each
// configuration gets a fresh demo of LETHE_BENCH_CUSTOMERS customers
// (default 10000; about 12% are overdue), batches of LETHE_BENCH_BATCH
// (default 50), and the run's own start and finish times (the database's
// record) give customers per second (LETHE_BENCH_REPLICAS=n measures n
// replicas only). It reports the ratios of two and three
// replicas to one, measured in the same run. Replicas share the machine:
// on 2 cores, with PostgreSQL and every replica's plugins on them too, more
// replicas add concurrency, not CPU.
//
//	LETHE_TEST_POSTGRES_DSN=postgres://… go test -run '^$' -bench BenchmarkSharedSweep -benchtime 1x .
func BenchmarkSharedSweep(b *testing.B) {
	customers := envInt("LETHE_BENCH_CUSTOMERS", 10000)
	batch := envInt("LETHE_BENCH_BATCH", 50)
	for range b.N {
		var perSec [4]float64
		for n := 1; n <= 3; n++ {
			if only := envInt("LETHE_BENCH_REPLICAS", 0); only != 0 && only != n {
				continue
			}
			// The default term: nobody dies here, and on a loaded machine a
			// short one expires under a slow batch (its work is then redone).
			sw := launchSharedSweep(b, n, customers, batch, 30*time.Second)
			var status string
			var planned int
			var took float64
			waitFor(b, 10*time.Minute, "the run to finish", func() bool {
				sw.db.QueryRow(`SELECT status, customers_planned, coalesce(finished_at - started_at, 0) / 1e6 FROM retention_runs
					WHERE id = $1`, sw.run).Scan(&status, &planned, &took) //nolint:errcheck
				return status != "RUNNING"
			})
			if status != "SUCCEEDED" || took <= 0 {
				b.Fatalf("%d replicas: run %s after %.1fs", n, status, took)
			}
			perSec[n] = float64(planned) / took
			b.Logf("%d replica(s): %d customers in %.2fs = %.0f customers/s", n, planned, took, perSec[n])
			lost := 0
			for _, r := range sw.replicas {
				r.mu.Lock()
				lost += strings.Count(r.log.String(), "lost to another")
				r.mu.Unlock()
			}
			b.Logf("%d replica(s): %d batches taken over after a lost claim; batches by replica %v", n, lost, sw.batchCounts(b))
			for _, r := range sw.replicas {
				r.cmd.Process.Kill() //nolint:errcheck
				r.cmd.Wait()         //nolint:errcheck
			}
		}
		if perSec[1] > 0 {
			b.Logf("2 replicas / 1: %.2fx; 3 replicas / 1: %.2fx", perSec[2]/perSec[1], perSec[3]/perSec[1])
		}
		b.ReportMetric(perSec[1], "customers/s-1replica")
		b.ReportMetric(perSec[2], "customers/s-2replicas")
		b.ReportMetric(perSec[3], "customers/s-3replicas")
	}
}
