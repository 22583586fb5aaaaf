package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/store"
)

// BenchmarkSweepVsDirect compares a real sweep (`lethe sweep`: journal,
// three plugin processes over gRPC, batches) with a hand-written program
// doing the same deletes, updates and file removals directly on the same
// stores, on two copies of the same demo data with every customer that can
// be due made due. It prints both times, their ratio, and the sweep's peak
// memory at two sizes (memory must not grow with the number of customers).
//
//	make bench   (LETHE_BENCH_CUSTOMERS=100000 by default)
func BenchmarkSweepVsDirect(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("LETHE_BENCH_CUSTOMERS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		small := benchEngine(b, n/4)
		engineDir, due := benchDemo(b, n)
		directDir, due2 := benchDemo(b, n)
		if due != due2 {
			b.Fatalf("the two copies differ: %d and %d due", due, due2)
		}
		engineTime, rss := runSweep(b, engineDir)
		directTime := directSweep(b, directDir)
		b.ReportMetric(float64(due), "due_customers")
		b.ReportMetric(engineTime.Seconds(), "sweep_s")
		b.ReportMetric(directTime.Seconds(), "direct_s")
		b.ReportMetric(directTime.Seconds()/engineTime.Seconds(), "speed_ratio")
		b.ReportMetric(float64(rss)/1024, "sweep_peak_MB")
		b.ReportMetric(float64(small.rss)/1024, "sweep_peak_MB_at_quarter")
		fmt.Printf("\nsweep of %d due customers: lethe sweep %s, direct program %s, speed ratio %.2f (goal >= 0.90, issue 10)\n",
			due, engineTime.Round(time.Millisecond), directTime.Round(time.Millisecond), directTime.Seconds()/engineTime.Seconds())
		fmt.Printf("peak RSS of lethe sweep: %.1f MB for %d due customers, %.1f MB for %d\n\n",
			float64(rss)/1024, due, float64(small.rss)/1024, small.due)
	}
}

type engineResult struct {
	due int
	rss int64
}

func benchEngine(b *testing.B, n int) engineResult {
	dir, due := benchDemo(b, n)
	_, rss := runSweep(b, dir)
	return engineResult{due: due, rss: rss}
}

// benchDemo writes demo data and makes every customer due that can be
// (policies at 0 days; future appointments and open visits still defer).
func benchDemo(b *testing.B, n int) (string, int) {
	b.Helper()
	dir := b.TempDir()
	out, err := exec.Command(filepath.Join(binDir, "lethe"), "demo", "--data-dir", dir, "--customers", strconv.Itoa(n), "--seed", "3").CombinedOutput()
	if err != nil {
		b.Fatalf("demo: %v\n%s", err, out)
	}
	makeDue(b, dir)
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var due int
	if err := s.DB().QueryRowContext(ctx, "SELECT count(*) FROM customers WHERE deletion_time <= ? AND erased_at IS NULL", time.Now().UnixMicro()).Scan(&due); err != nil {
		b.Fatal(err)
	}
	return dir, due
}

// runSweep runs `lethe sweep` and returns its wall time and peak RSS (KiB).
func runSweep(b *testing.B, dir string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(filepath.Join(binDir, "lethe"), "sweep", "--data-dir", dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("sweep: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCEEDED") {
		b.Fatalf("sweep did not succeed:\n%s", out)
	}
	return elapsed, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

// directSweep is the baseline: what a hand-written program would do to
// erase the due customers, straight on the same stores with the same
// durability settings, the three connector stores in parallel.
func directSweep(b *testing.B, dir string) time.Duration {
	b.Helper()
	open := func(path, sync string) *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous("+sync+")&_txlock=immediate")
		if err != nil {
			b.Fatal(err)
		}
		return db
	}
	lethe := open(filepath.Join(dir, "lethe.db"), "FULL")
	cdr := open(filepath.Join(dir, "connectors/cdrstore/cdr.db"), "NORMAL")
	stats := open(filepath.Join(dir, "connectors/statdb/stats.db"), "NORMAL")
	invoiceDir := filepath.Join(dir, "connectors/invoicestore")
	inv := open(filepath.Join(invoiceDir, "invoices.db"), "NORMAL")
	defer func() { lethe.Close(); cdr.Close(); stats.Close(); inv.Close() }()
	ctx := context.Background()

	start := time.Now()
	now := time.Now().UnixMicro()
	rows, err := lethe.QueryContext(ctx, "SELECT id FROM customers WHERE deletion_time <= ? AND erased_at IS NULL AND (held_until IS NULL OR held_until <= ?) ORDER BY deletion_time, id", now, now)
	if err != nil {
		b.Fatal(err)
	}
	var ids []any
	for rows.Next() {
		var id string
		rows.Scan(&id) //nolint:errcheck
		ids = append(ids, id)
	}
	rows.Close()
	exec := func(db *sql.DB, stmts []string, args []any, also func(tx *sql.Tx) error) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s, args...); err != nil {
				return err
			}
		}
		return tx.Commit()
	}
	for i := 0; i < len(ids); i += 500 {
		batch := ids[i:min(i+500, len(ids))]
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(batch)), ",") + ")"
		var wg sync.WaitGroup
		errs := make([]error, 3)
		wg.Go(func() {
			errs[0] = exec(cdr, []string{"DELETE FROM cdr_records WHERE customer_id IN " + in}, batch, nil)
		})
		wg.Go(func() {
			errs[1] = exec(stats, []string{"DELETE FROM stat_visits WHERE customer_id IN " + in}, batch, nil)
		})
		wg.Go(func() {
			errs[2] = exec(inv, []string{"DELETE FROM invoice_documents WHERE customer_id IN " + in, "DELETE FROM invoice_contacts WHERE customer_id IN " + in}, batch,
				func(tx *sql.Tx) error {
					rows, err := tx.QueryContext(ctx, "SELECT file FROM invoice_documents WHERE customer_id IN "+in, batch...)
					if err != nil {
						return err
					}
					defer rows.Close()
					for rows.Next() {
						var f string
						rows.Scan(&f) //nolint:errcheck
						os.Remove(filepath.Join(invoiceDir, f))
					}
					return rows.Err()
				})
		})
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		erase := []string{
			"DELETE FROM appointments WHERE customer_id IN " + in,
			"UPDATE visits SET customer_id = NULL WHERE customer_id IN " + in,
			"UPDATE customers SET first_name = NULL, last_name = NULL, email = NULL, phone = NULL, search_words = '', erase_at = NULL, anonymise_at = NULL, deletion_time = NULL, erased_at = " + strconv.FormatInt(now, 10) + " WHERE id IN " + in,
		}
		// The search terms are personal data too: delete each (term,
		// customer) pair named by the customer's search_words.
		dropTerms := func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, "SELECT id, search_words FROM customers WHERE id IN "+in, batch...)
			if err != nil {
				return err
			}
			var pairs []any
			for rows.Next() {
				var id, words string
				if err := rows.Scan(&id, &words); err != nil {
					rows.Close()
					return err
				}
				for _, t := range strings.Fields(words) {
					pairs = append(pairs, t, id)
				}
			}
			rows.Close()
			for j := 0; j < len(pairs); j += 1000 {
				chunk := pairs[j:min(j+1000, len(pairs))]
				values := strings.TrimSuffix(strings.Repeat("(?,?),", len(chunk)/2), ",")
				if _, err := tx.ExecContext(ctx, "DELETE FROM customer_terms WHERE (term, customer_id) IN (VALUES "+values+")", chunk...); err != nil {
					return err
				}
			}
			return nil
		}
		if err := exec(lethe, erase, batch, dropTerms); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}
