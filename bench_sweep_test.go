package main

import (
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The figures of issue 22: the front desk while a sweep runs. One client
// searches and another creates customers, each a request every 20 ms as a
// front desk would (not a load test), first with nothing else running, then
// during a real sweep of the overdue customers (runRetention(dryRun: false)
// through `lethe serve`); then the same sweep on a second copy of the data
// with nothing else running, for its customers per second. BenchmarkTable
// adds the rows to `make bench`; BenchmarkSweepUnderLoad measures them alone
// on a demo already loaded (a million customers take minutes to write):
//
//	go test -run '^$' -bench BenchmarkSweepUnderLoad -benchtime 1x . \
//	  -args -bench.sweepload.dir=/tmp/bench1m [-bench.sweepload.database=postgres://…/bench1m]
//
// The demo is never changed: every sweep runs on a copy (cp -a of the data
// directory; CREATE DATABASE … TEMPLATE on PostgreSQL).
var (
	sweepLoadDir      = flag.String("bench.sweepload.dir", "", "BenchmarkSweepUnderLoad: the data directory of a loaded demo (copied before each sweep)")
	sweepLoadDatabase = flag.String("bench.sweepload.database", "", "BenchmarkSweepUnderLoad: the PostgreSQL URL of a loaded demo (copied before each sweep; needs no other session on it)")
	sweepLoadServe    = flag.String("bench.sweepload.serve", "", "BenchmarkSweepUnderLoad: more flags for `lethe serve`, space-separated (e.g. --sweep-max-rate=500)")
	sweepLoadAlone    = flag.Bool("bench.sweepload.alone", true, "BenchmarkSweepUnderLoad: also time the sweep with nothing else running")
	sweepLoadDuring   = flag.Duration("bench.sweepload.during", time.Minute, "how long the front desk is measured during the sweep (0: until it ends; a paced sweep of a million customers' backlog takes many minutes)")
	sweepLoadIdle     = flag.Duration("bench.sweepload.idle", 15*time.Second, "how long the front desk is measured with nothing else running")
)

func BenchmarkSweepUnderLoad(b *testing.B) {
	if *sweepLoadDir == "" {
		b.Skip("set -bench.sweepload.dir (and -bench.sweepload.database) to a loaded demo")
	}
	printBenchRows(b, func() []benchRow {
		return sweepLoadRows(b, *sweepLoadDir, *sweepLoadDatabase, databaseLabel(*sweepLoadDatabase))
	})
}

// sweepLoadRows measures the front desk idle and during a sweep on one copy
// of the demo, and the sweep alone on another.
func sweepLoadRows(b *testing.B, dir, database, db string) []benchRow {
	busy := sweepUnderLoad(b, dir, database, true)
	var alone sweepLoad
	if *sweepLoadAlone {
		alone = sweepUnderLoad(b, dir, database, false)
	}
	ratio := func(during, idle []time.Duration, p int) float64 {
		return percentile(during, p).Seconds() / percentile(idle, p).Seconds()
	}
	phase := fmt.Sprintf("during a real sweep of %d overdue customers", busy.run.planned)
	if !busy.run.finished {
		phase = fmt.Sprintf("during the first %s of a real sweep of %d overdue customers", busy.run.took.Round(time.Second), busy.run.planned)
	}
	latency := func(what string, idle, during []time.Duration) benchRow {
		return benchRow{fmt.Sprintf("%s: %s p50 / p99, 1 client, %s", db, what, phase),
			"≤ 2× idle", fmt.Sprintf("%s / %s (%d requests)", benchMS(percentile(during, 50)), benchMS(percentile(during, 99)), len(during)),
			fmt.Sprintf("%s / %s (idle, same client)", benchMS(percentile(idle, 50)), benchMS(percentile(idle, 99))),
			fmt.Sprintf("%.1f× / %.1f× idle", ratio(during, idle, 50), ratio(during, idle, 99))}
	}
	return []benchRow{
		latency("search", busy.idleSearch, busy.search),
		latency("create customer", busy.idleCreate, busy.create),
		{fmt.Sprintf("%s: sweep of %d overdue customers, nothing else running", db, alone.run.done), "≥ 1,000 customers/s",
			fmt.Sprintf("%.0f customers/s (%s)", alone.run.rate(), alone.run.took.Round(100*time.Millisecond)),
			fmt.Sprintf("%.0f customers/s with the front desk (%d in %s; waited %.1f s for its pace)", busy.run.rate(), busy.run.done, busy.run.took.Round(100*time.Millisecond), busy.run.throttled),
			fmt.Sprintf("%.2f of goal", alone.run.rate()/1000)},
	}
}

type sweepLoad struct {
	idleSearch, idleCreate, search, create []time.Duration
	run                                    sweepOutcome
}

type sweepOutcome struct {
	planned   int
	done      int
	finished  bool
	took      time.Duration
	throttled float64
}

func (o sweepOutcome) rate() float64 { return float64(o.done) / o.took.Seconds() }

// sweepUnderLoad runs a real sweep on a copy of the demo; with the front
// desk, it measures it idle first, then for as long as the sweep runs.
func sweepUnderLoad(b *testing.B, dir, database string, frontDesk bool) sweepLoad {
	cdir, cdb := copyDemo(b, dir, database)
	srv := startBenchServe(b, cdir, cdb, strings.Fields(*sweepLoadServe)...)
	defer srv.stop()
	var res sweepLoad
	if frontDesk {
		var idle atomic.Bool
		idle.Store(true)
		time.AfterFunc(*sweepLoadIdle, func() { idle.Store(false) })
		res.idleSearch, res.idleCreate = frontDeskLoad(b, srv, &idle)
	}
	var running atomic.Bool
	running.Store(true)
	var wg sync.WaitGroup
	if frontDesk {
		wg.Go(func() { res.search, res.create = frontDeskLoad(b, srv, &running) })
	}
	limit := time.Duration(0)
	if frontDesk {
		limit = *sweepLoadDuring
	}
	res.run = runSweepAPI(b, srv, limit)
	running.Store(false)
	wg.Wait()
	return res
}

// runSweepAPI starts a real sweep through the API and follows it to its
// end, or for limit (0: to its end).
func runSweepAPI(b *testing.B, srv *serveProc, limit time.Duration) sweepOutcome {
	t0 := time.Now()
	r := srv.gql(b, `mutation { runRetention(dryRun: false) { id } }`, nil)
	id := r.Data["runRetention"].(map[string]any)["id"].(string)
	for {
		time.Sleep(250 * time.Millisecond)
		r := srv.gql(b, `query($id: ID!) { retentionRun(id: $id) { status startedAt finishedAt customersPlanned customersDone customersFailed throttledSeconds error } }`,
			map[string]any{"id": id})
		run := r.Data["retentionRun"].(map[string]any)
		out := sweepOutcome{planned: int(run["customersPlanned"].(float64)), done: int(run["customersDone"].(float64)),
			took: time.Since(t0), throttled: run["throttledSeconds"].(float64)}
		switch run["status"] {
		case "RUNNING", "PLANNED":
			if limit > 0 && out.took >= limit {
				return out
			}
			continue
		case "SUCCEEDED":
		default:
			b.Fatalf("sweep: %v", run)
		}
		started, err1 := time.Parse(time.RFC3339Nano, run["startedAt"].(string))
		finished, err2 := time.Parse(time.RFC3339Nano, run["finishedAt"].(string))
		if err1 != nil || err2 != nil || run["customersFailed"].(float64) != 0 {
			b.Fatalf("sweep: %v %v %v", run, err1, err2)
		}
		out.took, out.finished = finished.Sub(started), true
		return out
	}
}

// frontDeskLoad searches from one client and creates customers from
// another, each a request every 20 ms, while *on holds.
func frontDeskLoad(b *testing.B, srv *serveProc, on *atomic.Bool) (search, create []time.Duration) {
	terms := []string{"anna", "chen", "zoe.young1", "07700 9"}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; on.Load(); i++ {
			t0 := time.Now()
			srv.search(b, terms[i%len(terms)])
			search = append(search, time.Since(t0))
			time.Sleep(20 * time.Millisecond)
		}
	})
	wg.Go(func() {
		for i := 0; on.Load(); i++ {
			t0 := time.Now()
			srv.gql(b, `mutation($n: String!) { createCustomer(input: {firstName: $n, lastName: "Desk"}) { id } }`,
				map[string]any{"n": fmt.Sprintf("Desk%d", rand.IntN(1e9))})
			create = append(create, time.Since(t0))
			time.Sleep(20 * time.Millisecond)
		}
	})
	wg.Wait()
	return search, create
}

// copyDemo copies the demo's data directory and, on PostgreSQL, its
// database (CREATE DATABASE … TEMPLATE: nothing may be connected to it);
// both copies go when the benchmark ends.
func copyDemo(b *testing.B, dir, database string) (string, string) {
	to := filepath.Join(b.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", dir, to).CombinedOutput(); err != nil {
		b.Fatalf("copy: %v %s", err, out)
	}
	if database == "" {
		return to, ""
	}
	u, err := url.Parse(database)
	if err != nil {
		b.Fatal(err)
	}
	src := strings.TrimPrefix(u.Path, "/")
	name := fmt.Sprintf("%s_copy_%d", src, rand.Uint32())
	admin, err := sql.Open("pgx", strings.Replace(database, "/"+src, "/postgres", 1))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name + " TEMPLATE " + src); err != nil {
		admin.Close()
		b.Fatalf("copy the database %s: %v", src, err)
	}
	b.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") //nolint:errcheck
		admin.Close()
	})
	u.Path = "/" + name
	return to, u.String()
}
