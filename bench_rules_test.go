package main

import (
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The figures of issue 18 (rules as queries): a change of a policy or of the
// data policy, both previews and the forecast, and creates during a change,
// measured through `lethe serve` over loopback. BenchmarkTable adds them to
// `make bench`; BenchmarkRulesAsQueries measures them alone on data already
// loaded (`lethe demo --lean --customers 1000000`, or 10,000,000 on
// PostgreSQL):
//
//	go test -run '^$' -bench BenchmarkRulesAsQueries -benchtime 1x . \
//	  -args -bench.rules.dir=/tmp/bench1m [-bench.rules.database=postgres://…]
var (
	rulesDir      = flag.String("bench.rules.dir", "", "BenchmarkRulesAsQueries: the data directory of a loaded demo")
	rulesDatabase = flag.String("bench.rules.database", "", "BenchmarkRulesAsQueries: the PostgreSQL URL of a loaded demo (empty: SQLite in the directory)")
	rulesLabel    = flag.String("bench.rules.label", "", "BenchmarkRulesAsQueries: how the rows name the data (e.g. \"PostgreSQL, 10M\")")
)

func BenchmarkRulesAsQueries(b *testing.B) {
	if *rulesDir == "" {
		b.Skip("set -bench.rules.dir (and -bench.rules.database) to a loaded demo")
	}
	label := *rulesLabel
	if label == "" {
		label = databaseLabel(*rulesDatabase)
	}
	printBenchRows(b, func() []benchRow {
		srv := startBenchServe(b, *rulesDir, *rulesDatabase)
		defer srv.stop()
		return rulesRows(b, srv, label)
	})
}

// rulesTimes runs op n times, one after the other, and returns the
// latencies.
func rulesTimes(b *testing.B, n int, op func(i int)) []time.Duration {
	out := make([]time.Duration, 0, n)
	for i := range n {
		t0 := time.Now()
		op(i)
		out = append(out, time.Since(t0))
	}
	return out
}

// rulesRows measures issue 18's figures against a baseline in the same run:
// the p99 of a read of one policy (one GraphQL round trip that reads one
// row) for the changes, previews and forecast; idle creates for creates
// during changes.
func rulesRows(b *testing.B, srv *serveProc, db string) []benchRow {
	base := percentile(rulesTimes(b, 100, func(int) {
		srv.gql(b, `{ retentionPolicy(name: "default") { retentionDays } }`, nil)
	}), 99)
	row := func(figure, goal string, lat []time.Duration) benchRow {
		p := percentile(lat, 99)
		return benchRow{db + ": " + figure, goal, benchMS(p) + fmt.Sprintf(" (p99 of %d)", len(lat)), benchMS(base) + " (read one policy, p99)",
			fmt.Sprintf("%.1f× the read", p.Seconds()/base.Seconds())}
	}
	idle := creates(b, srv, 100, nil)
	var changing atomic.Bool
	changing.Store(true)
	var during []time.Duration
	var wg sync.WaitGroup
	wg.Go(func() { during = creates(b, srv, 0, &changing) })
	// Changes back to back for at least 5 s (they take milliseconds now),
	// so that the creates meet many of them.
	var update, data []time.Duration
	for t0 := time.Now(); time.Since(t0) < 5*time.Second || len(update) < 20; {
		update = append(update, rulesTimes(b, 1, func(int) {
			srv.gql(b, `mutation($d: Int!) { updateRetentionPolicy(input: {name: "default", retentionDays: $d}) { version } }`,
				map[string]any{"d": []int{7, 30}[len(update)%2]})
		})...)
		data = append(data, rulesTimes(b, 1, func(int) {
			srv.gql(b, `mutation($on: Boolean!) { updateDataPolicy(input: {relinquishDeletedData: $on, relinquishAfterDays: 30, anonymiseCustomerData: true, removeCDRs: true}) { relinquishAfterDays } }`,
				map[string]any{"on": len(data)%2 == 0})
		})...)
	}
	changing.Store(false)
	wg.Wait()
	srv.gql(b, `mutation { updateRetentionPolicy(input: {name: "default", retentionDays: 30}) { version } }`, nil)
	srv.gql(b, `mutation { useDefaultDataPolicy { relinquishAfterDays } }`, nil)
	const forecast = `forecast { overdue { erase anonymise } weeks { erase anonymise } }`
	policyPreview := rulesTimes(b, 10, func(int) {
		srv.gql(b, `{ retentionPolicyUpdatePreview(input: {name: "default", retentionDays: 7}) { customersPlanned addedByChange removedByChange `+forecast+` } }`, nil)
	})
	dataPreview := rulesTimes(b, 10, func(int) {
		srv.gql(b, `{ dataPolicyPreview(input: {relinquishDeletedData: true, relinquishAfterDays: 30, anonymiseCustomerData: true, removeCDRs: true}) { customersPlanned addedByChange removedByChange `+forecast+` } }`, nil)
	})
	year := rulesTimes(b, 20, func(int) {
		srv.gql(b, `{ retentionForecast(weeks: 52) { overdue { erase anonymise } weeks { erase anonymise } } }`, nil)
	})
	pi, pd := percentile(idle, 99), percentile(during, 99)
	return []benchRow{
		row("`updateRetentionPolicy` (default 7 ↔ 30 days, back to back with the next row's)", "≤ 50 ms", update),
		row("`updateDataPolicy` (on ↔ off)", "≤ 50 ms", data),
		row("`retentionPolicyUpdatePreview` (default → 7 days, with forecast)", "≤ 200 ms", policyPreview),
		row("`dataPolicyPreview` (on, 30 days, anonymise, remove CDRs, with forecast)", "≤ 200 ms", dataPreview),
		row("`retentionForecast(weeks: 52)`", "≤ 200 ms", year),
		{db + ": creates during the changes above (1 client, 20 ms apart), p99", "≤ 50 ms",
			benchMS(pd) + fmt.Sprintf(" (%d creates)", len(during)), benchMS(pi) + " (idle, same client)", fmt.Sprintf("%.1f× idle", pd.Seconds()/pi.Seconds())},
	}
}

// creates makes customers 20 ms apart: n of them, or while *until holds.
func creates(b *testing.B, srv *serveProc, n int, until *atomic.Bool) []time.Duration {
	var out []time.Duration
	for i := 0; (until == nil && i < n) || (until != nil && until.Load()); i++ {
		t0 := time.Now()
		srv.gql(b, `mutation($n: String!) { createCustomer(input: {firstName: $n}) { id } }`, map[string]any{"n": fmt.Sprintf("Bench%d", i)})
		out = append(out, time.Since(t0))
		time.Sleep(20 * time.Millisecond)
	}
	return out
}
