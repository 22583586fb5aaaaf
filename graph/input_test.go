package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestInputNoStoreCanHold: a NUL in any string argument,
// as a variable or a literal, is BAD_USER_INPUT naming it, on SQLite and
// PostgreSQL alike, and changes nothing.
func TestInputNoStoreCanHold(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		id := get(c.ok(`mutation { createCustomer(input: {firstName: "Nul"}) { id } }`, nil), "createCustomer", "id").(string)
		for _, tc := range []struct{ query, variable string }{
			{`query($v: ID!) { customer(id: $v) { id } }`, "$v"},
			{`mutation($v: ID!) { deleteCustomer(id: $v) }`, "$v"},
			{`mutation($v: ID!) { exportCustomer(id: $v) { fileName } }`, "$v"},
			{`mutation($v: ID!) { setCustomerStatus(id: $v, status: CANCELLED) { id } }`, "$v"},
			{`mutation($v: ID!) { endVisit(id: $v) { id } }`, "$v"},
			{`query($v: ID) { auditLog(first: 5, after: $v) { id } }`, "$v"},
			{`query($v: String) { customers(search: $v) { totalCount } }`, "$v"},
			{`mutation($v: ID!) { revertRetentionPolicy(name: $v) { name } }`, "$v"},
			{`mutation($v: CreateCustomerInput!) { createCustomer(input: $v) { id } }`, "$v.firstName"},
		} {
			// Invalid UTF-8 cannot arrive in JSON (decoding replaces it with
			// U+FFFD); retention's own test covers CheckArgument for it.
			for _, bad := range []string{"x\x00y", "\x00"} {
				var vars map[string]any
				if strings.Contains(tc.variable, ".") {
					vars = map[string]any{"v": map[string]any{"firstName": bad}}
				} else {
					vars = map[string]any{"v": bad}
				}
				msg := c.fails("BAD_USER_INPUT", tc.query, vars)
				if !strings.Contains(msg, tc.variable) {
					t.Errorf("%s: message %q does not name %s", tc.query, msg, tc.variable)
				}
			}
		}
		// The same NUL as a literal of the document, in a fragment too.
		c.fails("BAD_USER_INPUT", `{ customer(id: "x\u0000y") { id } }`, nil)
		c.fails("BAD_USER_INPUT", `query { ...F } fragment F on Query { customers(search: "a\u0000") { totalCount } }`, nil)
		// Nothing was touched: the customer is still there, unchanged.
		if got := get(c.ok(`query($id: ID!) { customer(id: $id) { firstName status } }`, map[string]any{"id": id}), "customer", "firstName"); got != "Nul" {
			t.Fatalf("customer after refused input: %v", got)
		}
	})
}

// TestEnumCoercionIsBadUserInput: an enum value of the wrong case in
// variables is the client's fault and says which variable.
func TestEnumCoercionIsBadUserInput(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		id := get(c.ok(`mutation { createCustomer(input: {firstName: "Enum"}) { id } }`, nil), "createCustomer", "id").(string)
		for _, tc := range []struct {
			query string
			vars  map[string]any
		}{
			{`mutation($id: ID!, $s: CustomerStatus!) { setCustomerStatus(id: $id, status: $s) { id } }`, map[string]any{"id": id, "s": "cancelled"}},
			{`mutation($f: [FieldPreferenceInput!]!) { updateFieldPreferences(fields: $f) { collectionEnabled } }`, map[string]any{"f": []any{map[string]any{"field": "EMAIL", "mode": "hidden"}}}},
			{`mutation($f: [FieldPreferenceInput!]!) { updateFieldPreferences(fields: $f) { collectionEnabled } }`, map[string]any{"f": []any{map[string]any{"field": "email", "mode": "HIDDEN"}}}},
		} {
			r := c.do(tc.query, tc.vars)
			if len(r.Errors) == 0 {
				t.Fatalf("%v: accepted", tc.vars)
			}
			code := r.Errors[0].Extensions["code"]
			if code != "BAD_USER_INPUT" && code != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("%v: code %v (%s)", tc.vars, code, r.Errors[0].Message)
			}
			if !strings.Contains(r.Errors[0].Message, "$") {
				t.Errorf("%v: message %q names no variable", tc.vars, r.Errors[0].Message)
			}
		}
		if got := get(c.ok(`query($id: ID!) { customer(id: $id) { status } }`, map[string]any{"id": id}), "customer", "status"); got != "ACTIVE" {
			t.Fatalf("status after refused input: %v", got)
		}
	})
}

// TestContradictoryPreferencesRefused: one field given two modes (or
// stored and not stored) is refused, and the preferences stay as they were.
func TestContradictoryPreferencesRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		before := c.ok(`{ fieldPreferences { collectionEnabled fields { field mode } } customFieldStorage { field storeInStatDatabase } }`, nil)
		c.fails("BAD_USER_INPUT", `mutation { updateFieldPreferences(fields: [{field: EMAIL, mode: HIDDEN}, {field: EMAIL, mode: REQUIRED}]) { collectionEnabled } }`, nil)
		c.fails("BAD_USER_INPUT", `mutation { updateCustomFieldStorage(input: [{field: "custom1", storeInStatDatabase: true}, {field: "custom1", storeInStatDatabase: false}]) { field } }`, nil)
		after := c.ok(`{ fieldPreferences { collectionEnabled fields { field mode } } customFieldStorage { field storeInStatDatabase } }`, nil)
		if b, a := jsonString(t, before), jsonString(t, after); a != b {
			t.Fatalf("preferences changed by a refused request:\n%s\n%s", b, a)
		}
		// The same field twice with the same mode says one thing: accepted.
		c.ok(`mutation { updateFieldPreferences(fields: [{field: EMAIL, mode: OPTIONAL}, {field: EMAIL, mode: OPTIONAL}]) { collectionEnabled } }`, nil)
	})
}

// TestTimesFollowRFC3339: lowercase t and z are times; +24:00 is not.
func TestTimesFollowRFC3339(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		id := get(c.ok(`mutation { createCustomer(input: {firstName: "Time"}) { id } }`, nil), "createCustomer", "id").(string)
		q := `mutation($id: ID!, $at: Time!) { setCustomerStatus(id: $id, status: CANCELLED, at: $at) { statusChangedAt } }`
		c.fails("BAD_USER_INPUT", q, map[string]any{"id": id, "at": "2026-01-31T09:30:00+24:00"})
		got := get(c.ok(q, map[string]any{"id": id, "at": "2026-01-31t09:30:00z"}), "setCustomerStatus", "statusChangedAt")
		if got != "2026-01-31T09:30:00Z" {
			t.Fatalf("statusChangedAt %v", got)
		}
	})
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
