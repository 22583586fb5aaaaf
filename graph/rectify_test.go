package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestUpdateCustomerAPI corrects a customer through GraphQL: only the given
// fields change, bad input is a BAD_USER_INPUT naming the field and writes
// nothing, and the audit event names fields, never values.
func TestUpdateCustomerAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		created := c.ok(`mutation { createCustomer(input: {firstName: "Marry", lastName: "Shelley", phone: "+44 20 7946 0000"}) { id } }`, nil)
		id := get(created, "createCustomer", "id").(string)
		const update = `mutation($id: ID!, $in: UpdateCustomerInput!) { updateCustomer(id: $id, input: $in) { firstName lastName email phone deletionReason } }`
		d := c.ok(update, map[string]any{"id": id, "in": map[string]any{"firstName": "Mary", "email": "mary@example.org"}})
		u := get(d, "updateCustomer").(map[string]any)
		if u["firstName"] != "Mary" || u["lastName"] != "Shelley" || u["email"] != "mary@example.org" || u["phone"] != "+44 20 7946 0000" {
			t.Fatalf("after the edit: %v", u)
		}
		if !strings.Contains(u["deletionReason"].(string), "edit") {
			t.Fatalf("deletionReason does not name the edit: %v", u["deletionReason"])
		}
		msg := c.fails("BAD_USER_INPUT", update, map[string]any{"id": id, "in": map[string]any{"phone": "call me"}})
		if !strings.Contains(msg, "phone") {
			t.Fatalf("the error does not name the field: %s", msg)
		}
		c.fails("NOT_FOUND", update, map[string]any{"id": "cus_nope", "in": map[string]any{"firstName": "X"}})
		d = c.ok(`query($s: String) { auditLog(subject: $s, action: "customer.update") { action details } }`, map[string]any{"s": id})
		evs := get(d, "auditLog").([]any)
		if len(evs) != 1 {
			t.Fatalf("want one customer.update event, got %v", evs)
		}
		details := evs[0].(map[string]any)["details"]
		raw := strings.ToLower(toJSON(details))
		if !strings.Contains(raw, "firstname") || !strings.Contains(raw, "email") || strings.Contains(raw, "mary") {
			t.Fatalf("audit details %s: want the field names, never the values", raw)
		}
	})
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
