package main

import (
	"context"

	"github.com/lethe-privacy/lethe/internal/demoseed"
	"github.com/lethe-privacy/lethe/retention"
)

// seedConnectors fills the built-in connectors' stores for the demo
// customers: call records and invoices for billing customers, statistics for
// every ended visit (with the custom fields stored at the time).
func seedConnectors(ctx context.Context, dataDir string, d demoData, seed uint64) error {
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
	return demoseed.Seed(ctx, dataDir, subjects, visits, int64(seed))
}
