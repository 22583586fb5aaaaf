package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// FuzzGraphQL sends random documents and variables through the real
// handler onto a real SQLite store, as an admin: whatever arrives, the
// answer is a client error or a result, never a 5xx or INTERNAL (which
// would mean input reached a layer that could not take it).
func FuzzGraphQL(f *testing.F) {
	s := storetest.MustOpenSQLite(f)
	svc := retention.NewService(s)
	h := httpapi.NewHandler(&graph.Resolver{Service: svc, Engine: relinquish.NewEngine(s, nil), Log: quiet}, httpapi.Options{})
	token := mustToken(f, svc, "fuzz", retention.RoleAdmin)
	ctx := adminCtx()
	c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: ptr("Fuzz"), Email: ptr("fuzz@example.com")}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct{ query, vars string }{
		{`{ customers(search: "fu", first: 5) { totalCount edges { cursor node { id firstName deletionTime deletionReason } } } }`, ``},
		{`query($id: ID!) { customer(id: $id) { id email status retentionPolicy { name } legalHolds { id } visits { id } } }`, `{"id": "` + c.ID + `"}`},
		{`query($s: String, $a: String) { customers(search: $s, after: $a) { pageInfo { hasNextPage endCursor } } }`, `{"s": "\u0000", "a": "x"}`},
		{`mutation($id: ID!, $s: CustomerStatus!, $at: Time) { setCustomerStatus(id: $id, status: $s, at: $at) { id status } }`, `{"id": "` + c.ID + `", "s": "CANCELLED", "at": "2026-01-31t09:30:00z"}`},
		{`mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`, `{"i": {"firstName": "A", "phone": "+1 555"}}`},
		{`mutation { updateRetentionPolicy(input: {name: "default", retentionDays: 31}) { name retentionDays } }`, ``},
		{`mutation($f: [FieldPreferenceInput!]!) { updateFieldPreferences(fields: $f) { collectionEnabled fields { field mode } } }`, `{"f": [{"field": "EMAIL", "mode": "OPTIONAL"}]}`},
		{`mutation { updateCustomFieldStorage(input: [{field: "custom1", storeInStatDatabase: true}]) { field } }`, ``},
		{`query($n: Int, $a: ID) { auditLog(first: $n, after: $a) { id action subject at } }`, `{"n": 3, "a": "1"}`},
		{`{ retentionRuns(first: 2) { id status actions(first: 3) { customerId } failures { error } } dataPolicy { usesDefault } }`, ``},
		{`mutation { runRetention(dryRun: true, asOf: "2030-01-01T00:00:00Z") { id customersPlanned } }`, ``},
		{`mutation($id: ID!) { placeLegalHold(customerId: $id, reason: "r") { id } }`, `{"id": "` + c.ID + `"}`},
		{`{ retentionPolicyUpdatePreview(input: {name: "visit_days", retentionDays: 1}) { customersPlanned } }`, ``},
		{`query { __typename ...F } fragment F on Query { fieldPreferences { collectionEnabled } }`, ``},
	} {
		f.Add(seed.query, seed.vars)
	}
	f.Fuzz(func(t *testing.T, query, vars string) {
		body := map[string]any{"query": query}
		if json.Valid([]byte(vars)) {
			body["variables"] = json.RawMessage(vars)
		}
		b, err := json.Marshal(body)
		if err != nil {
			return // not sendable as JSON at all
		}
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/graphql", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q %q: %s", rec.Code, query, vars, rec.Body)
		}
		if strings.Contains(rec.Body.String(), `"INTERNAL"`) {
			t.Fatalf("INTERNAL for %q %q: %s", query, vars, rec.Body)
		}
	})
}
