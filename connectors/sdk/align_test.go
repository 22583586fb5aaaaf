package sdk

import (
	"testing"

	pbv2 "github.com/lethe-privacy/lethe/connectors/sdk/internal/pb/v2"
)

// A plugin may answer out of order, twice, for unknown ids or not at all;
// the host still gets exactly one result per action, in action order.
func TestAlignResults(t *testing.T) {
	acts := []Action{{ID: "a", Subject: Subject{CustomerID: "ca"}}, {ID: "b", Subject: Subject{CustomerID: "cb"}}, {ID: "c", Subject: Subject{CustomerID: "cc"}}}
	got := alignResults(actionKeys(acts), resultsFromPB([]*pbv2.ActionResult{
		{ActionId: "c", Outcome: pbv2.Outcome_OUTCOME_DELETED, Records: 2, CustomerId: "spoofed"},
		{ActionId: "zzz", Outcome: pbv2.Outcome_OUTCOME_DELETED},
		{ActionId: "a", Outcome: pbv2.Outcome_OUTCOME_NOT_FOUND},
		{ActionId: "a", Outcome: pbv2.Outcome_OUTCOME_FAILED},
	}))
	want := []ActionResult{
		{ActionID: "a", CustomerID: "ca", Outcome: OutcomeNotFound},
		{ActionID: "b", CustomerID: "cb", Outcome: OutcomeFailed, Reason: "connector returned no result for this action"},
		{ActionID: "c", CustomerID: "cc", Outcome: OutcomeDeleted, Records: 2},
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
	if r := resultsFromPB([]*pbv2.ActionResult{{ActionId: "x"}})[0]; r.Outcome != OutcomeFailed {
		t.Errorf("unset outcome became %s", r.Outcome)
	}
}
