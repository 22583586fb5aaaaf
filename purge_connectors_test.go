package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
)

// writeConnectorsConfig writes, in a directory of its own, a configuration file
// listing the built-in connectors and the newsletter example, the example
// copied to bin/ beside the file and named by a relative path: Lethe must
// find it from any working directory. It returns the file's path.
func writeConnectorsConfig(t *testing.T, newsletterBin string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(newsletterBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "connector-newsletter"), raw, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("connectors:\n")
	for _, name := range connectors.BuiltinPlugins {
		path := filepath.Join(binDir, "lethe-"+name)
		fmt.Fprintf(&b, "  - name: %s\n    path: %s\n    sha256: %s\n", name, path, mustSum(t, path))
	}
	fmt.Fprintf(&b, "  - name: newsletter\n    path: bin/connector-newsletter\n    sha256: %s\n", mustSum(t, newsletterBin))
	path := filepath.Join(dir, "lethe.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustSum(t *testing.T, path string) string {
	t.Helper()
	sum, err := connectors.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// subscription is one entry of the newsletter example's list file, in the
// format its README documents.
type subscription struct {
	CustomerID string `json:"customerId,omitempty"`
	Email      string `json:"email"`
	Name       string `json:"name,omitempty"`
}

func writeNewsletter(t *testing.T, path string, subs []subscription) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"subscribers": subs})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestHiddenPurgeReachesEmailOnlyStore runs `lethe serve --sweep=false`
// from another working directory with the built-in connectors and the
// newsletter example (found by a relative path in the configuration file),
// whose website sign-ups carry no customer id: it finds them by e-mail
// only. Every customer is long overdue for erasure. Making EMAIL HIDDEN
// (confirm: true) must leave no customer's address in the list file, read
// directly, with every newsletter action ANONYMISED (none NOT_FOUND), keep
// the address of a stranger Lethe does not know, and erase or anonymise
// no one.
func TestHiddenPurgeReachesEmailOnlyStore(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3, "")
	ctx := context.Background()
	old := mustTime(t, "2020-01-01T00:00:00Z")
	var customers []*retention.Customer
	var subs []subscription
	for i := range 6 {
		email := fmt.Sprintf("member%02d@loyalty.test", i)
		c, err := w.svc.CreateCustomer(ctx, retention.CustomerInput{LastInteractionAt: old, PersonalData: retention.PersonalData{
			FirstName: sp("Mia"), LastName: sp(fmt.Sprintf("Member%02d", i)), Email: sp(email)}})
		if err != nil {
			t.Fatal(err)
		}
		customers = append(customers, c)
		// Website sign-ups: keyed by the address alone.
		subs = append(subs, subscription{Email: email, Name: "Mia Member"})
	}
	// The first customer also has a subscription naming her.
	subs = append(subs, subscription{CustomerID: customers[0].ID, Email: "member00@loyalty.test"},
		subscription{Email: "stranger@elsewhere.test", Name: "Not a customer"})
	list := filepath.Join(w.dir, "connectors", "newsletter", "subscribers.json")
	writeNewsletter(t, list, subs)
	// A preview of the data policy in force counts them and stores nothing.
	dp, err := w.svc.DataPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	due, err := w.engine.PreviewDataPolicy(ctx, dp, nil, "test", relinquish.WithoutForecast())
	if err != nil || due.CustomersPlanned < len(customers) {
		t.Fatalf("the customers must be overdue for the test to mean anything: %d due (%v)", due.CustomersPlanned, err)
	}
	w.manager.Close()

	newsletterBin := filepath.Join(t.TempDir(), "connector-newsletter")
	buildNewsletter(t, "1.0.0", newsletterBin)
	cfg := writeConnectorsConfig(t, newsletterBin)
	srv := startServeIn(t, t.TempDir(), w.dir, "--config", cfg)
	resp := srv.post(`mutation { updateFieldPreferences(fields: [{field: EMAIL, mode: HIDDEN}], confirm: true) { fields { field mode } } }`, nil)
	if resp == nil || resp["errors"] != nil {
		t.Fatalf("updateFieldPreferences: %v", resp)
	}
	db := w.store.DB().DB
	waitFor(t, 60*time.Second, "the purge to finish", func() bool {
		j := readPurgeJournal(t, db)
		return j.open == 0 && j.done >= len(customers)
	})

	raw, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range customers {
		if strings.Contains(string(raw), *c.Email) {
			t.Errorf("the newsletter list still holds %s:\n%s", *c.Email, raw)
		}
	}
	if !strings.Contains(string(raw), "stranger@elsewhere.test") {
		t.Errorf("the purge removed the address of someone Lethe does not know:\n%s", raw)
	}
	newsletter := w.newsletterOutcomes(t, srv)
	for _, c := range customers {
		if got := newsletter[c.ID]; got != string(retention.OutcomeAnonymised) {
			t.Errorf("the run shows the newsletter's answer for %s as %q, want ANONYMISED", c.ID, got)
		}
	}

	var erased, relinquishing int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM customers WHERE erased_at IS NOT NULL").Scan(&erased); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM journal_entries WHERE kind <> 'purge'").Scan(&relinquishing); err != nil {
		t.Fatal(err)
	}
	if erased != 0 || relinquishing != 0 {
		t.Errorf("the purge erased %d customers and journaled %d erasures or anonymisations on a --sweep=false server", erased, relinquishing)
	}
}

// newsletterOutcomes reads, through the API, the purge runs' newsletter
// actions and their outcome by customer, and checks each run's
// actionsNotFound counts its NOT_FOUND answers.
func (w *world) newsletterOutcomes(t *testing.T, srv *served) map[string]string {
	t.Helper()
	resp := srv.post(`{ retentionRuns(first: 10) { id trigger actionsNotFound actions(first: 1000) { customerId connector action outcome } } }`, nil)
	if resp == nil || resp["errors"] != nil {
		t.Fatalf("retentionRuns: %v", resp)
	}
	out := map[string]string{}
	for _, r := range resp["data"].(map[string]any)["retentionRuns"].([]any) {
		run := r.(map[string]any)
		if run["trigger"] != "purge" {
			t.Errorf("a run other than the purge's ran: %v", run)
			continue
		}
		notFound := 0
		for _, a := range run["actions"].([]any) {
			act := a.(map[string]any)
			if act["outcome"] == "NOT_FOUND" {
				notFound++
			}
			if act["connector"] == "newsletter" {
				outcome, _ := act["outcome"].(string)
				out[act["customerId"].(string)] = outcome
			}
		}
		if got := int(run["actionsNotFound"].(float64)); got != notFound {
			t.Errorf("run %v: actionsNotFound %d, but %d actions answered NOT_FOUND", run["id"], got, notFound)
		}
	}
	return out
}
