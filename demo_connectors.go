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
	var dsn func(string) string
	if store.IsPostgresURL(cfg.Database) {
		dsn = func(name string) string { return store.ConnectorDSN(cfg.Database, name) }
	}
	return demoseed.SeedInto(ctx, cfg.DataDir, dsn, subjects, visits, int64(seed))
}
