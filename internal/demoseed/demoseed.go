// Package demoseed fills the built-in connectors' stores with demo data for
// `lethe demo`, writing straight into each store where the connectors
// Manager will point its plugin (dataDir/connectors/<name>), so seeding
// needs no running plugin and no gRPC round trips.
package demoseed

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
	"github.com/lethe-privacy/lethe/plugins/statdb/statsdb"
	"github.com/lethe-privacy/lethe/retention"
)

// BillingPercent of customers have call records and invoices; the others
// only appear in visit statistics, as in a real customer base where not
// everyone is on a billed plan.
const BillingPercent = 70

// CDRsPerCustomer is how many call records a billing customer gets.
const CDRsPerCustomer = 10

// Seed writes demo data for customers and visits into the cdrstore,
// invoicestore and statdb stores under dataDir/connectors. The same
// arguments (on the same day) always give the same data, and seeding again
// adds nothing. The three stores are seeded concurrently; invoice PDFs are
// filled from pre-rendered templates (invoicedb.Template) because rendering
// a hundred thousand PDFs one by one would dominate the demo's start-up.
func Seed(ctx context.Context, dataDir string, customers []retention.Subject, visits []retention.VisitRecord, seed int64) error {
	return SeedWith(ctx, dataDir, Options{}, customers, visits, seed)
}

// Options says where the stores are and how much data customers get.
type Options struct {
	// DSN gives a connector's dsn setting (Lethe on PostgreSQL keeps the
	// built-in stores there, see store.ConnectorDSN); nil means the
	// embedded stores under dataDir/connectors.
	DSN func(name string) string
	// Billing gives the percentage of billing customers (with call
	// records and invoices) that applies to customers[i]; nil means
	// BillingPercent for all.
	Billing func(i int) int
}

// SeedWith is Seed with Options.
func SeedWith(ctx context.Context, dataDir string, opt Options, customers []retention.Subject, visits []retention.VisitRecord, seed int64) error {
	dsn := opt.DSN
	if dsn == nil {
		dsn = func(string) string { return "" }
	}
	billing := opt.Billing
	if billing == nil {
		billing = func(int) int { return BillingPercent }
	}
	now := time.Now().UTC().Truncate(24 * time.Hour)
	var cdrs []cdrdb.SeedCustomer
	var invoices []invoicedb.SeedCustomer
	names := make(map[string]string, len(customers))
	for i, c := range customers {
		name := fullName(c)
		names[c.CustomerID] = name
		h := hash(seed, c.CustomerID)
		if h%100 >= uint64(billing(i)) {
			continue
		}
		cdrs = append(cdrs, cdrdb.SeedCustomer{ID: c.CustomerID, Phone: c.Phone, Count: CDRsPerCustomer})
		invoices = append(invoices, invoicedb.SeedCustomer{
			ID: c.CustomerID, Name: name, Email: c.Email,
			Address:  fmt.Sprintf("%d Demo Street", 1+h/100%200),
			Invoices: 1 + int(h/100000%3),
		})
	}
	rows := make([]statsdb.Visit, len(visits))
	for i, v := range visits {
		// The same conversion the statdb plugin applies to a visit it receives.
		rows[i] = statsdb.FromRecord(sdk.VisitRecord{VisitID: v.VisitID, CustomerID: v.CustomerID, Branch: v.Branch,
			Service: v.Service, StartedAt: v.StartedAt, EndedAt: v.EndedAt, CustomFields: v.CustomFields})
		if rows[i].VisitorName == "" {
			rows[i].VisitorName = names[v.CustomerID]
		}
	}

	dir := func(name string) string { return filepath.Join(dataDir, "connectors", name) }
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Go(func() {
		st, err := cdrdb.Open(ctx, dir("cdrstore"), dsn("cdrstore"))
		if err == nil {
			err = cdrdb.Seed(ctx, st, cdrs, seed, now)
			st.Close()
		}
		errs[0] = wrap("cdrstore", err)
	})
	wg.Go(func() {
		st, err := invoicedb.Open(ctx, dir("invoicestore"), dsn("invoicestore"))
		if err == nil {
			err = invoicedb.Seed(ctx, st, invoices, invoicedb.SeedOptions{Seed: seed, Now: now, Fast: true})
			st.Close()
		}
		errs[1] = wrap("invoicestore", err)
	})
	wg.Go(func() {
		st, err := statsdb.Open(ctx, dir("statdb"), dsn("statdb"))
		if err == nil {
			err = statsdb.Seed(ctx, st, rows)
			st.Close()
		}
		errs[2] = wrap("statdb", err)
	})
	wg.Wait()
	return errors.Join(errs...)
}

func wrap(store string, err error) error {
	if err != nil {
		return fmt.Errorf("seed %s: %w", store, err)
	}
	return nil
}

func fullName(c retention.Subject) string {
	switch {
	case c.FirstName == "":
		return c.LastName
	case c.LastName == "":
		return c.FirstName
	}
	return c.FirstName + " " + c.LastName
}

func hash(seed int64, id string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, id)
	return h.Sum64()
}
