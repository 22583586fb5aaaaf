package main

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

var t0Demo = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func demoChunkOf(first, n int) demoData {
	d := demoData{first: first}
	for i := range n {
		d.customers = append(d.customers, &retention.Customer{ID: fmt.Sprintf("cus_%07d", first+i)})
	}
	return d
}

// The demo's share of connector data: 70% of customers bill (ten call
// records, one to three invoices, an address) up to demoFullConnectorData,
// 7% beyond; the same seed gives the same batch; every ended visit has its
// statistics row, an open one none.
func TestDemoSeedBatchShareAndDeterminism(t *testing.T) {
	t.Parallel()
	count := func(b []int) (billing int) {
		for _, n := range b {
			if n > 0 {
				billing++
			}
		}
		return billing
	}
	for _, tc := range []struct {
		first    int
		min, max int
	}{{0, 1300, 1500}, {demoFullConnectorData, 90, 200}} {
		b := demoSeedBatch(demoChunkOf(tc.first, 2000), 42)
		var cdrs, invoices []int
		for _, c := range b.Customers {
			cdrs, invoices = append(cdrs, c.CallRecords), append(invoices, c.Invoices)
			if (c.CallRecords > 0) != (c.Invoices > 0) || (c.CallRecords > 0) != (c.Address != "") {
				t.Fatalf("a customer with part of a billing record: %+v", c)
			}
			if c.CallRecords != 0 && c.CallRecords != demoCallRecords || c.Invoices > 3 {
				t.Fatalf("customer %s: %d call records, %d invoices", c.CustomerID, c.CallRecords, c.Invoices)
			}
		}
		if n := count(cdrs); n < tc.min || n > tc.max {
			t.Errorf("customers from %d: %d of 2000 bill, want %d to %d", tc.first, n, tc.min, tc.max)
		}
		if again := demoSeedBatch(demoChunkOf(tc.first, 2000), 42); !reflect.DeepEqual(again, b) {
			t.Errorf("customers from %d: the same seed gave another batch", tc.first)
		}
		if other := demoSeedBatch(demoChunkOf(tc.first, 2000), 43); reflect.DeepEqual(other, b) {
			t.Errorf("customers from %d: another seed gave the same batch", tc.first)
		}
	}
	end := t0Demo.Add(time.Hour)
	d := demoChunkOf(0, 1)
	d.visits = []retention.Visit{{ID: "ended", CustomerID: d.customers[0].ID, StartedAt: t0Demo, EndedAt: &end}, {ID: "open", StartedAt: t0Demo}}
	if b := demoSeedBatch(d, 1); len(b.Visits) != 1 || b.Visits[0].VisitID != "ended" {
		t.Fatalf("visits sent: %+v", b.Visits)
	}
}
