package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
	// Frozen once the connectors' deletes are recorded (confirmed) and
	// their residue checks are not: nothing is finalized. The state is read
	// and the signal sent while this test holds the sweep lease's row,
	// which every write of the replica locks first (its fencing check): a
	// write already under way has committed, and is seen, before the read;
	// one not yet under way waits until the replica is stopped. Without
	// that, a finalizing commit in flight at the SIGSTOP (a slow disk under
	// load) landed after the state was read: the replica had finished the
	// erasure itself, nobody took its lease over, and its run rightly
	// succeeded.
	frozen := false
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !frozen {
		frozen = freezeInWindow(t, db, a.cmd.Process.Pid, c.ID)
		time.Sleep(time.Millisecond)
	}
	defer a.cmd.Process.Signal(syscall.SIGCONT) //nolint:errcheck
	if !frozen {
		t.Fatal("the manual delete was never seen journaled")
	}
	atFreeze := readManualState(t, db, c.ID, "fence-a")
	if atFreeze.Erased != 0 || atFreeze.Done != 0 || atFreeze.Open != 1 || atFreeze.Confirmed == 0 || atFreeze.Confirmed == atFreeze.Actions ||
		!strings.HasPrefix(atFreeze.RunA, "RUNNING") {
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
	// It took the lease over (a new epoch) and ran the erasure itself,
	// which interrupted the frozen replica's run.
	var runsB int
	if err := db.QueryRow(`SELECT count(*) FROM retention_runs r JOIN journal_entries e ON e.run_id = r.id
		WHERE r.trigger_name = 'manual' AND r.actor = 'fence-b' AND r.status = 'SUCCEEDED' AND e.customer_id = $1`, c.ID).Scan(&runsB); err != nil || runsB != 1 {
		t.Fatalf("the other replica's run that finished the entry: %d (%v)", runsB, err)
	}
	if finished.RunA == "" || finished.RunA[:6] != "FAILED" {
		t.Fatalf("the frozen replica's run, interrupted by the takeover: %q", finished.RunA)
	}
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

// freezeInWindow stops the replica pid (SIGSTOP, every thread stopped)
// when the customer's erasure is journaled and its deletes confirmed but
// not finalized, and reports whether it did. It reads that state holding
// the sweep lease's row, which every write of the replica locks first, so
// that no commit of the replica lands between the read and the stop.
func freezeInWindow(t *testing.T, db *sql.DB, pid int, id string) bool {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.Exec("SELECT 1 FROM sweep_lease WHERE name = 'sweep' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	var open, confirmed, actions, erased int
	err = tx.QueryRow(`SELECT (SELECT count(*) FROM journal_entries WHERE customer_id = $1 AND status = 'open'),
		(SELECT count(*) FROM journal_actions WHERE customer_id = $1 AND status = 'confirmed'),
		(SELECT count(*) FROM journal_actions WHERE customer_id = $1),
		(SELECT count(*) FROM customers WHERE id = $1 AND erased_at IS NOT NULL)`, id).Scan(&open, &confirmed, &actions, &erased)
	if err != nil {
		t.Fatal(err)
	}
	if open != 1 || confirmed == 0 || confirmed == actions || erased != 0 {
		return false
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Every thread stopped before the row is let go: none can then send
	// the rest of a transaction that was waiting for it.
	for deadline := time.Now().Add(10 * time.Second); !allStopped(pid); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d not stopped 10s after SIGSTOP", pid)
		}
	}
	return true
}

// allStopped reports whether every thread of pid is stopped (state T).
func allStopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			return false
		}
		fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(fields) == 0 || (fields[0] != "T" && fields[0] != "t") {
			return false
		}
	}
	return true
}
