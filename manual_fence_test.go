package main

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// manualState is what one customer's manual erasure has recorded and
// changed, in numbers; a frozen replica that resumes must change none of it.
type manualState struct {
	ErasedAll, Erased, Audited, Entries, Done, Open, Confirmed, Actions int
	RunA                                                                string
}

func readManualState(t *testing.T, db *sql.DB, id, runActor string) manualState {
	t.Helper()
	var st manualState
	q := func(dst any, query string, args ...any) {
		if err := db.QueryRow(query, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	q(&st.ErasedAll, "SELECT count(*) FROM customers WHERE erased_at IS NOT NULL")
	q(&st.Erased, "SELECT count(*) FROM customers WHERE id = $1 AND erased_at IS NOT NULL", id)
	q(&st.Audited, "SELECT count(*) FROM audit_log WHERE action = 'customer.erase' AND subject = $1", id)
	q(&st.Entries, "SELECT count(*) FROM journal_entries WHERE customer_id = $1", id)
	q(&st.Done, "SELECT count(*) FROM journal_entries WHERE customer_id = $1 AND status = 'done'", id)
	q(&st.Open, "SELECT count(*) FROM journal_entries WHERE customer_id = $1 AND status = 'open'", id)
	q(&st.Confirmed, "SELECT count(*) FROM journal_actions WHERE customer_id = $1 AND status = 'confirmed'", id)
	q(&st.Actions, "SELECT count(*) FROM journal_actions WHERE customer_id = $1", id)
	q(&st.RunA, `SELECT coalesce(max(status || ' ' || coalesce(error, '')), '') FROM retention_runs
		WHERE trigger_name = 'manual' AND actor = $1`, runActor)
	return st
}

// TestFrozenManualDeleteIsFencedOut freezes (SIGSTOP) the replica running a
// deleteCustomer once the erasure is journaled and its connectors are at
// work (the invoice store deleting thousands of invoices), lets its lease
// expire, repeats the delete on the other replica, which adopts the open
// entry and finishes it, then resumes the first: its writes are refused,
// the customer is erased exactly once (one journal entry, one audit event,
// no action confirmed before the freeze sent again), nobody else is erased,
// and no connector holds the customer any more.
func TestFrozenManualDeleteIsFencedOut(t *testing.T) {
	t.Parallel()
	database := storetest.PostgresDatabase(t)
	dir := t.TempDir()
	dirA, dirB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	lethe(t, "demo", "--data-dir", dirA, "--database", database, "--customers", "30", "--seed", "5")
	out := lethe(t, "token", "create", "--database", database, "--name", "fence-a", "--role", "admin")
	tokenA := regexp.MustCompile(`lethe_[A-Za-z0-9_-]{43}`).FindString(out)
	out = lethe(t, "token", "create", "--database", database, "--name", "fence-b", "--role", "admin")
	tokenB := regexp.MustCompile(`lethe_[A-Za-z0-9_-]{43}`).FindString(out)

	// The customer: contact data in Lethe, many invoices in the shared
	// invoice store (slow to delete), call records from the demo's store.
	ctx := context.Background()
	c, err := openApp(t, dirA, database, false).Service.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{
		FirstName: sp("Frieda"), LastName: sp("Frozen"), Email: sp("frieda@frozen.test")}})
	if err != nil {
		t.Fatal(err)
	}
	seedStores(t, dirA, database, 4, billing(c, "0 Ice Road", 0, 4000))
	db, err := sql.Open("pgx", database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	erasedBefore := readManualState(t, db, c.ID, "fence-a").ErasedAll

	flags := []string{"--sweep=false", "--lease-ttl", "2s"}
	a := startReplica(t, dirA, database, flags...)
	b := startReplica(t, dirB, database, flags...)
	urlA, urlB := a.serving(t), b.serving(t)

	type answer struct {
		data map[string]any
		err  error
	}
	answerA := make(chan answer, 1)
	go func() {
		data, err := post(&http.Client{Timeout: 2 * time.Minute}, urlA, tokenA, `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": c.ID})
		answerA <- answer{data, err}
	}()
	// Frozen once some connectors confirmed and the invoice store (slow:
	// thousands of invoices) has not: nothing is finalized.
	frozen := false
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !frozen {
		var open, confirmed int
		db.QueryRow("SELECT count(*) FROM journal_entries WHERE customer_id = $1 AND status = 'open'", c.ID).Scan(&open)           //nolint:errcheck
		db.QueryRow("SELECT count(*) FROM journal_actions WHERE customer_id = $1 AND status = 'confirmed'", c.ID).Scan(&confirmed) //nolint:errcheck
		if open == 1 && confirmed > 0 {
			a.cmd.Process.Signal(syscall.SIGSTOP) //nolint:errcheck
			frozen = true
		}
		time.Sleep(time.Millisecond)
	}
	defer a.cmd.Process.Signal(syscall.SIGCONT) //nolint:errcheck
	if !frozen {
		t.Fatal("the manual delete was never seen journaled")
	}
	atFreeze := readManualState(t, db, c.ID, "fence-a")
	if atFreeze.Erased != 0 || atFreeze.Done != 0 || atFreeze.Confirmed == atFreeze.Actions {
		t.Fatalf("the delete finished before the replica could be frozen: %+v", atFreeze)
	}
	confirmedBefore := queryStrings(t, db, "SELECT id FROM journal_actions WHERE customer_id = $1 AND status = 'confirmed'", c.ID)
	t.Logf("frozen at %+v", atFreeze)
	time.Sleep(4 * time.Second) // past the 2s lease

	// The other replica finishes the erasure: it adopts the open entry.
	if _, err := post(&http.Client{Timeout: 2 * time.Minute}, urlB, tokenB, `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": c.ID}); err != nil {
		t.Fatalf("deleteCustomer on the other replica: %v\n%s", err, b.log.String())
	}
	finished := readManualState(t, db, c.ID, "fence-a")
	if finished.Erased != 1 || finished.Entries != 1 || finished.Done != 1 || finished.Open != 0 || finished.Confirmed != finished.Actions {
		t.Fatalf("the other replica did not finish the erasure exactly once: %+v", finished)
	}

	a.cmd.Process.Signal(syscall.SIGCONT) //nolint:errcheck
	var got answer
	select {
	case got = <-answerA:
	case <-time.After(60 * time.Second):
		t.Fatalf("the resumed replica never answered its deleteCustomer\n%s", a.log.String())
	}
	t.Logf("the resumed replica answered: %v %v", got.data, got.err)
	time.Sleep(2 * time.Second) // anything it still had to write would be written by now
	resumed := readManualState(t, db, c.ID, "fence-a")
	resumed.RunA, finished.RunA = "", ""
	if resumed != finished {
		t.Fatalf("the resumed replica changed something:\nbefore %+v\nafter  %+v\n%s", finished, resumed, a.log.String())
	}
	if resumed.ErasedAll != erasedBefore+1 {
		t.Fatalf("%d customers erased, want only this one more than the %d before", resumed.ErasedAll, erasedBefore)
	}
	if run := readManualState(t, db, c.ID, "fence-a").RunA; run == "" || run[:6] != "FAILED" {
		t.Fatalf("the frozen replica's run: %q", run)
	}
	for _, id := range confirmedBefore {
		var attempts int
		if err := db.QueryRow("SELECT attempts FROM journal_actions WHERE id = $1", id).Scan(&attempts); err != nil || attempts != 1 {
			t.Fatalf("action %s, confirmed before the freeze, was sent %d times (%v)", id, attempts, err)
		}
	}
	// Nothing left in any connector store, read with the plugins as
	// replica B runs them.
	m := openApp(t, dirB, database, true).Connectors
	for _, name := range m.Names() {
		conn, err := m.Connector(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := conn.Export(ctx, []retention.Subject{{CustomerID: c.ID}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res {
			if holdsData(string(e.Data)) {
				t.Errorf("%s still holds the erased customer: %.200s", name, e.Data)
			}
		}
	}
}
