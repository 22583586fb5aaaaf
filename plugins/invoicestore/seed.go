package main

import (
	"context"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
)

var _ sdk.Seeder = (*connector)(nil)

// Seed writes the batch customers' demo invoices, for `lethe demo`. The
// PDFs are filled from pre-rendered templates (SeedOptions.Fast): rendering
// a hundred thousand one by one would dominate the demo's start-up.
func (c *connector) Seed(ctx context.Context, b sdk.SeedBatch) error {
	st, err := c.Store()
	if err != nil {
		return err
	}
	var invoices []invoicedb.SeedCustomer
	for _, cu := range b.Customers {
		if cu.Invoices > 0 {
			invoices = append(invoices, invoicedb.SeedCustomer{ID: cu.CustomerID, Name: cu.FullName(), Email: cu.Email,
				Address: cu.Address, Invoices: cu.Invoices})
		}
	}
	return invoicedb.Seed(ctx, st, invoices, invoicedb.SeedOptions{Seed: b.Seed, Now: b.Now, Fast: true})
}
