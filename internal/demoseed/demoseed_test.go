package demoseed_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/internal/demoseed"
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
	"github.com/lethe-privacy/lethe/plugins/statdb/statsdb"
	"github.com/lethe-privacy/lethe/retention"
)

func demoData(n int) ([]retention.Subject, []retention.VisitRecord) {
	customers := make([]retention.Subject, n)
	var visits []retention.VisitRecord
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range customers {
		id := fmt.Sprintf("cust-%06d", i)
		customers[i] = retention.Subject{CustomerID: id, FirstName: "First" + strconv.Itoa(i), LastName: "Last",
			Email: id + "@example.org", Phone: fmt.Sprintf("+4930%08d", i)}
		if i%2 == 0 {
			visits = append(visits, retention.VisitRecord{VisitID: "v-" + id, CustomerID: id, Branch: "Main", Service: "Desk",
				StartedAt: start, EndedAt: start.Add(10 * time.Minute), CustomFields: map[string]string{"custom1": "x"}})
		}
	}
	return customers, visits
}

type counts struct{ cdrs, invoices, billing, visits, named int }

func count(t *testing.T, dir string, customers []retention.Subject) counts {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, len(customers))
	for i, c := range customers {
		ids[i] = c.CustomerID
	}
	var c counts
	cdr, err := cdrdb.Open(ctx, filepath.Join(dir, "connectors", "cdrstore"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer cdr.Close()
	byC, _ := cdr.ByCustomers(ctx, ids)
	for _, rs := range byC {
		c.cdrs += len(rs)
		c.billing++
	}
	inv, err := invoicedb.Open(ctx, filepath.Join(dir, "connectors", "invoicestore"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	byI, _ := inv.ByCustomers(ctx, ids)
	for _, h := range byI {
		if len(h.Invoices) < 1 || len(h.Invoices) > 3 {
			t.Errorf("customer has %d invoices, want 1-3", len(h.Invoices))
		}
		for _, i := range h.Invoices {
			if _, err := os.Stat(inv.Path(i.File)); err != nil {
				t.Errorf("invoice file missing: %v", err)
			}
		}
		c.invoices += len(h.Invoices)
	}
	st, err := statsdb.Open(ctx, filepath.Join(dir, "connectors", "statdb"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	byV, _ := st.ByCustomers(ctx, ids)
	for _, vs := range byV {
		c.visits += len(vs)
		for _, v := range vs {
			if v.VisitorName != "" {
				c.named++
			}
		}
	}
	return c
}

func TestSeedIsDeterministicAndProportioned(t *testing.T) {
	customers, visits := demoData(2000)
	dir := t.TempDir()
	for range 2 {
		if err := demoseed.Seed(context.Background(), dir, customers, visits, 42); err != nil {
			t.Fatal(err)
		}
	}
	got := count(t, dir, customers)
	if got.billing < 1300 || got.billing > 1500 {
		t.Errorf("%d billing customers of 2000, want about 70%%", got.billing)
	}
	if got.cdrs != got.billing*demoseed.CDRsPerCustomer {
		t.Errorf("%d CDRs for %d billing customers", got.cdrs, got.billing)
	}
	if got.visits != len(visits) || got.named != len(visits) {
		t.Errorf("%d visit rows (%d named), want %d", got.visits, got.named, len(visits))
	}
	// Another directory, same arguments: the same data.
	dir2 := t.TempDir()
	if err := demoseed.Seed(context.Background(), dir2, customers, visits, 42); err != nil {
		t.Fatal(err)
	}
	if again := count(t, dir2, customers); again != got {
		t.Errorf("seeding is not deterministic: %+v then %+v", got, again)
	}
}

// Options.Billing sets the share of billing customers per customer: the
// large demo's thinner tail (see seedConnectors in package main).
func TestSeedBillingShare(t *testing.T) {
	customers, visits := demoData(4000)
	dir := t.TempDir()
	opt := demoseed.Options{Billing: func(i int) int {
		if i < 2000 {
			return demoseed.BillingPercent
		}
		return demoseed.BillingPercent / 10
	}}
	if err := demoseed.SeedWith(context.Background(), dir, opt, customers, visits, 42); err != nil {
		t.Fatal(err)
	}
	full, thin := count(t, dir, customers[:2000]), count(t, dir, customers[2000:])
	if full.billing < 1300 || full.billing > 1500 {
		t.Errorf("%d billing customers of the first 2000, want about 70%%", full.billing)
	}
	if thin.billing < 90 || thin.billing > 200 {
		t.Errorf("%d billing customers of the last 2000, want about 7%%", thin.billing)
	}
	if thin.cdrs != thin.billing*demoseed.CDRsPerCustomer || thin.invoices < thin.billing {
		t.Errorf("thin customers: %d CDRs and %d invoices for %d billing customers", thin.cdrs, thin.invoices, thin.billing)
	}
	if full.visits+thin.visits != len(visits) {
		t.Errorf("%d visit rows, want every visit (%d)", full.visits+thin.visits, len(visits))
	}
}

// BenchmarkSeed100k measures the demo's scale: go test -run - -bench Seed100k -benchtime 1x ./internal/demoseed
func BenchmarkSeed100k(b *testing.B) {
	customers, visits := demoData(100_000)
	for b.Loop() {
		if err := demoseed.Seed(context.Background(), b.TempDir(), customers, visits, 1); err != nil {
			b.Fatal(err)
		}
	}
}
