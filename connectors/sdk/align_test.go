package sdk

import (
	"errors"
	"strings"
	"testing"

	pbv2 "github.com/lethe-privacy/lethe/connectors/sdk/internal/pb/v2"
)

// A plugin may answer in any order; the host gets exactly one result per
// action, in action order, with the action's customer.
func TestAlignResults(t *testing.T) {
	acts := []Action{{ID: "a", Subject: Subject{CustomerID: "ca"}}, {ID: "b", Subject: Subject{CustomerID: "cb"}}, {ID: "c", Subject: Subject{CustomerID: "cc"}}}
	got, err := alignResults(actionKeys(acts), resultsFromPB([]*pbv2.ActionResult{
		{ActionId: "c", Outcome: pbv2.Outcome_OUTCOME_DELETED, Records: 2, CustomerId: "cc"},
		{ActionId: "a", Outcome: pbv2.Outcome_OUTCOME_NOT_FOUND},
		{ActionId: "b", Outcome: pbv2.Outcome_OUTCOME_FAILED, Reason: "locked"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []ActionResult{
		{ActionID: "a", CustomerID: "ca", Outcome: OutcomeNotFound},
		{ActionID: "b", CustomerID: "cb", Outcome: OutcomeFailed, Reason: "locked"},
		{ActionID: "c", CustomerID: "cc", Outcome: OutcomeDeleted, Records: 2},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// An answer that breaks the contract is refused whole, saying why: nothing
// of it could be trusted to confirm an action.
func TestAlignResultsRefusesGarbage(t *testing.T) {
	acts := actionKeys([]Action{{ID: "a", Subject: Subject{CustomerID: "ca"}}, {ID: "b", Subject: Subject{CustomerID: "cb"}}})
	ok := func(id, customer string) *pbv2.ActionResult {
		return &pbv2.ActionResult{ActionId: id, CustomerId: customer, Outcome: pbv2.Outcome_OUTCOME_DELETED}
	}
	cases := []struct {
		name string
		got  []*pbv2.ActionResult
		want string
	}{
		{"one missing", []*pbv2.ActionResult{ok("a", "ca")}, "answered 1 of the 2 actions"},
		{"a duplicate", []*pbv2.ActionResult{ok("a", "ca"), ok("a", "ca"), ok("b", "cb")}, `answered action "a" twice`},
		{"an unknown action", []*pbv2.ActionResult{ok("a", "ca"), ok("b", "cb"), ok("zzz", "ca")}, `answered action "zzz", which was not sent`},
		{"another customer", []*pbv2.ActionResult{ok("a", "cb"), ok("b", "cb")}, `names customer "cb", the action's is "ca"`},
		{"no outcome", []*pbv2.ActionResult{ok("a", "ca"), {ActionId: "b"}}, `action "b" has no outcome the contract knows`},
		{"an unknown outcome number", []*pbv2.ActionResult{ok("a", "ca"), {ActionId: "b", Outcome: 17}}, `action "b" has no outcome`},
		{"a huge reason", []*pbv2.ActionResult{ok("a", "ca"), {ActionId: "b", Outcome: pbv2.Outcome_OUTCOME_FAILED, Reason: strings.Repeat("r", MaxReasonBytes+1)}}, "bytes long"},
		{"negative records", []*pbv2.ActionResult{ok("a", "ca"), {ActionId: "b", Outcome: pbv2.Outcome_OUTCOME_DELETED, Records: -1}}, "affected -1 records"},
	}
	for _, c := range cases {
		got, err := alignResults(acts, resultsFromPB(c.got))
		var ce *ContractError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) || got != nil {
			t.Errorf("%s: %v %v, want a ContractError saying %q", c.name, got, err, c.want)
		}
	}
}
