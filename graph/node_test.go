package graph_test

import (
	"testing"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestNodeIdentification: every object a client caches has a stable id,
// and node(id:) fetches it again with the same fields; after
// updateRetentionPolicy the object of that id shows the new days (what a
// normalized client cache relies on). Customers through node need an
// operator, as through customer(id:).
func TestNodeIdentification(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		cus := get(c.ok(`mutation { createCustomer(input: {firstName: "Node"}) { id } }`, nil), "createCustomer", "id").(string)
		run := get(c.ok(`mutation { runRetention(dryRun: true) { id } }`, nil), "runRetention", "id").(string)
		ids := c.ok(`{ retentionPolicies { id name } dataPolicy { id } fieldPreferences { id } }`, nil)
		pol := get(ids, "retentionPolicies").([]any)[0].(map[string]any)
		for _, tc := range []struct{ id, typename string }{
			{cus, "Customer"}, {run, "RetentionRun"}, {pol["id"].(string), "RetentionPolicy"},
			{get(ids, "dataPolicy", "id").(string), "DataPolicy"}, {get(ids, "fieldPreferences", "id").(string), "FieldPreferences"},
		} {
			got := c.ok(`query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": tc.id})
			if get(got, "node", "__typename") != tc.typename || get(got, "node", "id") != tc.id {
				t.Errorf("node(%s): %v", tc.id, got)
			}
		}
		name := pol["name"].(string)
		c.ok(`mutation($n: ID!) { updateRetentionPolicy(input: {name: $n, retentionDays: 77}) { id retentionDays } }`, map[string]any{"n": name})
		got := c.ok(`query($id: ID!) { node(id: $id) { ... on RetentionPolicy { name retentionDays } } }`, map[string]any{"id": pol["id"]})
		if get(got, "node", "retentionDays") != float64(77) || get(got, "node", "name") != name {
			t.Fatalf("policy by id after update: %v", got)
		}
		for _, unknown := range []string{"cus_nobody", "pol_nothing", "run_none", "what", ""} {
			if got := c.ok(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": unknown}); get(got, "node") != nil {
				t.Errorf("node(%q): %v", unknown, got)
			}
		}
		c.token = mustToken(t, retention.NewService(s), "node-viewer", retention.RoleViewer)
		c.fails("FORBIDDEN", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": cus})
		if got := c.ok(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": pol["id"]}); get(got, "node", "id") != pol["id"] {
			t.Fatalf("viewer, policy: %v", got)
		}
	})
}
