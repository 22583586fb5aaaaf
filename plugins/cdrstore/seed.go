package main

import (
	"context"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
)

var _ sdk.Seeder = (*connector)(nil)

// Seed writes the batch customers' demo call records, for `lethe demo`.
func (c *connector) Seed(ctx context.Context, b sdk.SeedBatch) error {
	st, err := c.Store()
	if err != nil {
		return err
	}
	var cdrs []cdrdb.SeedCustomer
	for _, cu := range b.Customers {
		if cu.CallRecords > 0 {
			cdrs = append(cdrs, cdrdb.SeedCustomer{ID: cu.CustomerID, Phone: cu.Phone, Count: cu.CallRecords})
		}
	}
	return cdrdb.Seed(ctx, st, cdrs, b.Seed, b.Now)
}
