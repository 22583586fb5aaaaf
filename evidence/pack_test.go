package evidence_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/evidence"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestPackCountsEveryEvent: a period with more erasures than one page of
// the audit log (12,001, read 5,000 at a time) is counted in full, per
// connector, and only the erasure asked for by hand is listed one by one;
// events outside the period are left out.
func TestPackCountsEveryEvent(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpenSQLite(t)
	svc := retention.NewService(s)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var events []retention.AuditEvent
	for i := 0; i < 12_003; i++ {
		at := from.Add(time.Duration(i) * time.Second)
		if i >= 12_001 {
			at = from.Add(-time.Hour) // before the period
		}
		trigger := "rule"
		if i == 7 {
			trigger = "manual"
		}
		events = append(events, retention.AuditEvent{ID: fmt.Sprintf("aud_%06d", i), At: at, Actor: "scheduler", Action: retention.AuditCustomerErase,
			Subject: fmt.Sprintf("cus_%06d", i), Details: map[string]any{"run": "run_1", "trigger": trigger, "connectors": []any{
				map[string]any{"connector": "cdrstore", "operation": "delete", "outcome": "DELETED"},
				map[string]any{"connector": "cdrstore", "operation": "verify", "outcome": "NOT_FOUND"}}}})
	}
	if err := s.Update(ctx, func(tx retention.Tx) error { return tx.AppendAudits(ctx, events) }); err != nil {
		t.Fatal(err)
	}
	pack, err := evidence.Build(ctx, evidence.Sources{Service: svc, Chain: s}, from, from.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(pack.Connectors) != 1 || pack.Connectors[0].Actions != 2*12_001 || pack.Connectors[0].ResidueChecked != 12_001 {
		t.Fatalf("connectors: %+v", pack.Connectors)
	}
	if len(pack.ManualErasures) != 1 || pack.ManualErasures[0].Subject != "cus_000007" {
		t.Fatalf("manual erasures: %+v", pack.ManualErasures)
	}
	if !pack.Chain.OK() || pack.Chain.Verified != 12_003 {
		t.Fatalf("chain: %s", pack.Chain.Summary())
	}
}
