package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

func eachDialect(t *testing.T, fn func(t *testing.T, database string)) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			database := ""
			if dialect == "postgres" {
				database = storetest.PostgresDatabase(t)
			}
			fn(t, database)
		})
	}
}

// seedBilling writes call records and an invoice for a customer into the
// built-in connectors' stores, as a billing system would.
func (w *world) seedBilling(t *testing.T, c *retention.Customer, name string) {
	t.Helper()
	seedStores(t, w.dir, w.database, 1, billing(c, "1 Test Lane", 4, 1))
}

// connectorDSN is where a built-in connector keeps its store: in Lethe's
// PostgreSQL database (as every replica's plugins see it), or "" for its
// embedded store in the data directory.
func (w *world) connectorDSN(name string) string {
	if w.database == "" {
		return ""
	}
	return store.ConnectorDSN(w.database, name)
}

func mustTime(t *testing.T, s string) *time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return &v
}

func sp(s string) *string { return &s }

// inPlan reports what a run planned for a customer in Lethe ("erase",
// "anonymise" or "").
func (w *world) inPlan(t *testing.T, runID, customerID string) string {
	t.Helper()
	return w.planKinds(t, runID)[customerID]
}

// TestWidenedDataPolicyReachesPartlyRelinquished is the first
// repro, in both directions: a customer relinquished for one category of
// the data policy becomes due for the category a later change adds, which
// previews and dry runs show, and the next sweep relinquishes exactly that.
func TestWidenedDataPolicyReachesPartlyRelinquished(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, database string) {
		w := newWorld(t, 10, database)
		ctx := context.Background()
		days := 3650
		if _, err := w.svc.UpdatePolicy(ctx, retention.PolicyDefault, &days, nil); err != nil {
			t.Fatal(err)
		}
		cdrOnly := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 30, RemoveCDRs: true}
		anonOnly := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 30, AnonymiseCustomerData: true}
		both := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 30, AnonymiseCustomerData: true, RemoveCDRs: true}
		for i, first := range []retention.DataPolicy{cdrOnly, anonOnly} {
			name := []string{"Bob", "Cleo"}[i]
			email := strings.ToLower(name) + "@x.test"
			phone := []string{"+49 30 1111111", "+49 30 2222222"}[i]
			c, err := w.svc.CreateCustomer(ctx, retention.CustomerInput{LastInteractionAt: mustTime(t, "2024-01-01T00:00:00Z"),
				PersonalData: retention.PersonalData{FirstName: sp(name), LastName: sp("Roe"), Email: sp(email), Phone: sp(phone)}})
			if err != nil {
				t.Fatal(err)
			}
			w.seedBilling(t, c, name+" Roe")
			if _, err := w.svc.SetCustomerStatus(ctx, c.ID, retention.StatusCancelled, mustTime(t, "2024-02-01T00:00:00Z")); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.UpdateDataPolicy(ctx, first); err != nil {
				t.Fatal(err)
			}
			run, err := w.engine.Run(ctx, retention.RunOptions{Trigger: "test"})
			if err != nil || run.CustomersFailed != 0 {
				t.Fatalf("first run: %+v %v", run, err)
			}
			got, _ := w.store.Customer(ctx, c.ID)
			exp := w.exports(t, retention.Subject{CustomerID: c.ID})
			if first.RemoveCDRs {
				if got.AnonymisedAt != nil || got.FirstName == nil || *got.FirstName != name || got.Email == nil {
					t.Fatalf("a CDR-only run anonymised contact data: %+v", got)
				}
				if holdsData(exp["cdrstore"]) || !strings.Contains(exp["invoicestore"], name) {
					t.Fatalf("after a CDR-only run: cdrstore %s; invoicestore %s", exp["cdrstore"], exp["invoicestore"])
				}
				if !got.Relinquished.Has(retention.CategoryCDR) || got.Relinquished.Has(retention.CategoryContact) {
					t.Fatalf("relinquished: %v", got.Relinquished)
				}
			} else {
				if got.AnonymisedAt == nil || got.FirstName != nil || got.Email != nil {
					t.Fatalf("an anonymise run kept contact data: %+v", got)
				}
				if !holdsData(exp["cdrstore"]) || strings.Contains(exp["invoicestore"], name) {
					t.Fatalf("after an anonymise-only run: cdrstore %s; invoicestore %s", exp["cdrstore"], exp["invoicestore"])
				}
				if got.Relinquished.Has(retention.CategoryCDR) || !got.Relinquished.Has(retention.CategoryContact) {
					t.Fatalf("relinquished: %v", got.Relinquished)
				}
			}
			if w.svc.DeletionTime(got) == nil || w.svc.DeletionTime(got).Year() < 2033 {
				t.Fatalf("after relinquishing every category of the policy only the erase remains: %v", w.svc.DeletionTime(got))
			}

			// The widening shows in the preview before it is saved ...
			preview, err := w.engine.PreviewDataPolicy(ctx, both, nil, "test")
			if err != nil {
				t.Fatal(err)
			}
			if w.inPlan(t, preview.ID, c.ID) != "anonymise" {
				t.Fatalf("dataPolicyPreview of the widening does not plan %s", c.ID)
			}
			// ... and once saved in the deletion time, its reason and a dry run.
			if _, err := w.svc.UpdateDataPolicy(ctx, both); err != nil {
				t.Fatal(err)
			}
			got, _ = w.svc.Customer(ctx, c.ID)
			if w.svc.DeletionTime(got) == nil || !w.svc.DeletionTime(got).Equal(mustTime(t, "2024-03-02T00:00:00Z").UTC()) {
				t.Fatalf("widened policy: deletion time %v, want 2024-03-02", w.svc.DeletionTime(got))
			}
			reason, _ := w.svc.DeletionReason(ctx, got)
			missing := retention.CategoryContact
			if !first.RemoveCDRs {
				missing = retention.CategoryCDR
			}
			if !strings.Contains(reason, missing) {
				t.Fatalf("deletionReason does not name the missing category %s: %s", missing, reason)
			}
			dry, err := w.engine.Run(ctx, retention.RunOptions{DryRun: true})
			if err != nil || w.inPlan(t, dry.ID, c.ID) != "anonymise" {
				t.Fatalf("dry run does not plan the widening for %s: %+v %v", c.ID, dry, err)
			}
			run, err = w.engine.Run(ctx, retention.RunOptions{Trigger: "test"})
			if err != nil || run.CustomersFailed != 0 {
				t.Fatalf("second run: %+v %v", run, err)
			}
			got, _ = w.store.Customer(ctx, c.ID)
			exp = w.exports(t, retention.Subject{CustomerID: c.ID})
			if got.AnonymisedAt == nil || got.FirstName != nil || got.Email != nil || got.ErasedAt != nil {
				t.Fatalf("after the widening run: %+v", got)
			}
			if holdsData(exp["cdrstore"]) || strings.Contains(exp["invoicestore"], name) || strings.Contains(exp["invoicestore"], email) {
				t.Fatalf("after the widening run: cdrstore %s; invoicestore %s", exp["cdrstore"], exp["invoicestore"])
			}
			for _, cat := range both.Categories() {
				if !got.Relinquished.Has(cat) {
					t.Fatalf("%s not recorded as relinquished: %v", cat, got.Relinquished)
				}
			}
			// Each category was relinquished once: the first run's category
			// keeps its time, and nothing is planned again.
			dry, _ = w.engine.Run(ctx, retention.RunOptions{DryRun: true})
			if k := w.inPlan(t, dry.ID, c.ID); k != "" {
				t.Fatalf("relinquished customer planned again: %s", k)
			}
			if w.svc.DeletionTime(got) == nil || w.svc.DeletionTime(got).Year() < 2033 {
				t.Fatalf("only the erase remains: %v", w.svc.DeletionTime(got))
			}
		}
	})
}

// secretsIn lists which of the secrets occur in the bytes of any file
// under dir: read directly, not through Lethe or a connector.
func secretsIn(t *testing.T, dir string, secrets []string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				found = append(found, fmt.Sprintf("%q in %s", s, strings.TrimPrefix(path, dir)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// secretsInTables reads every row of every table of Lethe's database
// (SQLite or PostgreSQL) and lists the secrets found.
func (w *world) secretsInTables(t *testing.T, secrets []string) []string {
	t.Helper()
	ctx := context.Background()
	db := w.store.DB()
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if w.database != "" {
		// Lethe's own tables and the built-in connectors' (a schema each).
		q = "SELECT CASE table_schema WHEN 'public' THEN table_name ELSE table_schema || '.' || table_name END FROM information_schema.tables WHERE table_schema = 'public' OR table_schema LIKE 'connector\\_%'"
	}
	var tables []string
	if err := db.NewRaw(q).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			line := fmt.Sprint(vals...)
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					line += " " + string(b)
				}
				_ = i
			}
			for _, s := range secrets {
				if strings.Contains(line, s) {
					found = append(found, fmt.Sprintf("%q in table %s", s, table))
				}
			}
		}
		rows.Close()
	}
	return found
}

// TestErasedCustomerLeavesNoTrace erases by hand a customer with call
// records, an invoice, an appointment and visits with custom fields, then
// reads every table of Lethe's database and every file of Lethe and of the
// connectors' stores directly: nothing of the customer remains, and the
// erasure receipt answers for it.
func TestErasedCustomerLeavesNoTrace(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, database string) {
		w := newWorld(t, 10, database)
		ctx := retention.WithActor(context.Background(), retention.Actor{Name: "frontdesk"})
		first, last, email, phone := "Zephyrine", "Quillfeather", "zephyrine.q@trace.test", "+49 30 9876543"
		note, card := "note-7Hq2-secret", "card-4111-9922"
		c, err := w.svc.CreateCustomer(ctx, retention.CustomerInput{
			PersonalData: retention.PersonalData{FirstName: sp(first), LastName: sp(last), Email: sp(email), Phone: sp(phone)}})
		if err != nil {
			t.Fatal(err)
		}
		w.seedBilling(t, c, first+" "+last)
		past := time.Now().Add(-48 * time.Hour)
		if _, err := w.svc.BookAppointment(ctx, c.ID, past, past.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ended, err := w.svc.StartVisit(ctx, retention.VisitInput{CustomerID: &c.ID, CustomFields: []retention.CustomFieldValue{
			{Field: "custom1", Value: sp(note)}, {Field: "custom2", Value: sp(card)}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.EndVisit(ctx, ended.ID); err != nil {
			t.Fatal(err)
		}
		if stats := w.exports(t, retention.Subject{CustomerID: c.ID})["statdb"]; !strings.Contains(stats, note) {
			t.Fatalf("the statistics store should hold the stored custom field before the erasure: %s", stats)
		}
		// A second visit, still open, keeps its custom fields on the visit.
		if _, err := w.svc.StartVisit(ctx, retention.VisitInput{CustomerID: &c.ID, CustomFields: []retention.CustomFieldValue{
			{Field: "custom3", Value: sp(card + "-open")}}}); err != nil {
			t.Fatal(err)
		}
		// The search terms hold the names folded to lower case: looked for
		// too, so that a term row left behind is noticed.
		secrets := []string{first, last, email, phone, "9876543", note, card, strings.ToLower(first), strings.ToLower(last)}
		found := w.secretsInTables(t, secrets)
		if len(found) == 0 {
			t.Fatal("the scan finds nothing even before the erasure: it proves nothing")
		}
		if !slices.Contains(found, fmt.Sprintf("%q in table customer_terms", strings.ToLower(last))) {
			t.Fatalf("the scan does not see the search terms before the erasure: %v", found)
		}
		if found := secretsIn(t, filepath.Join(w.dir, "connectors"), secrets); len(found) == 0 && database == "" {
			t.Fatal("the file scan finds nothing even before the erasure: it proves nothing")
		}
		if database != "" && !slices.ContainsFunc(found, func(f string) bool { return strings.Contains(f, "connector_invoicestore.") }) {
			t.Fatalf("the scan does not see the invoice store's tables before the erasure: %v", found)
		}

		if _, err := w.svc.DeleteCustomer(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if found := w.secretsInTables(t, secrets); len(found) > 0 {
			t.Fatalf("Lethe's tables still hold: %v", found)
		}
		// Files: the connectors' stores, and Lethe's own SQLite file and WAL.
		if found := secretsIn(t, filepath.Join(w.dir, "connectors"), secrets); len(found) > 0 {
			t.Fatalf("connector stores still hold, read from their files: %v", found)
		}
		if database == "" {
			if found := secretsIn(t, w.dir, secrets); len(found) > 0 {
				t.Fatalf("files still hold: %v", found)
			}
		}
		for name, data := range w.exports(t, retention.Subject{CustomerID: c.ID, FirstName: first, LastName: last, Email: email, Phone: phone}) {
			t.Fatalf("%s still exports the erased customer: %s", name, data)
		}

		rec, err := w.svc.ErasureReceipt(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.ErasedAt == nil || len(rec.Entries) != 1 || rec.Entries[0].Trigger != "manual" || rec.Entries[0].By != "frontdesk" {
			t.Fatalf("receipt: %+v", rec)
		}
		if len(rec.Entries[0].Connectors) != 3 {
			t.Fatalf("receipt connectors: %+v", rec.Entries[0].Connectors)
		}
		for _, rc := range rec.Entries[0].Connectors {
			if rc.Residue != "clean" || !rc.Outcome.Confirmed() {
				t.Fatalf("receipt for %s: %+v", rc.Connector, rc)
			}
		}
		cats := map[string]bool{}
		for _, rc := range rec.Categories {
			cats[rc.Category] = true
		}
		for _, want := range []string{retention.CategoryContact, retention.CategoryCDR, retention.CategoryInvoice, retention.CategoryVisitStats, retention.CategoryCustomFields} {
			if !cats[want] {
				t.Fatalf("receipt lacks category %s: %+v", want, rec.Categories)
			}
		}
		b, _ := json.Marshal(rec)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Fatalf("the receipt holds personal data %q", s)
			}
		}
		other, _ := w.svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Kept")}})
		if _, err := w.svc.ErasureReceipt(ctx, other.ID); retention.ErrorCode(err) != retention.CodeNotFound || !strings.Contains(err.Error(), "never relinquished") {
			t.Fatalf("receipt of a customer never relinquished: %v", err)
		}
	})
}
