package main

import (
	"fmt"
	"hash/fnv"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/retention"
)

// demoBillingPercent of customers have call records and invoices; the
// others only appear in visit statistics, as in a real customer base where
// not everyone is on a billed plan.
const demoBillingPercent = 70

// demoCallRecords is how many call records a billing customer gets.
const demoCallRecords = 10

// demoFullConnectorData is how many demo customers get the full share of
// connector data (see demoSeedBatch).
const demoFullConnectorData = 100_000

// demoSeedBatch is a chunk's data for the connectors' stores: call records
// and invoices for billing customers, statistics for every ended visit
// (with the custom fields stored at the time). The plugins make the rows
// themselves (see connectors.Seeding).
//
// Beyond its first demoFullConnectorData customers, a demo gives call
// records and invoices to a tenth as many customers (7% instead of 70%).
// This is a product decision for large demos: every invoice is a PDF file,
// and creating a file costs the kernel tens of microseconds, so 1.4 million
// of them (a million customers at the full rate) alone took longer than the
// whole demo may. The demo keeps every kind of data at every size, and every
// visit still has its statistics row.
func demoSeedBatch(d demoData, seed uint64) connectors.SeedBatch {
	b := connectors.SeedBatch{Seed: int64(seed), Customers: make([]connectors.SeedCustomer, len(d.customers))}
	for i, c := range d.customers {
		billing := demoBillingPercent
		if d.first+i >= demoFullConnectorData {
			billing /= 10
		}
		h := demoHash(int64(seed), c.ID)
		b.Customers[i] = connectors.SeedCustomer{Subject: c.Subject()}
		if h%100 < uint64(billing) {
			b.Customers[i].CallRecords = demoCallRecords
			b.Customers[i].Invoices = 1 + int(h/100000%3)
			b.Customers[i].Address = fmt.Sprintf("%d Demo Street", 1+h/100%200)
		}
	}
	for i := range d.visits {
		if d.visits[i].EndedAt != nil {
			b.Visits = append(b.Visits, retention.VisitRecordOf(&d.visits[i]))
		}
	}
	return b
}

// demoHash picks a customer's share of connector data: the same seed and
// customer always get the same.
func demoHash(seed int64, id string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, id)
	return h.Sum64()
}
