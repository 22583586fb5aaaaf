package main

import (
	"context"

	"github.com/lethe-privacy/lethe/internal/demoseed"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
)

// seedConnectors fills the built-in connectors' stores for the demo
// customers: call records and invoices for billing customers, statistics for
// every ended visit (with the custom fields stored at the time).
//
// Beyond its first demoFullConnectorData customers, a demo gives call
// records and invoices to a tenth as many customers (7% instead of 70%).
// This is a product decision for large demos: every invoice is a PDF file,
// and creating a file costs the kernel tens of microseconds, so 1.4 million
// of them (a million customers at the full rate) alone took longer than the
// whole demo may. The demo keeps every kind of data at every size, the
// first 100,000 customers get exactly what they got before (so `make run`'s
// 2,000-customer demo is unchanged), and every visit still has its
// statistics row.
func seedConnectors(ctx context.Context, cfg Config, d demoData, seed uint64) error {
	subjects := make([]retention.Subject, len(d.customers))
	for i, c := range d.customers {
		subjects[i] = c.Subject()
	}
	var visits []retention.VisitRecord
	for i := range d.visits {
		if d.visits[i].EndedAt != nil {
			visits = append(visits, retention.VisitRecordOf(&d.visits[i]))
		}
	}
	// On PostgreSQL the built-in stores live in Lethe's database, where
	// every replica's plugins look (see loadConnectors).
	opt := demoseed.Options{Billing: func(i int) int {
		if d.first+i < demoFullConnectorData {
			return demoseed.BillingPercent
		}
		return demoseed.BillingPercent / 10
	}}
	if store.IsPostgresURL(cfg.Database) {
		opt.DSN = func(name string) string { return store.ConnectorDSN(cfg.Database, name) }
	}
	return demoseed.SeedWith(ctx, cfg.DataDir, opt, subjects, visits, int64(seed))
}

// demoFullConnectorData is how many demo customers get the full share of
// connector data (see seedConnectors).
const demoFullConnectorData = 100_000
