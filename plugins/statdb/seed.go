package main

import (
	"context"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/statdb/statsdb"
)

var _ sdk.Seeder = (*connector)(nil)

// Seed writes the batch's ended visits as the statistics rows this
// connector makes of a visit it receives, for `lethe demo`. Demo rows of a
// customer's visits carry the customer's name, so that anonymising them
// shows.
func (c *connector) Seed(ctx context.Context, b sdk.SeedBatch) error {
	st, err := c.Store()
	if err != nil {
		return err
	}
	names := make(map[string]string, len(b.Customers))
	for _, cu := range b.Customers {
		names[cu.CustomerID] = cu.FullName()
	}
	rows := make([]statsdb.Visit, len(b.Visits))
	for i, v := range b.Visits {
		rows[i] = statsdb.FromRecord(v)
		if rows[i].VisitorName == "" {
			rows[i].VisitorName = names[v.CustomerID]
		}
	}
	return statsdb.Seed(ctx, st, rows)
}
