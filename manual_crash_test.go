package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// TestManualDeleteKilledResumedBySweep kills `lethe serve` with SIGKILL in
// the middle of a deleteCustomer, once the connectors' deletes are
// recorded as confirmed and before the residue checks close the journal
// entry: the entry is left open, the next `lethe sweep` finishes it, and
// every action was confirmed exactly once — nothing lost, nothing repeated.
func TestManualDeleteKilledResumedBySweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The kill must land after the connectors' confirmations are recorded
	// and before the entry is closed: while the residue checks run, a few
	// milliseconds on a quiet machine, which polling can miss. The delete
	// has then simply finished, and the scenario runs again on a fresh
	// world rather than failing (or waiting forever on a server never
	// killed).
	var w *world
	var c *retention.Customer
	killed := false
	for attempt := 1; attempt <= 3 && !killed; attempt++ {
		w, c, killed = killManualDeleteAfterConfirmations(ctx, t)
		if !killed {
			t.Logf("attempt %d: the delete finished before the kill; trying again", attempt)
		}
	}
	if !killed {
		t.Fatal("the delete finished before it could be killed in the middle, three times")
	}
	db := w.store.DB()
	confirmedBefore := queryStrings(t, db.DB, "SELECT id FROM journal_actions WHERE customer_id = ? AND status = 'confirmed'", c.ID)
	if got, _ := w.store.Customer(ctx, c.ID); got.ErasedAt != nil {
		t.Fatal("the core record was erased although a connector had not confirmed")
	}
	t.Logf("killed with %d actions confirmed: %v", len(confirmedBefore), confirmedBefore)

	out := lethe(t, "sweep", "--data-dir", w.dir)
	t.Log(strings.TrimSpace(out))
	got, err := w.store.Customer(ctx, c.ID)
	if err != nil || got.ErasedAt == nil || got.FirstName != nil {
		t.Fatalf("the next sweep did not finish the manual delete: %+v %v", got, err)
	}
	var entries, done int
	db.QueryRowContext(ctx, "SELECT count(*) FROM journal_entries WHERE customer_id = ?", c.ID).Scan(&entries)                  //nolint:errcheck
	db.QueryRowContext(ctx, "SELECT count(*) FROM journal_entries WHERE customer_id = ? AND status = 'done'", c.ID).Scan(&done) //nolint:errcheck
	if entries != 1 || done != 1 {
		t.Fatalf("journal: %d entries, %d done", entries, done)
	}
	// Nothing repeated: what was confirmed before the kill was not sent again.
	for _, id := range confirmedBefore {
		var attempts int
		if err := db.QueryRowContext(ctx, "SELECT attempts FROM journal_actions WHERE id = ?", id).Scan(&attempts); err != nil || attempts != 1 {
			t.Fatalf("action %s sent %d times (%v)", id, attempts, err)
		}
	}
	if _, dup := w.storeCounts(t); dup != 0 {
		t.Fatalf("%d actions recorded more than once", dup)
	}
	// Nothing lost: every store dropped the customer.
	w.open(t)
	for name, data := range w.exports(t, retention.Subject{CustomerID: c.ID}) {
		t.Fatalf("%s still holds the customer: %s", name, data)
	}
	rec, err := w.svc.ErasureReceipt(ctx, c.ID)
	if err != nil || len(rec.Entries) != 1 || rec.Entries[0].Trigger != "manual" {
		t.Fatalf("receipt: %+v %v", rec, err)
	}
}

// killManualDeleteAfterConfirmations starts `lethe serve` on a new world
// with one customer holding 3,000 invoices, asks it to delete the customer,
// and kills it with SIGKILL once some connector actions are confirmed and
// the journal entry is still open. killed is false when the delete
// finished first (the server is then stopped all the same).
func killManualDeleteAfterConfirmations(ctx context.Context, t *testing.T) (w *world, c *retention.Customer, killed bool) {
	t.Helper()
	w = newWorld(t, 10, "")
	c, err := w.svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{
		FirstName: sp("Kilian"), LastName: sp("Nine"), Email: sp("kilian@nine.test"), Phone: sp("+49 30 5550199")}})
	if err != nil {
		t.Fatal(err)
	}
	w.seedBilling(t, c, "Kilian Nine")
	seedStores(t, w.dir, "", 2, billing(c, "9 Lane", 0, 3000))
	w.manager.Close() // the server's plugin processes own the stores now

	srv := startServe(t, w.dir)
	go srv.post(`mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": c.ID})
	db := w.store.DB()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		// One statement, so that the three counts are of one moment.
		var confirmed, open, closed int
		db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM journal_actions WHERE customer_id = ? AND status = 'confirmed'),
			(SELECT count(*) FROM journal_entries WHERE customer_id = ? AND status = 'open'),
			(SELECT count(*) FROM journal_entries WHERE customer_id = ? AND status <> 'open')`,
			c.ID, c.ID, c.ID).Scan(&confirmed, &open, &closed) //nolint:errcheck
		if confirmed > 0 && open == 1 {
			srv.cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck
			killed = true
			break
		}
		if closed > 0 {
			break // finished before the kill
		}
	}
	if !killed {
		srv.cmd.Process.Kill() //nolint:errcheck
	}
	<-srv.exited
	// The signal lands a moment after the poll saw the entry open; on a
	// loaded machine the delete can finish in that moment. Then it was not
	// killed in the middle (and the customer is rightly erased).
	var open int
	db.QueryRowContext(ctx, "SELECT count(*) FROM journal_entries WHERE customer_id = ? AND status = 'open'", c.ID).Scan(&open) //nolint:errcheck
	return w, c, killed && open == 1
}

// served is a `lethe serve` process started with a development admin token.
type served struct {
	cmd        *exec.Cmd
	url, token string
	exited     chan struct{}
	// log is what serve wrote to stderr up to its banner.
	log string
}

func startServe(t *testing.T, dir string, extra ...string) *served {
	t.Helper()
	return startServeIn(t, "", dir, extra...)
}

// startServeIn is startServe with the server's working directory set to
// cwd ("" for the test's).
func startServeIn(t *testing.T, cwd, dir string, extra ...string) *served {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--dev-admin-token", "--sweep=false"}, extra...)
	cmd := exec.Command(filepath.Join(binDir, "lethe"), args...)
	cmd.Dir = cwd
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &served{cmd: cmd, exited: make(chan struct{})}
	sc := bufio.NewScanner(stderr)
	var banner strings.Builder
	for sc.Scan() {
		banner.WriteString(sc.Text() + "\n")
		if m := regexp.MustCompile(`Bearer (lethe_[A-Za-z0-9_-]{43})`).FindStringSubmatch(sc.Text()); m != nil {
			srv.token = m[1]
			srv.url = regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(banner.String())
			break
		}
	}
	srv.log = banner.String()
	go func() {
		for sc.Scan() { // drained; plugin children may hold it open after a kill
		}
	}()
	go func() {
		cmd.Wait() //nolint:errcheck // killed on purpose; closes the pipe
		close(srv.exited)
	}()
	if srv.url == "" || srv.token == "" {
		cmd.Process.Kill() //nolint:errcheck
		t.Fatalf("serve did not start:\n%s", banner.String())
	}
	t.Cleanup(func() {
		select {
		case <-srv.exited:
		default:
			cmd.Process.Kill() //nolint:errcheck
			<-srv.exited
		}
	})
	return srv
}

// post sends one GraphQL request and returns the decoded response.
func (s *served) post(query string, vars map[string]any) map[string]any {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out) //nolint:errcheck
	return out
}
