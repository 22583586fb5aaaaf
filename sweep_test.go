package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/metrics"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// world is a demo installation opened in the test process: Lethe's store,
// the real plugin processes, the service and the engine.
type world struct {
	dir, database string
	store         *store.Store
	manager       *connectors.Manager
	svc           *retention.Service
	engine        *relinquish.Engine
	metrics       *metrics.Metrics
}

func newWorld(t *testing.T, customers int, database string) *world {
	t.Helper()
	w := &world{dir: t.TempDir(), database: database}
	lethe(t, w.args("demo", "--customers", fmt.Sprint(customers), "--seed", "7")...)
	w.open(t)
	return w
}

func (w *world) args(cmd string, extra ...string) []string {
	args := []string{cmd, "--data-dir", w.dir}
	if w.database != "" {
		args = append(args, "--database", w.database)
	}
	return append(args, extra...)
}

func (w *world) open(t testing.TB) {
	t.Helper()
	app := openApp(t, w.dir, w.database, true)
	if len(app.Connectors.Names()) != 3 {
		t.Fatalf("connectors: %v", app.Connectors.Names())
	}
	w.store, w.manager, w.svc, w.engine, w.metrics = app.Store, app.Connectors, app.Service, app.Engine, app.Metrics
}

// snapshot is what every store holds on one customer, by connector.
type snapshot struct {
	customer *retention.Customer
	exports  map[string]string
}

func (w *world) snapshotAll(t *testing.T) map[string]snapshot {
	t.Helper()
	ctx := context.Background()
	out := map[string]snapshot{}
	first := 100
	var after *string
	for {
		page, err := w.svc.SearchCustomers(ctx, "", &first, after)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Customers {
			full, _ := w.store.Customer(ctx, c.ID)
			out[c.ID] = snapshot{customer: full, exports: w.exports(t, full.Subject())}
		}
		if !page.HasNextPage {
			return out
		}
		after = &page.Cursors[len(page.Cursors)-1]
	}
}

// exports asks every connector for the subject.
func (w *world) exports(t *testing.T, subject retention.Subject) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, name := range w.manager.Names() {
		conn, err := w.manager.Connector(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := conn.Export(ctx, []retention.Subject{subject})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res {
			out[name] = string(e.Data)
		}
	}
	return out
}

// planKinds maps each customer of a run's plan to "erase" or "anonymise",
// reading every page through the engine (a preview's plan is never stored:
// its pages are walked).
func (w *world) planKinds(t *testing.T, runID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var after *string
	for n := relinquish.MaxRunActions; ; {
		p, err := w.engine.RunActionsPage(context.Background(), runID, &n, after)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range p.Items {
			if a.Connector == retention.CoreConnector {
				out[a.CustomerID] = a.Action
			}
		}
		if !p.HasNextPage {
			return out
		}
		after = &p.Items[len(p.Items)-1].Cursor
	}
}

// holdsData reports whether a connector's export still holds records.
func holdsData(export string) bool {
	var v any
	if json.Unmarshal([]byte(export), &v) != nil {
		return export != ""
	}
	return countRecords(v) > 0
}

func countRecords(v any) int {
	switch x := v.(type) {
	case []any:
		return len(x)
	case map[string]any:
		n := 0
		for _, e := range x {
			n += countRecords(e)
		}
		return n
	}
	return 0
}

// checkRelinquished asserts that exactly the customers of the plan were
// relinquished, as the plan said, and that every other one is untouched.
func (w *world) checkRelinquished(t *testing.T, before map[string]snapshot, plan map[string]string, dp retention.DataPolicy) {
	t.Helper()
	ctx := context.Background()
	for id, snap := range before {
		subject := snap.customer.Subject()
		after := w.exports(t, subject)
		c, err := w.store.Customer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if kind := plan[id]; kind != "" {
			events, err := w.store.AuditLog(ctx, retention.AuditQuery{Subject: id, First: 20})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, ev := range events {
				found = found || ev.Action == "customer."+kind
			}
			if !found {
				t.Fatalf("%s: no customer.%s in the audit log: %+v", id, kind, events)
			}
		}
		switch plan[id] {
		case "erase":
			if c.ErasedAt == nil || c.FirstName != nil || c.Email != nil {
				t.Fatalf("%s planned for erasure but not erased: %+v", id, c)
			}
			for name, data := range after {
				if holdsData(data) {
					t.Fatalf("%s erased but %s still holds: %s", id, name, data)
				}
			}
		case "anonymise":
			if c.ErasedAt != nil || c.AnonymisedAt == nil || c.FirstName != nil || c.LastName != nil || c.Email != nil || c.Phone != nil {
				t.Fatalf("%s planned for anonymisation: %+v", id, c)
			}
			ps, _ := w.store.Policies(ctx)
			if s := retention.ComputeSchedule(c, retention.NewPolicySet(ps), dp); !sameTime(w.svc.DeletionTime(c), s.EraseAt) || s.AnonymiseAt != nil {
				t.Fatalf("%s: deletion time %v after anonymisation, the rules say erase at %v (anonymise %v)", id, w.svc.DeletionTime(c), s.EraseAt, s.AnonymiseAt)
			}
			if dp.RemoveCDRs && holdsData(after["cdrstore"]) {
				t.Fatalf("%s: call records kept: %s", id, after["cdrstore"])
			}
			for name, data := range after {
				for _, ident := range []string{subject.FirstName + " " + subject.LastName, subject.Email, subject.Phone} {
					if ident != "" && ident != " " && strings.Contains(data, ident) {
						t.Fatalf("%s anonymised but %s still holds %q", id, name, ident)
					}
				}
			}
		default:
			if c.ErasedAt != nil || c.AnonymisedAt != nil || !samePersonalData(c, snap.customer) {
				t.Fatalf("%s was not due but was touched: %+v", id, c)
			}
			for name, data := range snap.exports {
				if after[name] != data {
					t.Fatalf("%s was not due but %s changed:\nbefore %s\nafter  %s", id, name, data, after[name])
				}
			}
		}
	}
}

func samePersonalData(a, b *retention.Customer) bool {
	eq := func(x, y *string) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	return eq(a.FirstName, b.FirstName) && eq(a.LastName, b.LastName) && eq(a.Email, b.Email) && eq(a.Phone, b.Phone)
}

var relinquishPolicy = retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 30, AnonymiseCustomerData: true, RemoveCDRs: true}

func TestSweepEndToEnd(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			database := ""
			if dialect == "postgres" {
				database = storetest.PostgresDatabase(t)
			}
			w := newWorld(t, 250, database)
			ctx := context.Background()
			if _, err := w.svc.UpdateDataPolicy(ctx, relinquishPolicy); err != nil {
				t.Fatal(err)
			}
			before := w.snapshotAll(t)
			dry, err := w.engine.Run(ctx, retention.RunOptions{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			plan := w.planKinds(t, dry.ID)
			kinds := map[string]int{}
			for _, k := range plan {
				kinds[k]++
			}
			if kinds["erase"] == 0 || kinds["anonymise"] == 0 || len(plan) >= len(before) {
				t.Fatalf("demo data should have some customers of each kind due, not all: %v of %d", kinds, len(before))
			}
			if after := w.snapshotAll(t); len(after) != len(before) {
				t.Fatalf("a dry run changed data: %d customers before, %d after", len(before), len(after))
			}
			real, err := w.engine.Run(ctx, retention.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if real.CustomersPlanned != dry.CustomersPlanned || real.ActionsPlanned != dry.ActionsPlanned {
				t.Fatalf("dry run planned %d customers / %d actions, real run %d / %d",
					dry.CustomersPlanned, dry.ActionsPlanned, real.CustomersPlanned, real.ActionsPlanned)
			}
			if real.Status != retention.RunSucceeded || real.CustomersDone != real.CustomersPlanned || real.CustomersFailed != 0 {
				t.Fatalf("run: %+v", real)
			}
			w.checkRelinquished(t, before, plan, relinquishPolicy)
			scrape := httptest.NewRecorder()
			w.metrics.Handler().ServeHTTP(scrape, httptest.NewRequest("GET", "/metrics", nil))
			for kind, n := range kinds {
				line := fmt.Sprintf(`lethe_sweep_customers_total{kind=%q,outcome="done"} %d`, kind, n)
				if !strings.Contains(scrape.Body.String(), line) {
					t.Errorf("/metrics lacks %s", line)
				}
			}
			if !strings.Contains(scrape.Body.String(), `lethe_sweep_runs_total{dry_run="false",status="SUCCEEDED"} 1`) {
				t.Errorf("/metrics lacks the real run:\n%s", scrape.Body.String())
			}
			again, err := w.engine.Run(ctx, retention.RunOptions{DryRun: true})
			if err != nil || again.CustomersPlanned != 0 {
				t.Fatalf("after the sweep a dry run still plans %d customers (%v)", again.CustomersPlanned, err)
			}
		})
	}
}

func TestDryRunAsOfFutureAndPreview(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 200, "")
	ctx := context.Background()
	now, err := w.engine.Run(ctx, retention.RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	week := time.Now().Add(7 * retention.Day)
	later, err := w.engine.Run(ctx, retention.RunOptions{DryRun: true, AsOf: &week})
	if err != nil {
		t.Fatal(err)
	}
	if later.CustomersPlanned <= now.CustomersPlanned {
		t.Fatalf("a week later should plan more: %d vs %d", later.CustomersPlanned, now.CustomersPlanned)
	}
	if _, err := w.engine.Run(ctx, retention.RunOptions{AsOf: &week}); retention.ErrorCode(err) != retention.CodeBadUserInput {
		t.Fatalf("a real run as of the future: %v", err)
	}
	days := 3650
	preview, err := w.engine.PreviewPolicyUpdate(ctx, retention.PolicyDefault, &days, nil, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	if preview.CustomersPlanned >= now.CustomersPlanned {
		t.Fatalf("a longer default policy should plan fewer: %d vs %d", preview.CustomersPlanned, now.CustomersPlanned)
	}
	if p, _ := w.svc.Policy(ctx, retention.PolicyDefault); p.RetentionDays != 30 || p.Version != 1 {
		t.Fatalf("a preview saved the policy: %+v", p)
	}
	dpPreview, err := w.engine.PreviewDataPolicy(ctx, relinquishPolicy, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	if dpPreview.CustomersPlanned <= now.CustomersPlanned {
		t.Fatalf("turning the data policy on should plan more: %d vs %d", dpPreview.CustomersPlanned, now.CustomersPlanned)
	}
	if dp, _ := w.svc.DataPolicy(ctx); !dp.UsesDefault() {
		t.Fatalf("a preview saved the data policy: %+v", dp)
	}
	// The preview is what saving the change and running gives.
	if _, err := w.svc.UpdateDataPolicy(ctx, relinquishPolicy); err != nil {
		t.Fatal(err)
	}
	saved, _ := w.engine.Run(ctx, retention.RunOptions{DryRun: true})
	if saved.CustomersPlanned != dpPreview.CustomersPlanned || saved.ActionsPlanned != dpPreview.ActionsPlanned {
		t.Fatalf("preview %d/%d, after saving %d/%d", dpPreview.CustomersPlanned, dpPreview.ActionsPlanned, saved.CustomersPlanned, saved.ActionsPlanned)
	}
}

// TestSweepCrashSafety kills `lethe sweep` with SIGKILL at several points of
// a sweep, then lets a last one finish: every due customer is relinquished,
// no other is touched, and every action is confirmed exactly once.
func TestSweepCrashSafety(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 400, "")
	ctx := context.Background()
	if _, err := w.svc.UpdateDataPolicy(ctx, relinquishPolicy); err != nil {
		t.Fatal(err)
	}
	before := w.snapshotAll(t)
	dry, err := w.engine.Run(ctx, retention.RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	plan := w.planKinds(t, dry.ID)
	w.manager.Close() // the child processes own the stores now

	// Each sweep is killed at a different point, read from the journal as
	// it goes: right after planning started, after some customers were done,
	// and late in the run.
	points := []struct {
		name string
		when func(st map[string]int) bool
	}{
		{"planning", func(st map[string]int) bool { return st["entries"] > 0 }},
		{"dispatch", func(st map[string]int) bool { return st["confirmed"] > st["prev_confirmed"] }},
		{"a third done", func(st map[string]int) bool { return st["done"] >= len(plan)/3 }},
		{"two thirds done", func(st map[string]int) bool { return st["done"] >= 2*len(plan)/3 }},
	}
	interrupted := 0
	prevConfirmed := 0
	for _, p := range points {
		cmd := exec.Command(filepath.Join(binDir, "lethe"), w.args("sweep", "--batch-size", "3")...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }() //nolint:errcheck // killed on purpose
		deadline := time.Now().Add(20 * time.Second)
	poll:
		for time.Now().Before(deadline) {
			select {
			case <-exited:
				break poll
			default:
			}
			st, _ := w.storeCounts(t)
			st["prev_confirmed"] = prevConfirmed
			if p.when(st) {
				cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		<-exited
		st, _ := w.storeCounts(t)
		prevConfirmed = st["confirmed"]
		t.Logf("killed at %s: %d entries journaled, %d done, %d actions confirmed", p.name, st["entries"], st["done"], st["confirmed"])
		if st["done"] < len(plan) {
			interrupted++
		}
	}
	if interrupted < 3 {
		t.Fatalf("only %d sweeps were killed with work left", interrupted)
	}
	var entries, done int
	for i := 0; i < 3; i++ { // plugins killed with their parent may leave retries in backoff: finish them
		out := lethe(t, w.args("sweep")...)
		t.Log(strings.TrimSpace(out))
		st, _ := w.storeCounts(t)
		entries, done = st["entries"], st["done"]
		if entries == done {
			break
		}
		w.expireBackoff(t)
	}
	if entries != len(plan) || done != entries {
		t.Fatalf("journal: %d entries, %d done; plan had %d customers", entries, done, len(plan))
	}
	_, dup := w.storeCounts(t)
	if dup != 0 {
		t.Fatalf("%d actions recorded more than once", dup)
	}
	w.open(t)
	w.checkRelinquished(t, before, plan, relinquishPolicy)
}

// storeCounts reads the journal: entries, done entries, and confirmed
// actions that appear more than once per (entry, connector, operation).
func (w *world) storeCounts(t *testing.T) (map[string]int, int) {
	t.Helper()
	db := w.store.DB()
	ctx := context.Background()
	counts := map[string]int{}
	var n int
	for name, q := range map[string]string{
		"entries":   "SELECT count(*) FROM journal_entries",
		"done":      "SELECT count(*) FROM journal_entries WHERE status = 'done'",
		"confirmed": "SELECT count(*) FROM journal_actions WHERE status = 'confirmed'",
	} {
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[name] = n
	}
	var dup int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT entry_id, connector, operation, categories FROM journal_actions
		GROUP BY entry_id, connector, operation, categories HAVING count(*) > 1) d`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	return counts, dup
}

func (w *world) expireBackoff(t *testing.T) {
	t.Helper()
	if _, err := w.store.DB().ExecContext(context.Background(), "UPDATE journal_entries SET next_attempt_at = 0 WHERE status = 'open'"); err != nil {
		t.Fatal(err)
	}
}

// TestPluginKilledMidRun kills a plugin process while a sweep dispatches:
// the run either finishes after the relaunch or reports the customers it
// could not finish, and no customer is marked done without every
// connector's confirmation.
func TestPluginKilledMidRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 400, "")
	ctx := context.Background()
	if _, err := w.svc.UpdateDataPolicy(ctx, relinquishPolicy); err != nil {
		t.Fatal(err)
	}
	w.engine.BatchSize = 3
	batches := 0
	w.engine.Progress = func(run retention.Run) {
		batches++
		if batches == 40 { // well into the dispatch
			if pid := w.manager.PIDs()["invoicestore"]; pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL) //nolint:errcheck
			}
		}
	}
	run, err := w.engine.Run(ctx, retention.RunOptions{})
	if err != nil && run.ID == "" {
		t.Fatal(err)
	}
	if batches < 40 {
		t.Fatalf("the run ended after %d batches, before the kill", batches)
	}
	if run.CustomersDone+run.CustomersFailed+run.CustomersSkipped != run.CustomersPlanned {
		t.Fatalf("run lost customers: %+v", run)
	}
	if run.CustomersFailed > 0 && run.Status != retention.RunFailed {
		t.Fatalf("failures not reported: %+v", run)
	}
	var unconfirmed int
	err = w.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM journal_entries e JOIN journal_actions a ON a.entry_id = e.id
		WHERE e.status = 'done' AND a.status <> 'confirmed'`).Scan(&unconfirmed)
	if err != nil || unconfirmed != 0 {
		t.Fatalf("%d done entries have unconfirmed actions (%v)", unconfirmed, err)
	}
	var erasedWithoutEntry int
	err = w.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM customers c WHERE (c.erased_at IS NOT NULL OR c.anonymised_at IS NOT NULL)
		AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.customer_id = c.id AND e.status = 'done')`).Scan(&erasedWithoutEntry)
	if err != nil || erasedWithoutEntry != 0 {
		t.Fatalf("%d customers changed without a done journal entry (%v)", erasedWithoutEntry, err)
	}
	t.Logf("run after a plugin kill: %+v", run)
	// Whatever failed is finished by a later sweep once its backoff passed.
	w.expireBackoff(t)
	next, err := w.engine.Run(ctx, retention.RunOptions{})
	if err != nil || next.CustomersFailed != 0 || next.CustomersDone != run.CustomersFailed {
		t.Fatalf("retry run: %+v %v", next, err)
	}
}

func sameTime(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}
