package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// The figures of issue 10 in one table: `make bench` (BENCH_CUSTOMERS,
// default 20000, a few minutes; the goals are for 1,000,000:
// `make bench BENCH_CUSTOMERS=1000000 BENCH_SECONDS=60`).
var (
	benchCustomers = flag.Int("bench.customers", 20000, "demo customers for BenchmarkTable")
	benchSeconds   = flag.Int("bench.seconds", 5, "seconds of each load phase of BenchmarkTable")
	benchDir       = flag.String("bench.dir", "", "measure on this existing SQLite demo data directory instead of running "+
		"`lethe demo` (a million customers take minutes to write); it is changed: customers are added")
	benchPprof    = flag.String("bench.pprof", "", "serve Go profiles of the measured `lethe serve` at this address (its --pprof)")
	benchSweep    = flag.Bool("bench.sweep", true, "also time `lethe sweep` of every due customer against the hand-written program")
	benchServeLog = flag.String("bench.serve.log", "", "append the log of every measured `lethe serve` to this file")
	benchOut      = flag.String("bench.out", "", "also write the table, with the date, the machine and the command, to this Markdown file (make bench: docs/figures.md)")
)

type benchRow struct {
	figure, goal, measured, baseline, ratio string
}

// BenchmarkTable runs `lethe demo`, `lethe serve` and `lethe sweep` as a
// user would, measures each figure of issue 10 against its baseline in the
// same run, and prints one table; again on PostgreSQL when
// LETHE_TEST_POSTGRES_DSN is set.
func BenchmarkTable(b *testing.B) {
	for i := 0; i < b.N; i++ {
		start, loadStart := time.Now().UTC(), loadAverage()
		rows := benchTable(b, "")
		if os.Getenv(storetest.PostgresEnv) != "" {
			rows = append(rows, benchTable(b, storetest.PostgresDatabase(b))...)
		}
		table := benchMarkdown(rows)
		fmt.Printf("\n%d customers; load average at the end: %s\n%s\n", *benchCustomers, loadAverage(), table)
		if *benchOut != "" {
			if err := os.WriteFile(*benchOut, []byte(figuresPage(start, loadStart, table)), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// databaseLabel names the database of a demo in a benchmark's rows.
func databaseLabel(database string) string {
	if database != "" {
		return "PostgreSQL"
	}
	return "SQLite"
}

// printBenchRows runs rows once per iteration and prints its table with the
// load average before and after, as every benchmark of a loaded demo does.
func printBenchRows(b *testing.B, rows func() []benchRow) {
	for range b.N {
		start := loadAverage()
		table := rows()
		fmt.Printf("\nload average at the start: %s; at the end: %s\n%s\n", start, loadAverage(), benchMarkdown(table))
	}
}

func loadAverage() string {
	load, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " ")
}

func benchMarkdown(rows []benchRow) string {
	var sb strings.Builder
	sb.WriteString("| figure | goal | measured | baseline (same run) | ratio |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s |\n", r.figure, r.goal, r.measured, r.baseline, r.ratio)
	}
	return sb.String()
}

// figuresPage is docs/figures.md: the one current table, with what it
// was measured on. Earlier tables are in the file's git history.
func figuresPage(start time.Time, loadStart, table string) string {
	cpu := "unknown CPU"
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(info); m != nil {
			cpu = string(m[1])
		}
	}
	command := fmt.Sprintf("make bench BENCH_CUSTOMERS=%d BENCH_SECONDS=%d", *benchCustomers, *benchSeconds)
	if extra := os.Getenv("BENCH_ARGS"); extra != "" {
		command += " BENCH_ARGS='" + extra + "'"
	}
	databases := "SQLite"
	if os.Getenv(storetest.PostgresEnv) != "" {
		databases = "SQLite and PostgreSQL (" + storetest.PostgresEnv + " set)"
	}
	return fmt.Sprintf(`# Figures

Written by `+"`make bench`"+` (BenchmarkTable in bench_table_test.go): it runs `+"`lethe demo`"+`,
`+"`lethe serve`"+` and `+"`lethe sweep`"+` as a user would and measures each figure against its
goal and, where there is one, a baseline measured in the same run (a bare `+"`net/http`"+`
handler running the store's search on the same file; a hand-written sweep program on a copy
of the same data). The goals are for 1,000,000 customers (`+"`make bench BENCH_CUSTOMERS=1000000 BENCH_SECONDS=60`"+`).
Earlier tables, with what changed between them, are in this file's git history.

- date: %s
- machine: %s, %d CPUs (`+"`nproc`"+`), %s/%s
- command: `+"`%s`"+`
- databases: %s
- load average (1, 5, 15 min) at the start: %s; at the end: %s

%s`, start.Format(time.RFC3339), cpu, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, command, databases, loadStart, loadAverage(), table)
}

func benchTable(b *testing.B, database string) []benchRow {
	db := "SQLite"
	if database != "" {
		db = "PostgreSQL"
	}
	n := *benchCustomers
	dir := b.TempDir()
	var rows []benchRow
	// Each row is printed as soon as it is measured too, so that a failure
	// later in a long run keeps what was measured.
	add := func(rs ...benchRow) {
		for _, r := range rs {
			fmt.Printf("measured: | %s | %s | %s | %s | %s |\n", r.figure, r.goal, r.measured, r.baseline, r.ratio)
		}
		rows = append(rows, rs...)
	}
	if *benchDir != "" && database == "" {
		dir = *benchDir
		add(demoRows(b, dir, database, n, false)...)
	} else {
		add(demoRows(b, dir, database, n, true)...)
	}
	// Issue 22: the front desk idle and during a real sweep, and the sweep
	// alone, each on a copy of the demo as it was written.
	add(sweepLoadRows(b, dir, database, db)...)

	srv := startBenchServe(b, dir, database)
	defer srv.stop()
	bare := startBareSearch(b, dir, database)
	defer bare.Close()

	terms := []string{"anna", "chen", "ma", "m", "fischer anna", "07700 9", "zoe.young1"}
	for _, term := range terms {
		lat := make([]time.Duration, 0, 200)
		for range 200 {
			t0 := time.Now()
			srv.search(b, term)
			lat = append(lat, time.Since(t0))
		}
		blat := make([]time.Duration, 0, 200)
		for range 200 {
			t0 := time.Now()
			bare.search(b, term)
			blat = append(blat, time.Since(t0))
		}
		p, bp := percentile(lat, 99), percentile(blat, 99)
		add(benchRow{fmt.Sprintf("%s: search %q first:10 with totalCount, 1 client, p99", db, term), "≤ 5 ms",
			benchMS(p), benchMS(bp) + " (bare handler)", fmt.Sprintf("%.2f× bare", bp.Seconds()/p.Seconds())})
	}

	// Sorted lists (issue 24): pages 1-10 in each order against id order.
	add(sortRows(b, srv, db)...)

	// 32 clients, rare terms: throughput against the bare handler.
	rare := []string{"zoe.young1", "anna.abbott2", "chen.wong3", "07700 912", "maria.rossi4", "leo.kim5"}
	phase := time.Duration(*benchSeconds) * time.Second
	lethe, base := interleavedThroughput(32, phase,
		func(r *rand.Rand) error { return srv.searchErr(rare[r.IntN(len(rare))]) },
		func(r *rand.Rand) error { return bare.searchErr(rare[r.IntN(len(rare))]) })
	add(benchRow{db + ": search, 32 clients, rare terms, throughput", "≥ 0.8× bare",
		fmt.Sprintf("%.0f req/s", lethe), fmt.Sprintf("%.0f req/s", base), fmt.Sprintf("%.2f× bare", lethe/base)})

	// 64 clients, mixed.
	reads, writes, errs, first := srv.mixed(b, 64, phase, terms)
	add(
		benchRow{fmt.Sprintf("%s: 64 clients × %s mixed, reads p99 (search, get)", db, phase), "≤ 50 ms", benchMS(percentile(reads, 99)),
			"—", fmt.Sprintf("%d reads", len(reads))},
		benchRow{db + ": same, writes p99 (create, book, status, export)", "≤ 250 ms", benchMS(percentile(writes, 99)),
			"—", fmt.Sprintf("%d writes", len(writes))},
		benchRow{db + ": same, errors", "0", strconv.Itoa(int(errs)), "—", first})

	// Repeated exports of one customer.
	id := srv.firstCustomer(b)
	var early, late []time.Duration
	for i := range 400 {
		t0 := time.Now()
		srv.gql(b, `mutation($id: ID!) { exportCustomer(id: $id) { fileName data } }`, map[string]any{"id": id})
		d := time.Since(t0)
		if i < 20 {
			early = append(early, d)
		} else if i >= 380 {
			late = append(late, d)
		}
	}
	e, l := percentile(early, 50), percentile(late, 50)
	add(benchRow{db + ": export p50, exports 381-400 of one customer", "≤ 1.25× the first 20", benchMS(l), benchMS(e) + " (first 20)",
		fmt.Sprintf("%.2f×", l.Seconds()/e.Seconds())})

	// Issue 18: changes, previews and the forecast as range counts.
	add(rulesRows(b, srv, db)...)

	// A change of the default policy at this size, while 8 clients write:
	// the mutation answers once every schedule is recomputed (in chunks),
	// and no write may wait long behind it.
	total, worst, nw, werrs := srv.policyChangeUnderWrites(b, 8, ids(srv, b))
	add(
		benchRow{db + ": `updateRetentionPolicy` (default policy) total", fmt.Sprintf("≤ %.2f s (5 s per 1M)", 5*float64(n)/1e6),
			total.Round(time.Millisecond).String(), "—", fmt.Sprintf("%.2f of goal", total.Seconds()/(5*float64(n)/1e6))},
		benchRow{db + ": same, longest write of 8 clients meanwhile", "≤ 100 ms", benchMS(worst), "—", fmt.Sprintf("%d writes, %d errors", nw, werrs)})
	srv.stop()
	bare.Close()

	if database == "" && *benchSweep {
		// The sweep against a hand-written program, on two copies.
		a, c := filepath.Join(b.TempDir(), "a"), filepath.Join(b.TempDir(), "c")
		for _, to := range []string{a, c} {
			if out, err := exec.Command("cp", "-a", dir, to).CombinedOutput(); err != nil {
				b.Fatalf("copy: %v %s", err, out)
			}
			makeDue(b, to)
		}
		sweepTime, _ := runSweep(b, a)
		directTime := directSweep(b, c)
		add(benchRow{db + ": `lethe sweep` of every due customer vs the hand-written program", "≥ 0.9×",
			sweepTime.Round(time.Millisecond).String(), directTime.Round(time.Millisecond).String(),
			fmt.Sprintf("%.2f×", directTime.Seconds()/sweepTime.Seconds())})
	}
	return rows
}

// demoRows runs `lethe demo` into dir and reports its time and peak memory
// (run false: dir already holds the demo data, counted instead).
func demoRows(b *testing.B, dir, database string, n int, run bool) []benchRow {
	db := "SQLite"
	if database != "" {
		db = "PostgreSQL"
	}
	if !run {
		return []benchRow{{db + ": `lethe demo`", "—", "not run: measured on " + dir, "—", "—"}}
	}
	var rows []benchRow
	// Demo: wall time and peak memory.
	args := []string{"demo", "--data-dir", dir, "--customers", strconv.Itoa(n), "--seed", "3"}
	if database != "" {
		args = append(args, "--database", database)
	}
	cmd := exec.Command(filepath.Join(binDir, "lethe"), args...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("demo: %v\n%s", err, out)
	}
	demoTime := time.Since(start)
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss / 1024
	scaled := 60 * float64(n) / 1e6
	rows = append(rows,
		benchRow{db + ": `lethe demo --customers " + strconv.Itoa(n) + "` time", fmt.Sprintf("≤ %.1f s (60 s per 1M)", scaled),
			demoTime.Round(10 * time.Millisecond).String(), "—", fmt.Sprintf("%.2f of goal", demoTime.Seconds()/scaled)},
		benchRow{db + ": `lethe demo` peak RSS", "≤ 500 MB", fmt.Sprintf("%d MB", rss), "—", "—"})

	return rows
}

func benchMS(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func throughput(clients int, d time.Duration, op func(r *rand.Rand) error) float64 {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for time.Now().Before(deadline) {
				if op(r) == nil {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// interleavedThroughput measures a and b in alternating one-second slices
// for d each, so that a machine whose load changes during the phase (it is
// shared) weighs on both alike.
func interleavedThroughput(clients int, d time.Duration, a, b func(r *rand.Rand) error) (float64, float64) {
	slice := min(time.Second, d)
	var na, nb float64
	for done := time.Duration(0); done < d; done += slice {
		na += throughput(clients, slice, a) * slice.Seconds()
		nb += throughput(clients, slice, b) * slice.Seconds()
	}
	return na / d.Seconds(), nb / d.Seconds()
}

// makeDue sets the automatic policies to 0 days: every customer is due
// that can be (future appointments and open visits still defer).
func makeDue(b *testing.B, dir string) {
	ctx := context.Background()
	app := openApp(b, dir, "", false)
	defer app.Close() // before the benchmark's own server opens the directory
	svc := app.Service
	zero := 0
	for _, p := range []string{retention.PolicyDefault, retention.PolicyVisit, retention.PolicyAppointment} {
		if _, err := svc.UpdatePolicy(ctx, p, &zero, nil); err != nil {
			b.Fatal(err)
		}
	}
}

type serveProc struct {
	cmd    *exec.Cmd
	url    string
	token  string
	client *http.Client
	once   sync.Once
}

var tokenPattern = regexp.MustCompile(`lethe_[A-Za-z0-9_-]{43}`)

func freePort(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// extra are more flags for lethe serve.
func startBenchServe(b *testing.B, dir, database string, extra ...string) *serveProc {
	where := []string{"--data-dir", dir}
	if database != "" {
		where = append(where, "--database", database)
	}
	out, err := exec.Command(filepath.Join(binDir, "lethe"), append([]string{"token", "create", "--name", fmt.Sprintf("bench-%d", time.Now().UnixNano()), "--role", "admin"}, where...)...).CombinedOutput()
	token := tokenPattern.FindString(string(out))
	if err != nil || token == "" {
		b.Fatalf("token: %v\n%s", err, out)
	}
	addr := freePort(b)
	args := append([]string{"serve", "--listen", addr, "--sweep=false", "--max-complexity", "100000", "--pprof", *benchPprof}, where...)
	cmd := exec.Command(filepath.Join(binDir, "lethe"), append(args, extra...)...)
	cmd.Stderr = nil
	if *benchServeLog != "" {
		f, err := os.OpenFile(*benchServeLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close() // the child has its own copy
		cmd.Stderr = f
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &serveProc{cmd: cmd, url: "http://" + addr, token: token,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 10 * time.Minute}}
	for i := 0; ; i++ {
		if resp, err := p.client.Get(p.url + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 600 {
			p.stop()
			b.Fatal("lethe serve did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

func (p *serveProc) stop() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		p.cmd.Wait()                          //nolint:errcheck
	})
}

type gqlResult struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

func (p *serveProc) do(query string, vars map[string]any) (gqlResult, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, p.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return gqlResult{}, err
	}
	defer resp.Body.Close()
	var r gqlResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return r, err
	}
	if len(r.Errors) > 0 {
		return r, fmt.Errorf("%s", r.Errors[0].Message)
	}
	return r, nil
}

func (p *serveProc) gql(b *testing.B, query string, vars map[string]any) gqlResult {
	r, err := p.do(query, vars)
	if err != nil {
		b.Fatalf("%s: %v", query, err)
	}
	return r
}

const benchSearch = `query($q: String) { customers(search: $q, first: 10) { totalCount edges { node { id firstName lastName email } } } }`

func (p *serveProc) search(b *testing.B, q string) { p.gql(b, benchSearch, map[string]any{"q": q}) }

func (p *serveProc) searchErr(q string) error {
	_, err := p.do(benchSearch, map[string]any{"q": q})
	return err
}

func (p *serveProc) firstCustomer(b *testing.B) string {
	r := p.gql(b, `{ customers(search: "anna", first: 1) { edges { node { id } } } }`, nil)
	return r.Data["customers"].(map[string]any)["edges"].([]any)[0].(map[string]any)["node"].(map[string]any)["id"].(string)
}

func (p *serveProc) mixed(b *testing.B, clients int, d time.Duration, terms []string) (reads, writes []time.Duration, errs int64, first string) {
	r := p.gql(b, `{ customers(first: 100) { edges { node { id } } } }`, nil)
	var ids []string
	for _, e := range r.Data["customers"].(map[string]any)["edges"].([]any) {
		ids = append(ids, e.(map[string]any)["node"].(map[string]any)["id"].(string))
	}
	var mu sync.Mutex
	var nerr atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			var myReads, myWrites []time.Duration
			for i := 0; time.Now().Before(deadline); i++ {
				id := ids[rng.IntN(len(ids))]
				t0 := time.Now()
				var err error
				write := true
				switch rng.IntN(6) {
				case 0:
					write = false
					_, err = p.do(benchSearch, map[string]any{"q": terms[rng.IntN(len(terms))]})
				case 1:
					write = false
					_, err = p.do(`query($id: ID!) { customer(id: $id) { id firstName deletionTime deletionReason } }`, map[string]any{"id": id})
				case 2:
					_, err = p.do(`mutation($n: String) { createCustomer(input: { firstName: $n, lastName: "Load" }) { id } }`,
						map[string]any{"n": fmt.Sprintf("Bench%d", rng.IntN(1e6))})
				case 3:
					at := time.Now().Add(time.Duration(24+rng.IntN(1000)) * time.Hour).UTC().Truncate(time.Minute)
					_, err = p.do(`mutation($id: ID!, $s: Time!, $e: Time!) { bookAppointment(customerId: $id, startsAt: $s, endsAt: $e) { id } }`,
						map[string]any{"id": id, "s": at.Format(time.RFC3339), "e": at.Add(time.Hour).Format(time.RFC3339)})
				case 4:
					_, err = p.do(`mutation($id: ID!) { setCustomerStatus(id: $id, status: ACTIVE) { id } }`, map[string]any{"id": id})
				case 5:
					_, err = p.do(`mutation($id: ID!) { exportCustomer(id: $id) { fileName } }`, map[string]any{"id": id})
				}
				el := time.Since(t0)
				if err != nil && !strings.Contains(err.Error(), "erased") && !strings.Contains(err.Error(), "no customer") {
					if nerr.Add(1) == 1 {
						mu.Lock()
						first = err.Error()
						mu.Unlock()
					}
				}
				if write {
					myWrites = append(myWrites, el)
				} else {
					myReads = append(myReads, el)
				}
			}
			mu.Lock()
			reads, writes = append(reads, myReads...), append(writes, myWrites...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return reads, writes, nerr.Load(), first
}

// bareSearch is the baseline of search: a plain net/http handler running
// the store's search (the same SQL on the same database) with no GraphQL,
// no token and no service layer.
type bareSearch struct {
	srv    *http.Server
	st     *store.Store
	url    string
	client *http.Client
}

func startBareSearch(b *testing.B, dir, database string) *bareSearch {
	st, err := store.Open(context.Background(), store.Config{DataDir: dir, Database: database})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, err := st.SearchCustomers(r.Context(), retention.SearchQuery{Text: r.URL.Query().Get("q"),
			Fields: retention.AllFields, First: 10, Count: true})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		type node struct {
			ID                         string
			FirstName, LastName, Email *string
		}
		out := struct {
			Total int
			Nodes []node
		}{Total: page.TotalCount}
		for _, c := range page.Customers {
			out.Nodes = append(out.Nodes, node{c.ID, c.FirstName, c.LastName, c.Email})
		}
		json.NewEncoder(w).Encode(out) //nolint:errcheck
	})
	bs := &bareSearch{srv: &http.Server{Handler: h}, st: st, url: "http://" + ln.Addr().String(),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}}
	go bs.srv.Serve(ln) //nolint:errcheck
	return bs
}

func (s *bareSearch) searchErr(q string) error {
	resp, err := s.client.Get(s.url + "/?q=" + urlQuery(q))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("bare search: %d %v", resp.StatusCode, err)
	}
	return nil
}

func (s *bareSearch) search(b *testing.B, q string) {
	if err := s.searchErr(q); err != nil {
		b.Fatal(err)
	}
}

func (s *bareSearch) Close() {
	s.srv.Close()
	s.st.Close()
}

func urlQuery(q string) string {
	return strings.NewReplacer(" ", "%20", "+", "%2B", "@", "%40").Replace(q)
}

// ids returns the ids of the first 100 customers.
func ids(p *serveProc, b *testing.B) []string {
	r := p.gql(b, `{ customers(first: 100) { edges { node { id } } } }`, nil)
	var out []string
	for _, e := range r.Data["customers"].(map[string]any)["edges"].([]any) {
		out = append(out, e.(map[string]any)["node"].(map[string]any)["id"].(string))
	}
	return out
}

// policyChangeUnderWrites lengthens the default policy by a day while
// writers set statuses and create customers; it returns the mutation's
// time, the longest write meanwhile and the number of writes.
func (p *serveProc) policyChangeUnderWrites(b *testing.B, writers int, ids []string) (total, worst time.Duration, n, errs int) {
	r := p.gql(b, `{ retentionPolicies { name retentionDays } }`, nil)
	days := -1
	for _, pol := range r.Data["retentionPolicies"].([]any) {
		if m := pol.(map[string]any); m["name"] == retention.PolicyDefault {
			days = int(m["retentionDays"].(float64))
		}
	}
	if days < 0 {
		b.Fatalf("no default policy: %v", r.Data)
	}
	stop := make(chan struct{})
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 13))
			for {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				var err error
				if rng.IntN(2) == 0 {
					_, err = p.do(`mutation($id: ID!) { setCustomerStatus(id: $id, status: ACTIVE) { id } }`, map[string]any{"id": ids[rng.IntN(len(ids))]})
				} else {
					_, err = p.do(`mutation { createCustomer(input: { firstName: "Policy", lastName: "Writer" }) { id } }`, nil)
				}
				el := time.Since(t0)
				mu.Lock()
				if err == nil || strings.Contains(err.Error(), "erased") {
					n++
					worst = max(worst, el)
				} else {
					if errs == 0 {
						b.Logf("write during the policy change: %v", err)
					}
					errs++
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	t0 := time.Now()
	p.gql(b, `mutation($name: ID!, $days: Int) { updateRetentionPolicy(input: { name: $name, retentionDays: $days }) { name } }`,
		map[string]any{"name": retention.PolicyDefault, "days": days + 1})
	total = time.Since(t0)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	return total, worst, n, errs
}
