package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   map[string]any `json:"data"`
	Errors []gqlError     `json:"errors"`
}

type client struct {
	t     *testing.T
	url   string
	token string // sent as Authorization: Bearer
}

func newClient(t *testing.T, s *store.Store) *client {
	svc := retention.NewService(s)
	relinquish.Connect(svc)
	srv := httptest.NewServer(httpapi.NewHandler(&graph.Resolver{Service: svc, Engine: relinquish.NewEngine(s, nil), AuditChain: s}, httpapi.Options{Playground: true}))
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL, token: mustToken(t, svc, "test-admin", retention.RoleAdmin)}
}

// get requests a path with the client's token.
func (c *client) get(path string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, c.url+path, nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return http.DefaultClient.Do(req)
}

func (c *client) do(query string, vars map[string]any) gqlResponse {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// ok runs a query that must succeed.
func (c *client) ok(query string, vars map[string]any) map[string]any {
	c.t.Helper()
	r := c.do(query, vars)
	if len(r.Errors) > 0 {
		c.t.Fatalf("%s: %+v", query, r.Errors)
	}
	return r.Data
}

// fails runs a query that must fail with code.
func (c *client) fails(code, query string, vars map[string]any) string {
	c.t.Helper()
	r := c.do(query, vars)
	if len(r.Errors) == 0 {
		c.t.Fatalf("%s %v: no error, want %s", query, vars, code)
	}
	if got := r.Errors[0].Extensions["code"]; got != code {
		c.t.Fatalf("%s %v: code %v (%s), want %s", query, vars, got, r.Errors[0].Message, code)
	}
	if strings.Contains(strings.ToLower(r.Errors[0].Message), "sql") || strings.Contains(r.Errors[0].Message, "goroutine") {
		c.t.Fatalf("error leaks internals: %s", r.Errors[0].Message)
	}
	return r.Errors[0].Message
}

func get(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

const customerFields = `id firstName lastName email phone status statusChangedAt lastInteractionAt deletionTime deletionReason
	retentionPolicy { name } legalHolds { id } appointments { id startsAt } visits { id }`

func TestAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		created := c.ok(`mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { `+customerFields+` } }`,
			map[string]any{"in": map[string]any{"firstName": "Mary", "lastName": "Shelley", "email": "mary@example.org", "phone": "+44 20 7946 0000"}})
		id := get(created, "createCustomer", "id").(string)
		if get(created, "createCustomer", "retentionPolicy", "name") != "default" || get(created, "createCustomer", "deletionTime") == nil {
			t.Fatalf("created: %v", created)
		}

		t.Run("search and paging", func(t *testing.T) {
			for _, name := range []string{"Percy", "Percival", "Claire"} {
				c.ok(`mutation($n: String) { createCustomer(input: {firstName: $n, lastName: "Shelley"}) { id } }`, map[string]any{"n": name})
			}
			d := c.ok(`{ customers(search: "shelley", first: 2) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, nil)
			if get(d, "customers", "totalCount") != float64(4) || get(d, "customers", "pageInfo", "hasNextPage") != true {
				t.Fatalf("page 1: %v", d)
			}
			d2 := c.ok(`query($a: String) { customers(search: "shelley", first: 2, after: $a) { edges { node { id } } pageInfo { hasNextPage } } }`,
				map[string]any{"a": get(d, "customers", "pageInfo", "endCursor")})
			if n := len(get(d2, "customers", "edges").([]any)); n != 2 || get(d2, "customers", "pageInfo", "hasNextPage") != false {
				t.Fatalf("page 2: %v", d2)
			}
			d = c.ok(`{ customers(search: "perc") { totalCount totalCountCapped } }`, nil)
			if get(d, "customers", "totalCount") != float64(2) || get(d, "customers", "totalCountCapped") != false {
				t.Fatalf("prefix: %v", d)
			}
			d = c.ok(`{ customers(search: "SHELLEY pércy") { totalCount edges { node { firstName } } } }`, nil)
			if get(d, "customers", "totalCount") != float64(1) {
				t.Fatalf("word order, case and accents: %v", d)
			}
			d = c.ok(`{ customers(search: "shelley", first: 1) { edges { node { id } } } }`, nil)
			sid := get(d, "customers", "edges").([]any)[0].(map[string]any)["node"].(map[string]any)["id"]
			d = c.ok(`query($s: String) { auditLog(subject: $s, first: 100) { action subject } }`, map[string]any{"s": sid})
			for _, e := range get(d, "auditLog").([]any) {
				if e.(map[string]any)["subject"] != sid {
					t.Fatalf("auditLog(subject) returned another subject: %v", e)
				}
			}
			if n := len(get(d, "auditLog").([]any)); n != 1 {
				t.Fatalf("auditLog(subject): %d events, want the creation only", n)
			}
			for _, q := range []string{"%", "_", "'", `\`, "sh%", "%elley"} {
				d = c.ok(`query($q: String) { customers(search: $q) { totalCount } }`, map[string]any{"q": q})
				if get(d, "customers", "totalCount") != float64(0) {
					t.Errorf("search %q is not literal: %v", q, d)
				}
			}
		})

		t.Run("bad input is refused and writes nothing", func(t *testing.T) {
			count := func() any { return get(c.ok(`{ customers { totalCount } }`, nil), "customers", "totalCount") }
			before := count()
			upd := `mutation($d: Int) { updateRetentionPolicy(input: {name: "default", retentionDays: $d}) { retentionDays } }`
			c.fails("BAD_USER_INPUT", upd, map[string]any{"d": -1})
			c.fails("BAD_USER_INPUT", upd, map[string]any{"d": 3651})
			c.fails("NOT_FOUND", `mutation { updateRetentionPolicy(input: {name: "nope", retentionDays: 3}) { name } }`, nil)
			c.fails("NOT_FOUND", `mutation { revertRetentionPolicy(name: "nope") { name } }`, nil)
			c.fails("BAD_USER_INPUT", `mutation { setCustomerRetentionPolicy(id: "`+id+`", policy: "nope") { id } }`, nil)
			status := `mutation($id: ID!, $at: Time) { setCustomerStatus(id: $id, status: CANCELLED, at: $at) { id } }`
			c.fails("BAD_USER_INPUT", status, map[string]any{"id": id, "at": "yesterday"})
			c.fails("BAD_USER_INPUT", status, map[string]any{"id": id, "at": "2026-13-01T00:00:00Z"})
			c.fails("BAD_USER_INPUT", status, map[string]any{"id": id, "at": time.Now().Add(time.Hour).Format(time.RFC3339)})
			c.fails("NOT_FOUND", status, map[string]any{"id": "cus_unknown"})
			c.fails("BAD_USER_INPUT", `{ customers(first: -1) { totalCount } }`, nil)
			c.fails("BAD_USER_INPUT", `{ customers(first: 101) { totalCount } }`, nil)
			c.fails("BAD_USER_INPUT", `{ customers(after: "bm90LWEtY3Vyc29y") { totalCount } }`, nil)
			c.fails("BAD_USER_INPUT", `{ customers(after: "!!") { totalCount } }`, nil)
			long := strings.Repeat("x", 1025)
			c.fails("BAD_USER_INPUT", `query($q: String) { customers(search: $q) { totalCount } }`, map[string]any{"q": long})
			create := `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`
			c.fails("BAD_USER_INPUT", create, map[string]any{"in": map[string]any{"firstName": long}})
			c.fails("BAD_USER_INPUT", create, map[string]any{"in": map[string]any{"email": "mary@"}})
			c.fails("BAD_USER_INPUT", create, map[string]any{"in": map[string]any{"email": "two@@example.org"}})
			c.fails("BAD_USER_INPUT", create, map[string]any{"in": map[string]any{"lastInteractionAt": "2999-01-01T00:00:00Z"}})
			c.fails("BAD_USER_INPUT", `mutation { createRetentionPolicy(input: {name: "x y", retentionDays: 1, description: "d"}) { name } }`, nil)
			c.fails("BAD_USER_INPUT", `mutation { createRetentionPolicy(input: {name: "default", retentionDays: 1, description: "d"}) { name } }`, nil)
			c.fails("BAD_USER_INPUT", `mutation { updateDataPolicy(input: {relinquishDeletedData: true, relinquishAfterDays: 4000, anonymiseCustomerData: true, removeCDRs: false}) { usesDefault } }`, nil)
			c.fails("BAD_USER_INPUT", `mutation { updateCustomFieldStorage(input: [{field: "custom6", storeInStatDatabase: false}]) { field } }`, nil)
			c.fails("BAD_USER_INPUT", `mutation { bookAppointment(customerId: "`+id+`", startsAt: "2026-01-02T10:00:00Z", endsAt: "2026-01-02T09:00:00Z") { id } }`, nil)
			c.fails("NOT_FOUND", `mutation { endVisit(id: "vis_unknown") { id } }`, nil)
			c.fails("NOT_FOUND", `mutation { releaseLegalHold(id: "hold_unknown") }`, nil)
			if after := count(); after != before {
				t.Fatalf("refused input wrote customers: %v -> %v", before, after)
			}
			d := c.ok(`{ retentionPolicy(name: "default") { retentionDays version } nope: retentionPolicy(name: "nope") { name } customer(id: "cus_unknown") { id } dataPolicy { usesDefault } }`, nil)
			if get(d, "retentionPolicy", "retentionDays") != float64(30) || get(d, "retentionPolicy", "version") != float64(1) ||
				get(d, "nope") != nil || get(d, "customer") != nil || get(d, "dataPolicy", "usesDefault") != true {
				t.Fatalf("state after refused input: %v", d)
			}
		})

		t.Run("preferences", func(t *testing.T) {
			pv := c.ok(`{ fieldPreferencesPreview(fields: [{field: PHONE, mode: HIDDEN}]) { field mode storedValues } }`, nil)
			if n := get(pv, "fieldPreferencesPreview").([]any)[0].(map[string]any)["storedValues"]; n == nil || n.(float64) < 1 {
				t.Fatalf("preview: %v", pv)
			}
			c.fails("CONFIRMATION_REQUIRED", `mutation { updateFieldPreferences(fields: [{field: PHONE, mode: HIDDEN}, {field: EMAIL, mode: REQUIRED}]) { collectionEnabled } }`, nil)
			c.ok(`mutation { updateFieldPreferences(fields: [{field: PHONE, mode: HIDDEN}, {field: EMAIL, mode: REQUIRED}], confirm: true) { collectionEnabled } }`, nil)
			msg := c.fails("BAD_USER_INPUT", `mutation { createCustomer(input: {firstName: "No"}) { id } }`, nil)
			if !strings.Contains(msg, "email") {
				t.Errorf("message does not name the field: %s", msg)
			}
			msg = c.fails("BAD_USER_INPUT", `mutation { createCustomer(input: {email: "a@b.example", phone: "123456"}) { id } }`, nil)
			if !strings.Contains(msg, "phone") {
				t.Errorf("message does not name the field: %s", msg)
			}
			d := c.ok(`query($id: ID!) { customer(id: $id) { phone email } fieldPreferences { fields { field mode } } }`, map[string]any{"id": id})
			if get(d, "customer", "phone") != nil || get(d, "customer", "email") != "mary@example.org" {
				t.Fatalf("hidden phone shown: %v", d)
			}
			c.ok(`mutation { updateFieldPreferences(collectionEnabled: true, fields: [{field: PHONE, mode: OPTIONAL}, {field: EMAIL, mode: OPTIONAL}]) { collectionEnabled } }`, nil)
		})

		t.Run("visits, appointments, delete, export", func(t *testing.T) {
			future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
			futureEnd := time.Now().Add(49 * time.Hour).UTC().Format(time.RFC3339)
			c.ok(`mutation($id: ID!, $s: Time!, $e: Time!) { bookAppointment(customerId: $id, startsAt: $s, endsAt: $e) { id customer { id } } }`,
				map[string]any{"id": id, "s": future, "e": futureEnd})
			c.fails("FUTURE_APPOINTMENT", `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": id})
			d := c.ok(`query($id: ID!) { customer(id: $id) { deletionReason retentionPolicy { name } } }`, map[string]any{"id": id})
			if !strings.Contains(get(d, "customer", "deletionReason").(string), "appointment") {
				t.Fatalf("reason: %v", d)
			}
			v := c.ok(`mutation { startVisit(visitor: {firstName: "Walk", phone: "0123 4567"}, customFields: [{field: "custom1", value: "kiosk"}]) { id visitor { firstName } } }`, nil)
			vid := get(v, "startVisit", "id").(string)
			if get(v, "startVisit", "visitor", "firstName") != "Walk" {
				t.Fatalf("visitor: %v", v)
			}
			v = c.ok(`mutation($id: ID!) { endVisit(id: $id) { endedAt visitor { firstName } customFields { field value } } }`, map[string]any{"id": vid})
			if get(v, "endVisit", "visitor") != nil || get(v, "endVisit", "endedAt") == nil {
				t.Fatalf("visitor data kept after the visit ended: %v", v)
			}
			e := c.ok(`mutation($id: ID!) { exportCustomer(id: $id) { fileName data } }`, map[string]any{"id": id})
			if get(e, "exportCustomer", "fileName") != "Mary_Shelley.json" || get(e, "exportCustomer", "data", "customer", "email") != "mary@example.org" {
				t.Fatalf("export: %v", e)
			}
			resp, err := c.get("/export/" + id)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename="Mary_Shelley.json"`) || !bytes.Contains(body, []byte("mary@example.org")) {
				t.Fatalf("download: %d %v %s", resp.StatusCode, resp.Header, body)
			}
			resp, _ = c.get("/export/cus_unknown")
			resp.Body.Close()
			if resp.StatusCode != 404 {
				t.Fatalf("download of unknown: %d", resp.StatusCode)
			}

			other := get(c.ok(`mutation { createCustomer(input: {firstName: "Erased"}) { id } }`, nil), "createCustomer", "id").(string)
			h := c.ok(`mutation($id: ID!) { placeLegalHold(customerId: $id, reason: "court order") { id active } }`, map[string]any{"id": other})
			c.fails("LEGAL_HOLD", `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": other})
			d = c.ok(`query($id: ID!) { customer(id: $id) { deletionTime legalHolds { reason active } } }`, map[string]any{"id": other})
			if get(d, "customer", "deletionTime") != nil {
				t.Fatalf("deletion time under hold: %v", d)
			}
			c.ok(`mutation($id: ID!) { releaseLegalHold(id: $id) }`, map[string]any{"id": get(h, "placeLegalHold", "id")})
			for i := 0; i < 2; i++ { // repeating a delete is safe
				d = c.ok(`mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": other})
				if get(d, "deleteCustomer") != other {
					t.Fatalf("delete: %v", d)
				}
			}
			d = c.ok(`query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": other})
			if get(d, "customer") != nil {
				t.Fatalf("erased customer still readable: %v", d)
			}
		})

		t.Run("health and playground", func(t *testing.T) {
			for _, path := range []string{"/healthz", "/"} {
				resp, err := http.Get(c.url + path)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s: %v %v", path, resp, err)
				}
				resp.Body.Close()
			}
		})
	})
}
