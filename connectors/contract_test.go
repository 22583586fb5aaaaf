package connectors_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/retention"
)

// TestMisbehavingPluginFailsItsCall runs the SDK test kit's misbehaving
// plugin in each of its modes: every answer that breaks the contract fails
// the whole call with CONNECTOR_UNAVAILABLE and a message saying what was
// wrong, and no result of it reaches the caller; the same plugin keeping
// the contract answers normally.
func TestMisbehavingPluginFailsItsCall(t *testing.T) {
	t.Parallel()
	subjects := []retention.Subject{{CustomerID: "cus_a"}, {CustomerID: "cus_b"}, {CustomerID: "cus_c"}}
	actions := make([]retention.Action, len(subjects))
	fields := make([]retention.FieldAction, len(subjects))
	for i, s := range subjects {
		actions[i] = retention.Action{ID: "act_" + s.CustomerID, Subject: s}
		fields[i] = retention.FieldAction{ID: "fld_" + s.CustomerID, Subject: s, Fields: []string{"custom1"}}
	}
	cases := []struct {
		mode             string
		results, exports string // what the error says; "" when the call succeeds
	}{
		{"wrong-count", `answered action "act_cus_a" twice`, ""},
		{"unknown-outcome", `action "act_cus_a" has no outcome the contract knows`, ""},
		{"other-subject", `its result for action "act_cus_a" names customer "cus_b-neighbour", the action's is "cus_a"`, `it exported customer "cus_a-neighbour", which it was not asked about`},
		{"huge", `the reason of action "act_cus_a" is 1048576 bytes long`, `its export of customer "cus_a" is 68157442 bytes, more than 67108864`},
		{"good", "", ""},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			w := mustLoad(t, connectors.Config{Connectors: []connectors.PluginConfig{
				pluginConfig(t, "misbehave", "misbehave", map[string]string{"mode": c.mode})}})
			conn, err := w.Connector(context.Background(), "misbehave")
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			check := func(call string, got any, err error, want string) {
				t.Helper()
				if want == "" {
					if err != nil {
						t.Errorf("%s: %v", call, err)
					}
					return
				}
				if retention.ErrorCode(err) != retention.CodeConnectorUnavailable || !strings.Contains(err.Error(), want) ||
					!strings.Contains(err.Error(), `connector "misbehave" broke the contract`) {
					t.Errorf("%s: %v, want CONNECTOR_UNAVAILABLE saying %q", call, err, want)
				}
				if got != nil {
					t.Errorf("%s: a refused answer reached the caller: %v", call, got)
				}
			}
			del, err := conn.Delete(ctx, actions)
			check("Delete", nilIfEmpty(del), err, c.results)
			anon, err := conn.Anonymise(ctx, actions)
			check("Anonymise", nilIfEmpty(anon), err, c.results)
			fld, err := conn.AnonymiseFields(ctx, fields)
			check("AnonymiseFields", nilIfEmpty(fld), err, strings.ReplaceAll(c.results, "act_", "fld_"))
			exp, err := conn.Export(ctx, subjects)
			var expOut any
			if len(exp) > 0 {
				expOut = exp
			}
			check("Export", expOut, err, c.exports)
			if c.mode == "good" && len(del) != len(actions) {
				t.Errorf("good: %d results for %d actions", len(del), len(actions))
			}
		})
	}
}

func nilIfEmpty(rs []retention.ActionResult) any {
	if len(rs) == 0 {
		return nil
	}
	return rs
}
