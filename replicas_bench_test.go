package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/store/storetest"
)

// BenchmarkReplicasMixedLoad measures the API on PostgreSQL with one and
// then two `lethe serve` replicas under the same mixed load: 64 clients each
// looping over search, get, create customer, book appointment, set status
// and export, for LETHE_BENCH_SECONDS (default 20) per configuration, over
// LETHE_BENCH_CUSTOMERS demo customers (default 5000). The data policy is
// set first, so that every customer write reads a stored settings row. It
// reports writes and reads per second, p99s and errors for each, and the
// ratio of two replicas to one measured in the same run.
//
//	LETHE_TEST_POSTGRES_DSN=postgres://… go test -run '^$' -bench BenchmarkReplicasMixedLoad -benchtime 1x .
func BenchmarkReplicasMixedLoad(b *testing.B) {
	seconds := envInt("LETHE_BENCH_SECONDS", 20)
	customers := envInt("LETHE_BENCH_CUSTOMERS", 5000)
	for range b.N {
		database := storetest.PostgresDatabase(b)
		dir := b.TempDir()
		lethe(b, "demo", "--data-dir", filepath.Join(dir, "a"), "--database", database, "--customers", fmt.Sprint(customers), "--seed", "5")
		token := regexp.MustCompile(`lethe_[A-Za-z0-9_-]{43}`).FindString(
			lethe(b, "token", "create", "--database", database, "--name", "bench", "--role", "admin"))
		db, err := sql.Open("pgx", database)
		if err != nil {
			b.Fatal(err)
		}
		var ids []string
		rows, err := db.Query("SELECT id FROM customers WHERE erased_at IS NULL ORDER BY id LIMIT 2000")
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var id string
			rows.Scan(&id) //nolint:errcheck
			ids = append(ids, id)
		}
		rows.Close()
		db.Close()
		a := startReplica(b, filepath.Join(dir, "a"), database, "--sweep=false")
		urls := []string{a.serving(b)}
		if _, err := post(http.DefaultClient, urls[0], token, `mutation { updateDataPolicy(input: {relinquishDeletedData: true,
			relinquishAfterDays: 30, anonymiseCustomerData: true, removeCDRs: false}) { relinquishAfterDays } }`, nil); err != nil {
			b.Fatal(err)
		}
		one := mixedLoad(b, urls, token, ids, time.Duration(seconds)*time.Second)
		r2 := startReplica(b, filepath.Join(dir, "b"), database, "--sweep=false")
		urls = append(urls, r2.serving(b))
		two := mixedLoad(b, urls, token, ids, time.Duration(seconds)*time.Second)
		for _, r := range []struct {
			name string
			res  loadResult
		}{{"1 replica", one}, {"2 replicas", two}} {
			b.Logf("%-10s writes %7.1f/s p99 %6.1f ms | reads %7.1f/s p99 %6.1f ms | errors %d",
				r.name, r.res.writesPerSec, ms(r.res.writeP99), r.res.readsPerSec, ms(r.res.readP99), r.res.errors)
		}
		b.Logf("2 replicas / 1 replica: writes %.2f×, reads %.2f×", two.writesPerSec/one.writesPerSec, two.readsPerSec/one.readsPerSec)
		b.ReportMetric(one.writesPerSec, "writes/s-1replica")
		b.ReportMetric(two.writesPerSec, "writes/s-2replicas")
		b.ReportMetric(float64(one.errors+two.errors), "errors")
	}
}

type loadResult struct {
	writesPerSec, readsPerSec float64
	writeP99, readP99         time.Duration
	errors                    int64
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// mixedLoad runs 64 clients over the replicas (client i on replica i%n).
func mixedLoad(b *testing.B, urls []string, token string, ids []string, d time.Duration) loadResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second}
	var mu sync.Mutex
	var writes, reads []time.Duration
	var errs atomic.Int64
	var firstErr atomic.Value
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range 64 {
		wg.Go(func() {
			url := urls[c%len(urls)]
			for i := 0; time.Now().Before(stop); i++ {
				id := ids[(c*131+i*17)%len(ids)]
				var q string
				var v map[string]any
				write := true
				switch (c + i) % 6 {
				case 0:
					q, v, write = `query($s: String!) { customers(search: $s, first: 10) { edges { node { id firstName } } } }`,
						map[string]any{"s": []string{"an", "ma", "chen", "sofia"}[i%4]}, false
				case 1:
					q, v, write = `query($id: ID!) { customer(id: $id) { id deletionTime deletionReason } }`, map[string]any{"id": id}, false
				case 2:
					q, v = `mutation($n: String) { createCustomer(input: {firstName: $n}) { id deletionTime } }`, map[string]any{"n": fmt.Sprint("L", c, "-", i)}
				case 3:
					start := time.Now().Add(time.Duration(24+i%500) * time.Hour).UTC().Truncate(time.Second)
					q, v = `mutation($c: ID!, $s: Time!, $e: Time!) { bookAppointment(customerId: $c, startsAt: $s, endsAt: $e) { id } }`,
						map[string]any{"c": id, "s": start.Format(time.RFC3339), "e": start.Add(time.Hour).Format(time.RFC3339)}
				case 4:
					q, v = `mutation($c: ID!, $s: CustomerStatus!) { setCustomerStatus(id: $c, status: $s) { id } }`,
						map[string]any{"c": id, "s": []string{"ACTIVE", "CANCELLED"}[i%2]}
				case 5:
					q, v, write = `mutation($id: ID!) { exportCustomer(id: $id) { fileName } }`, map[string]any{"id": id}, false
				}
				start := time.Now()
				_, err := post(client, url, token, q, v)
				took := time.Since(start)
				if err != nil {
					// An erased customer (a sweep elsewhere) is no load error;
					// everything else is.
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				mu.Lock()
				if write {
					writes = append(writes, took)
				} else {
					reads = append(reads, took)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		b.Logf("first error: %v", e)
	}
	p99 := func(ds []time.Duration) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		return ds[len(ds)*99/100]
	}
	return loadResult{writesPerSec: float64(len(writes)) / d.Seconds(), readsPerSec: float64(len(reads)) / d.Seconds(),
		writeP99: p99(writes), readP99: p99(reads), errors: errs.Load()}
}
