package main

import (
	"flag"
	"fmt"
	"testing"
	"time"
)

var (
	sortDir      = flag.String("bench.sort.dir", "", "BenchmarkCustomerSort: the data directory of a loaded demo")
	sortDatabase = flag.String("bench.sort.database", "", "BenchmarkCustomerSort: the PostgreSQL URL of a loaded demo (empty: SQLite in the directory)")
)

// BenchmarkCustomerSort measures sorted customer lists on a loaded demo
// (make bench has the same rows):
//
//	go test -run '^$' -bench BenchmarkCustomerSort -benchtime 1x . -args -bench.sort.dir=/tmp/demo1m
func BenchmarkCustomerSort(b *testing.B) {
	if *sortDir == "" {
		b.Skip("set -bench.sort.dir (and -bench.sort.database) to a loaded demo")
	}
	printBenchRows(b, func() []benchRow {
		srv := startBenchServe(b, *sortDir, *sortDatabase)
		defer srv.stop()
		return sortRows(b, srv, databaseLabel(*sortDatabase))
	})
}

const benchSortPage = `query($q: String, $o: CustomerOrder, $after: String) {
  customers(search: $q, first: 20, orderBy: $o, after: $after) { pageInfo { endCursor } edges { node { id lastName lastInteractionAt deletionTime } } } }`

// sortPages walks pages 1 to 10 of a list walks times and returns each
// page's latency.
func sortPages(b *testing.B, srv *serveProc, search string, order map[string]any, walks int) []time.Duration {
	var out []time.Duration
	for range walks {
		var after any
		for range 10 {
			t0 := time.Now()
			r := srv.gql(b, benchSortPage, map[string]any{"q": search, "o": order, "after": after})
			out = append(out, time.Since(t0))
			after = r.Data["customers"].(map[string]any)["pageInfo"].(map[string]any)["endCursor"]
			if after == nil {
				break
			}
		}
	}
	return out
}

// sortRows measures pages 1 to 10 of the customer list in each order, p99,
// against the same pages in id order (no sort) in the same run.
func sortRows(b *testing.B, srv *serveProc, db string) []benchRow {
	sortPages(b, srv, "", nil, 2) // warm the caches
	base := percentile(sortPages(b, srv, "", nil, 20), 99)
	var rows []benchRow
	for _, field := range []string{"NAME", "LAST_INTERACTION", "DELETION_TIME"} {
		for _, dir := range []string{"ASC", "DESC"} {
			p := percentile(sortPages(b, srv, "", map[string]any{"field": field, "direction": dir}, 20), 99)
			rows = append(rows, benchRow{fmt.Sprintf("%s: customers(orderBy: %s %s) first:20, pages 1-10, p99", db, field, dir), "≤ 5 ms",
				benchMS(p), benchMS(base) + " (id order)", fmt.Sprintf("%.1f× id order", p.Seconds()/base.Seconds())})
		}
	}
	for _, search := range []string{"ma", "zoe"} {
		sbase := percentile(sortPages(b, srv, search, nil, 10), 99)
		p := percentile(sortPages(b, srv, search, map[string]any{"field": "DELETION_TIME"}, 10), 99)
		rows = append(rows, benchRow{fmt.Sprintf("%s: customers(search: %q, orderBy: DELETION_TIME) first:20, pages 1-10, p99", db, search), "≤ 5 ms",
			benchMS(p), benchMS(sbase) + " (id order)", fmt.Sprintf("%.1f× id order", p.Seconds()/sbase.Seconds())})
	}
	return rows
}
