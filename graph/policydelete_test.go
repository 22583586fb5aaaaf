package graph_test

import (
	"testing"

	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestDeleteRetentionPolicy: a custom policy is deleted once no customer is
// assigned it; while one is, POLICY_IN_USE says how many; a built-in policy
// and an unknown name are refused; the audit log records the deletion.
func TestDeleteRetentionPolicy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		c.ok(`mutation { createRetentionPolicy(input: {name: "tax_records", retentionDays: 3650, description: "ten years"}) { name } }`, nil)
		id := get(c.ok(`mutation { createCustomer(input: {firstName: "Ada", lastName: "Lovelace", email: "ada@example.com"}) { id } }`, nil), "createCustomer", "id").(string)
		c.ok(`mutation($id: ID!) { setCustomerRetentionPolicy(id: $id, policy: "tax_records") { id } }`, map[string]any{"id": id})
		r := c.do(`mutation { deleteRetentionPolicy(name: "tax_records") { name } }`, nil)
		if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "POLICY_IN_USE" || r.Errors[0].Extensions["customers"] != float64(1) {
			t.Fatalf("deleting a policy in use: %+v", r)
		}
		c.fails("BAD_USER_INPUT", `mutation { deleteRetentionPolicy(name: "visit_days") { name } }`, nil)
		c.fails("NOT_FOUND", `mutation { deleteRetentionPolicy(name: "nope") { name } }`, nil)
		c.ok(`mutation($id: ID!) { clearCustomerRetentionPolicy(id: $id) { id } }`, map[string]any{"id": id})
		d := c.ok(`mutation { deleteRetentionPolicy(name: "tax_records") { name retentionDays } }`, nil)
		if get(d, "deleteRetentionPolicy", "retentionDays") != float64(3650) {
			t.Fatalf("delete answers %v", d)
		}
		d = c.ok(`{ retentionPolicy(name: "tax_records") { name } auditLog(first: 50) { action subject } }`, nil)
		if get(d, "retentionPolicy") != nil {
			t.Fatalf("the policy is still there: %v", d)
		}
		deleted := 0
		for _, e := range get(d, "auditLog").([]any) {
			if e.(map[string]any)["action"] == "policy.delete" && e.(map[string]any)["subject"] == "tax_records" {
				deleted++
			}
		}
		if deleted != 1 {
			t.Fatalf("audit log: %v", d)
		}
		c.fails("NOT_FOUND", `mutation { deleteRetentionPolicy(name: "tax_records") { name } }`, nil)
	})
}

// TestCustomFieldLabels: labels are stored, shown with the storage
// settings, removed by an empty label, and validated.
func TestCustomFieldLabels(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		d := c.ok(`mutation { updateCustomFieldLabels(input: [{field: "custom1", label: " Notes "}, {field: "custom3", label: "Card number"}]) { field label storeInStatDatabase } }`, nil)
		list := get(d, "updateCustomFieldLabels").([]any)
		labels := map[string]any{}
		for _, x := range list {
			m := x.(map[string]any)
			labels[m["field"].(string)] = m["label"]
		}
		if labels["custom1"] != "Notes" || labels["custom3"] != "Card number" || labels["custom2"] != nil || len(list) != 5 {
			t.Fatalf("labels: %v", list)
		}
		c.ok(`mutation { updateCustomFieldLabels(input: [{field: "custom3", label: ""}]) { field } }`, nil)
		d = c.ok(`{ customFieldStorage { field label } }`, nil)
		for _, x := range get(d, "customFieldStorage").([]any) {
			m := x.(map[string]any)
			if want := map[string]any{"custom1": "Notes"}[m["field"].(string)]; m["label"] != want {
				t.Fatalf("after removing custom3's label: %v", d)
			}
		}
		c.fails("BAD_USER_INPUT", `mutation { updateCustomFieldLabels(input: [{field: "custom6", label: "x"}]) { field } }`, nil)
		c.fails("BAD_USER_INPUT", `mutation { updateCustomFieldLabels(input: [{field: "custom1", label: "this label is far too long to be shown beside a field"}]) { field } }`, nil)
		c.fails("BAD_USER_INPUT", `mutation { updateCustomFieldLabels(input: [{field: "custom1", label: "a"}, {field: "custom1", label: "b"}]) { field } }`, nil)
	})
}
