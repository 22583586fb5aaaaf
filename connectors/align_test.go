package connectors

import (
	"testing"

	connectorpb "github.com/lethe-privacy/lethe/connectors/proto"
	"github.com/lethe-privacy/lethe/retention"
)

// A plugin may answer out of order, twice, for unknown ids or not at all;
// the host still returns exactly one result per action, in action order.
func TestAlignResults(t *testing.T) {
	acts := []retention.Action{{ID: "a", Subject: retention.Subject{CustomerID: "ca"}}, {ID: "b", Subject: retention.Subject{CustomerID: "cb"}}, {ID: "c", Subject: retention.Subject{CustomerID: "cc"}}}
	got := alignResults(acts, []*connectorpb.ActionResult{
		{ActionId: "c", Outcome: connectorpb.Outcome_OUTCOME_DELETED, Records: 2, CustomerId: "spoofed"},
		{ActionId: "zzz", Outcome: connectorpb.Outcome_OUTCOME_DELETED},
		{ActionId: "a", Outcome: connectorpb.Outcome_OUTCOME_NOT_FOUND},
		{ActionId: "a", Outcome: connectorpb.Outcome_OUTCOME_FAILED},
	})
	want := []retention.ActionResult{
		{ActionID: "a", CustomerID: "ca", Outcome: retention.OutcomeNotFound},
		{ActionID: "b", CustomerID: "cb", Outcome: retention.OutcomeFailed, Reason: "connector returned no result for this action"},
		{ActionID: "c", CustomerID: "cc", Outcome: retention.OutcomeDeleted, Records: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d results", len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// An outcome the plugin left unset is not a confirmation.
	if r := resultFromPB(&connectorpb.ActionResult{ActionId: "x"}); r.Outcome != retention.OutcomeFailed {
		t.Errorf("unset outcome became %s", r.Outcome)
	}
}
