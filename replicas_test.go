package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// replica is a `lethe serve` child process whose log is counted.
type replica struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	sweeps int
	url    string // http://host:port, once it serves
	log    bytes.Buffer
}

var serveURL = regexp.MustCompile(`"graphql":"(http://[^"/]+)/graphql"`)

// serving waits until the replica serves and returns its base URL.
func (r *replica) serving(t testing.TB) string {
	t.Helper()
	waitFor(t, 30*time.Second, "a replica to serve", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.url != ""
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.url
}

func (r *replica) logged(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Contains(r.log.String(), s)
}

func startReplica(t testing.TB, dir, database string, extra ...string) *replica {
	t.Helper()
	r := &replica{}
	args := append([]string{"serve", "--data-dir", dir, "--database", database,
		"--listen", "127.0.0.1:0", "--sweep-schedule", "* * * * * *"}, extra...)
	r.cmd = exec.Command(filepath.Join(binDir, "lethe"), args...)
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			r.mu.Lock()
			if strings.Contains(sc.Text(), "scheduled sweep finished") {
				r.sweeps++
			}
			if m := serveURL.FindStringSubmatch(sc.Text()); m != nil && r.url == "" {
				r.url = m[1]
			}
			r.log.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() }) //nolint:errcheck
	return r
}

func (r *replica) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sweeps
}

// TestReplicasElectOneSweeper starts two replicas on one PostgreSQL
// database with a sweep every second: exactly one sweeps; when it is killed
// the other takes over.
func TestReplicasElectOneSweeper(t *testing.T) {
	t.Parallel()
	// A killed leader is replaced once its lease term has passed.
	leader, other := twoReplicasSweeping(t, 2*time.Second)
	if leader.count() < 3 || other.count() != 0 {
		t.Fatalf("both replicas swept: %d and %d sweeps\n%s", leader.count(), other.count(), other.log.String())
	}
	leader.cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck
	leader.cmd.Wait()                          //nolint:errcheck
	waitFor(t, 30*time.Second, "the other replica to take over", func() bool { return other.count() >= 2 })
}

// twoReplicasSweeping starts two replicas on a new database, both with a
// sweep every second and a 2 s lease, waits for their first sweeps (and
// settle more), and returns the one that swept most, the leader, first.
func twoReplicasSweeping(t *testing.T, settle time.Duration) (leader, other *replica) {
	t.Helper()
	database := storetest.PostgresDatabase(t)
	dir := t.TempDir()
	lethe(t, "migrate", "--data-dir", dir, "--database", database)
	a := startReplica(t, filepath.Join(dir, "a"), database, "--lease-ttl", "2s")
	b := startReplica(t, filepath.Join(dir, "b"), database, "--lease-ttl", "2s")
	waitFor(t, 20*time.Second, "a first sweep", func() bool { return a.count()+b.count() >= 3 })
	time.Sleep(settle)
	if b.count() > a.count() {
		return b, a
	}
	return a, b
}

func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFrozenLeaderIsReplaced freezes the replica running the scheduled
// sweeps (SIGSTOP: its process and its database sessions stay): the other
// takes over within the lease term plus a tick, and the frozen one, once
// resumed, runs no more scheduled sweeps.
func TestFrozenLeaderIsReplaced(t *testing.T) {
	t.Parallel()
	leader, other := twoReplicasSweeping(t, 0)
	if other.count() != 0 {
		t.Fatalf("both replicas swept: %d and %d sweeps", leader.count(), other.count())
	}
	leader.cmd.Process.Signal(syscall.SIGSTOP) //nolint:errcheck
	frozenAt := time.Now()
	waitFor(t, 10*time.Second, "the other replica to take over", func() bool { return other.count() >= 2 })
	if took := time.Since(frozenAt); took > 2*time.Second+3*time.Second {
		t.Fatalf("takeover took %s: more than the lease term (2s) and a tick", took)
	}
	before := leader.count()
	leader.cmd.Process.Signal(syscall.SIGCONT) //nolint:errcheck
	time.Sleep(3 * time.Second)
	if after := leader.count(); after > before+1 { // one sweep may have been under way when it froze
		t.Fatalf("the resumed replica went on sweeping: %d sweeps after it resumed", after-before)
	}
	if other.count() < 4 {
		t.Fatalf("the new leader stopped sweeping: %d sweeps", other.count())
	}
}

// gql posts a GraphQL operation to a replica and returns its data.
func gql(t *testing.T, url, token, query string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("%s: %v %v", query, out.Errors, err)
	}
	return out.Data
}

// journalState is what the sweeps have recorded and changed, in numbers.
type journalState struct {
	Erased, Audited, Done, Cancelled, Open, Failed int
	RunA                                           string
}

func readJournalState(t *testing.T, db *sql.DB, runA string) journalState {
	t.Helper()
	var st journalState
	q := func(dst any, query string, args ...any) {
		if err := db.QueryRow(query, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	q(&st.Erased, "SELECT count(*) FROM customers WHERE erased_at IS NOT NULL")
	q(&st.Audited, "SELECT count(*) FROM audit_log WHERE action = 'customer.erase'")
	q(&st.Done, "SELECT count(*) FROM journal_entries WHERE status = 'done'")
	q(&st.Cancelled, "SELECT count(*) FROM journal_entries WHERE status = 'cancelled'")
	q(&st.Open, "SELECT count(*) FROM journal_entries WHERE status = 'open'")
	q(&st.Failed, "SELECT count(*) FROM journal_entries WHERE status = 'failed'")
	q(&st.RunA, "SELECT status || ' ' || customers_done || ' ' || coalesce(error, '') FROM retention_runs WHERE id = $1", runA)
	return st
}

// dueNow counts the customers due now: a preview of the data policy in
// force, which stores nothing.
func dueNow(t *testing.T, database string) int {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{Database: database})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dp, err := s.DataPolicy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	run, err := relinquish.NewEngine(s, nil).PreviewDataPolicy(context.Background(), dp, nil, "test", relinquish.WithoutForecast())
	if err != nil {
		t.Fatal(err)
	}
	return run.CustomersPlanned
}

// TestFrozenSweeperIsFencedOut freezes the replica running a sweep once part
// of it is done, lets its lease expire, runs the sweep on the other replica,
// then resumes the first: every due customer is relinquished exactly once,
// the journal and the audit log agree, and the resumed process changes
// nothing.
func TestFrozenSweeperIsFencedOut(t *testing.T) {
	t.Parallel()
	database := storetest.PostgresDatabase(t)
	dir := t.TempDir()
	dirA, dirB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	lethe(t, "demo", "--data-dir", dirA, "--database", database, "--customers", "8000", "--seed", "3")
	token := regexp.MustCompile(`lethe_[A-Za-z0-9_-]{43}`).FindString(
		lethe(t, "token", "create", "--database", database, "--name", "fence-test", "--role", "admin"))
	db, err := sql.Open("pgx", database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	due := dueNow(t, database)
	if due < 200 {
		t.Fatalf("due customers: %d", due)
	}
	// Small batches: the run reaches many checkpoints, and is frozen in the
	// middle of one of them.
	flags := []string{"--sweep=false", "--lease-ttl", "2s", "--sweep-batch-size", "10"}
	a := startReplica(t, dirA, database, flags...)
	b := startReplica(t, dirB, database, flags...)
	urlA, urlB := a.serving(t), b.serving(t)

	runA := gql(t, urlA, token, `mutation { runRetention(dryRun: false) { id } }`)["runRetention"].(map[string]any)["id"].(string)
	var done int
	var status string
	waitFor(t, 60*time.Second, "the first run to get going", func() bool {
		db.QueryRow("SELECT customers_done, status FROM retention_runs WHERE id = $1", runA).Scan(&done, &status) //nolint:errcheck
		return done >= 50 || status != "RUNNING"
	})
	a.cmd.Process.Signal(syscall.SIGSTOP)                                                                     //nolint:errcheck
	defer a.cmd.Process.Signal(syscall.SIGCONT)                                                               //nolint:errcheck
	db.QueryRow("SELECT customers_done, status FROM retention_runs WHERE id = $1", runA).Scan(&done, &status) //nolint:errcheck
	if status != "RUNNING" || done >= due {
		t.Fatalf("the run ended (%s, %d of %d done) before it could be frozen", status, done, due)
	}
	time.Sleep(4 * time.Second) // past the 2s lease

	runB := gql(t, urlB, token, `mutation { runRetention(dryRun: false) { id } }`)["runRetention"].(map[string]any)["id"].(string)
	waitFor(t, 120*time.Second, "the second run to finish", func() bool {
		db.QueryRow("SELECT status FROM retention_runs WHERE id = $1", runB).Scan(&status) //nolint:errcheck
		return status != "RUNNING"
	})
	if status != "SUCCEEDED" {
		t.Fatalf("second run: %s\n%s", status, b.log.String())
	}
	frozen := readJournalState(t, db, runA)

	a.cmd.Process.Signal(syscall.SIGCONT) //nolint:errcheck
	waitFor(t, 20*time.Second, "the resumed replica to notice its lost lease", func() bool { return a.logged("sweep lease lost") })
	time.Sleep(2 * time.Second)
	resumed := readJournalState(t, db, runA)
	if resumed != frozen {
		t.Fatalf("the resumed replica changed something:\nbefore %+v\nafter  %+v\n%s", frozen, resumed, a.log.String())
	}
	if !strings.HasPrefix(resumed.RunA, "FAILED") {
		t.Fatalf("the fenced run: %q", resumed.RunA)
	}
	if resumed.Erased != due || resumed.Audited != due || resumed.Done != due || resumed.Cancelled != 0 || resumed.Open != 0 || resumed.Failed != 0 {
		t.Fatalf("due %d, but %+v", due, resumed)
	}
	// Exactly once, customer by customer: one closed entry and one audit
	// event for each erased customer.
	var twice int
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT subject FROM audit_log WHERE action = 'customer.erase'
		GROUP BY subject HAVING count(*) > 1) x`).Scan(&twice); err != nil || twice != 0 {
		t.Fatalf("customers erased more than once in the audit log: %d %v", twice, err)
	}
	var disagree int
	if err := db.QueryRow(`SELECT count(*) FROM customers c WHERE c.erased_at IS NOT NULL AND (
		(SELECT count(*) FROM journal_entries e WHERE e.customer_id = c.id AND e.status = 'done') <> 1 OR
		(SELECT count(*) FROM audit_log a WHERE a.subject = c.id AND a.action = 'customer.erase') <> 1)`).Scan(&disagree); err != nil || disagree != 0 {
		t.Fatalf("customers whose journal and audit log disagree: %d %v", disagree, err)
	}
}

// post sends a GraphQL operation and returns its error, if any.
func post(client *http.Client, url, token, query string, variables map[string]any) (map[string]any, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if len(out.Errors) > 0 || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %v", resp.StatusCode, out.Errors)
	}
	return out.Data, nil
}

// staleSchedules counts the customers whose stored anchors (policy group,
// relinquished mask) are not the ones their own record gives: nothing else
// the rules read is stored apart from the facts.
func staleSchedules(t *testing.T, s *store.Store) (stale, total int) {
	t.Helper()
	ctx := context.Background()
	after := ""
	for {
		page, err := s.SearchCustomers(ctx, retention.SearchQuery{First: 100, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Customers {
			var group string
			var mask int
			if err := s.DB().QueryRowContext(ctx, "SELECT policy_group, relinquished_mask FROM customers WHERE id = ?", c.ID).Scan(&group, &mask); err != nil {
				t.Fatal(err)
			}
			if group != retention.PolicyGroupOf(c) || mask != retention.CategoryMask(c.Relinquished) {
				stale++
			}
			total++
			after = c.ID
		}
		if !page.HasNextPage {
			return stale, total
		}
	}
}

// TestReplicasWriteDuringRuleChanges: 16 clients create customers, book
// appointments and change statuses through two replicas while policies and
// the data policy change through both: no request fails, and no customer is
// left with a schedule the rules in force do not give.
func TestReplicasWriteDuringRuleChanges(t *testing.T) {
	t.Parallel()
	database := storetest.PostgresDatabase(t)
	dir := t.TempDir()
	lethe(t, "migrate", "--data-dir", dir, "--database", database)
	token := regexp.MustCompile(`lethe_[A-Za-z0-9_-]{43}`).FindString(
		lethe(t, "token", "create", "--database", database, "--name", "load", "--role", "admin"))
	a := startReplica(t, filepath.Join(dir, "a"), database, "--sweep=false")
	b := startReplica(t, filepath.Join(dir, "b"), database, "--sweep=false")
	urls := []string{a.serving(t), b.serving(t)}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	var seed []string
	for i := range 40 {
		data, err := post(client, urls[i%2], token, `mutation($n: String) { createCustomer(input: {firstName: $n}) { id } }`, map[string]any{"n": fmt.Sprint("Seed", i)})
		if err != nil {
			t.Fatal(err)
		}
		seed = append(seed, data["createCustomer"].(map[string]any)["id"].(string))
	}
	var done atomic.Bool
	var writes, changes atomic.Int64
	var mu sync.Mutex
	var failures []error
	fail := func(err error) {
		mu.Lock()
		failures = append(failures, err)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; !done.Load(); i++ {
				url := urls[(w+i)%2]
				var err error
				switch i % 3 {
				case 0:
					_, err = post(client, url, token, `mutation($n: String) { createCustomer(input: {firstName: $n}) { id deletionTime } }`,
						map[string]any{"n": fmt.Sprint("W", w, "-", i)})
				case 1:
					start := time.Now().Add(time.Duration(24+i%200) * time.Hour).UTC().Truncate(time.Second)
					_, err = post(client, url, token, `mutation($c: ID!, $s: Time!, $e: Time!) { bookAppointment(customerId: $c, startsAt: $s, endsAt: $e) { id } }`,
						map[string]any{"c": seed[(w*7+i)%len(seed)], "s": start.Format(time.RFC3339), "e": start.Add(time.Hour).Format(time.RFC3339)})
				case 2:
					status := "CANCELLED"
					if i%2 == 0 {
						status = "ACTIVE"
					}
					_, err = post(client, url, token, `mutation($c: ID!, $s: CustomerStatus!) { setCustomerStatus(id: $c, status: $s) { id } }`,
						map[string]any{"c": seed[(w*11+i)%len(seed)], "s": status})
				}
				if err != nil {
					fail(err)
				}
				writes.Add(1)
			}
		})
	}
	wg.Go(func() {
		defer done.Store(true)
		stop := time.Now().Add(4 * time.Second)
		for i := 0; time.Now().Before(stop) || i < 10; i++ {
			days := []int{7, 24, 30, 365}[i%4]
			var err error
			if i%2 == 0 {
				_, err = post(client, urls[i%2], token, `mutation($d: Int) { updateRetentionPolicy(input: {name: "default", retentionDays: $d}) { name } }`,
					map[string]any{"d": days})
			} else {
				_, err = post(client, urls[i%2], token, `mutation($d: Int!, $on: Boolean!) { updateDataPolicy(input: {relinquishDeletedData: $on,
					relinquishAfterDays: $d, anonymiseCustomerData: true, removeCDRs: false}) { relinquishAfterDays } }`,
					map[string]any{"d": days, "on": i%4 == 1})
			}
			if err != nil {
				fail(err)
			}
			changes.Add(1)
			time.Sleep(100 * time.Millisecond)
		}
	})
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d writes and %d rule changes failed; first: %v", len(failures), writes.Load(), changes.Load(), failures[0])
	}
	stale, total := staleSchedules(t, openApp(t, t.TempDir(), database, false).Store)
	if stale != 0 || total < 100 {
		t.Fatalf("%d of %d customers keep a stale schedule after %d writes and %d rule changes", stale, total, writes.Load(), changes.Load())
	}
	t.Logf("%d writes, %d rule changes through two replicas: no failure, %d customers, none stale", writes.Load(), changes.Load(), total)
}

// TestPoolIsBounded: 64 concurrent requests to a replica limited to 4
// PostgreSQL connections all succeed (they queue for a connection), and the
// replica never holds more than 4 of its own.
func TestPoolIsBounded(t *testing.T) {
	t.Parallel()
	database := storetest.PostgresDatabase(t)
	dir := t.TempDir()
	lethe(t, "migrate", "--data-dir", dir, "--database", database)
	token := regexp.MustCompile(`lethe_[A-Za-z0-9_-]{43}`).FindString(
		lethe(t, "token", "create", "--database", database, "--name", "pool", "--role", "admin"))
	r := startReplica(t, filepath.Join(dir, "a"), database, "--sweep=false", "--database-max-conns", "4")
	url := r.serving(t)
	db, err := sql.Open("pgx", database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var peak atomic.Int64
	sampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			select {
			case <-sampling:
				return
			case <-time.After(5 * time.Millisecond):
			}
			var n int64
			// Lethe's own sessions on this test's database (the connectors
			// have pools of their own).
			if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lethe'`).Scan(&n); err == nil && n > peak.Load() {
				peak.Store(n)
			}
		}
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for c := range 64 {
		wg.Go(func() {
			for i := range 5 {
				_, err := post(client, url, token, `mutation($n: String) { createCustomer(input: {firstName: $n}) { id } }`, map[string]any{"n": fmt.Sprint("P", c, "-", i)})
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	close(sampling)
	sampler.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of 320 requests failed; first: %v", failed.Load(), firstErr.Load())
	}
	if p := peak.Load(); p > 4 || p == 0 {
		t.Fatalf("the replica held %d PostgreSQL connections at once, bound 4", p)
	}
}

// TestReplicasShareConnectorStores: with Lethe on PostgreSQL the built-in
// connectors keep their stores there. A customer whose call records and
// invoices one replica exports is deleted through the other replica, whose
// data directory is a different one; afterwards the plugins as that first
// replica runs them find nothing left, and no replica's data directory
// holds a connector store of its own.
func TestReplicasShareConnectorStores(t *testing.T) {
	t.Parallel()
	database := storetest.PostgresDatabase(t)
	dir := t.TempDir()
	dirA, dirB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	lethe(t, "demo", "--data-dir", dirA, "--database", database, "--customers", "300", "--seed", "9")
	token := regexp.MustCompile(`lethe_[A-Za-z0-9_-]{43}`).FindString(
		lethe(t, "token", "create", "--database", database, "--name", "shared", "--role", "admin"))
	a := startReplica(t, dirA, database, "--sweep=false")
	b := startReplica(t, dirB, database, "--sweep=false")
	urlA, urlB := a.serving(t), b.serving(t)

	db, err := sql.Open("pgx", database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The demo is a bulk load: it leaves the planner statistics and the
	// visibility maps of its tables up to date, Lethe's and the
	// connectors' schemas alike.
	var analyzed int
	if err := db.QueryRow(`SELECT count(*) FROM pg_stat_user_tables
		WHERE relname IN ('customers', 'customer_terms', 'cdr_records') AND last_analyze IS NOT NULL
		AND last_vacuum IS NOT NULL`).Scan(&analyzed); err != nil || analyzed != 3 {
		t.Fatalf("tables the demo vacuumed and analyzed: %d of customers, customer_terms, cdr_records (%v)", analyzed, err)
	}
	rows, err := db.Query(`SELECT id FROM customers c WHERE erased_at IS NULL AND held_until IS NULL
		AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.customer_id = c.id AND a.ends_at > $1) ORDER BY id LIMIT 40`, time.Now().UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	var candidates []string
	for rows.Next() {
		var id string
		rows.Scan(&id) //nolint:errcheck
		candidates = append(candidates, id)
	}
	rows.Close()
	// A customer with call records and invoices, as replica B exports them
	// (B's data directory is empty: what it exports comes from PostgreSQL).
	var id string
	for _, c := range candidates {
		data := gql(t, urlB, token, fmt.Sprintf(`mutation { exportCustomer(id: %q) { data } }`, c))
		raw, _ := json.Marshal(data["exportCustomer"].(map[string]any)["data"])
		var doc struct {
			Connectors map[string]json.RawMessage `json:"connectors"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if holdsData(string(doc.Connectors["cdrstore"])) && holdsData(string(doc.Connectors["invoicestore"])) {
			id = c
			break
		}
	}
	if id == "" {
		t.Fatal("replica B exports no customer with call records and invoices: the connector stores are not shared")
	}
	gql(t, urlA, token, fmt.Sprintf(`mutation { deleteCustomer(id: %q) }`, id))

	// The plugins as replica B runs them: its data directory, Lethe's
	// database.
	ctx := context.Background()
	m := openApp(t, dirB, database, true).Connectors
	if len(m.Names()) != 3 {
		t.Fatalf("connectors: %v", m.Names())
	}
	for _, name := range m.Names() {
		conn, err := m.Connector(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := conn.Export(ctx, []retention.Subject{{CustomerID: id}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res {
			if holdsData(string(e.Data)) {
				t.Errorf("%s still holds the deleted customer, seen from replica B: %s", name, e.Data)
			}
		}
	}
	for _, d := range []string{dirA, dirB} {
		if files, _ := filepath.Glob(filepath.Join(d, "connectors", "*", "*")); len(files) > 0 {
			t.Errorf("a replica's data directory holds connector files: %v", files)
		}
	}
}
