package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

func TestRuns(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		past := time.Now().Add(-100 * 24 * time.Hour).UTC().Format(time.RFC3339)
		for i := 0; i < 30; i++ {
			c.ok(`mutation($at: Time) { createCustomer(input: {lastInteractionAt: $at}) { id } }`, map[string]any{"at": past})
		}
		keep := get(c.ok(`mutation { createCustomer(input: {firstName: "Recent"}) { id } }`, nil), "createCustomer", "id")

		runFields := `id dryRun status asOf customersPlanned customersDone customersFailed actionsPlanned actions(first: 1000) { customerId connector action }`
		dry := c.ok(`mutation { runRetention(dryRun: true) { `+runFields+` } }`, nil)
		if get(dry, "runRetention", "status") != "SUCCEEDED" || get(dry, "runRetention", "customersPlanned") != float64(30) {
			t.Fatalf("dry run: %v", dry)
		}
		for _, a := range get(dry, "runRetention", "actions").([]any) {
			if a.(map[string]any)["customerId"] == keep {
				t.Fatalf("the recent customer is in the plan")
			}
		}
		week := time.Now().Add(40 * 24 * time.Hour).UTC().Format(time.RFC3339)
		future := c.ok(`mutation($at: Time) { runRetention(dryRun: true, asOf: $at) { customersPlanned } }`, map[string]any{"at": week})
		if get(future, "runRetention", "customersPlanned") != float64(31) {
			t.Fatalf("dry run in 40 days: %v", future)
		}
		c.fails("BAD_USER_INPUT", `mutation($at: Time) { runRetention(dryRun: false, asOf: $at) { id } }`, map[string]any{"at": week})
		c.fails("BAD_USER_INPUT", `mutation { runRetention(dryRun: true, asOf: "next week") { id } }`, nil)
		preview := c.ok(`{ retentionPolicyUpdatePreview(input: {name: "default", retentionDays: 365}) { dryRun trigger customersPlanned addedByChange removedByChange } }`, nil)
		if get(preview, "retentionPolicyUpdatePreview", "customersPlanned") != float64(0) ||
			get(preview, "retentionPolicyUpdatePreview", "removedByChange") != float64(30) || get(preview, "retentionPolicyUpdatePreview", "addedByChange") != float64(0) {
			t.Fatalf("preview of a longer policy: %v", preview)
		}
		if d := c.ok(`{ retentionPolicy(name: "default") { retentionDays } }`, nil); get(d, "retentionPolicy", "retentionDays") != float64(30) {
			t.Fatalf("the preview saved the policy: %v", d)
		}
		c.fails("BAD_USER_INPUT", `{ retentionPolicyUpdatePreview(input: {name: "default", retentionDays: 9999}) { id } }`, nil)
		c.fails("NOT_FOUND", `{ retentionPolicyUpdatePreview(input: {name: "nope", retentionDays: 1}) { id } }`, nil)
		dpPreview := c.ok(`{ dataPolicyPreview(input: {relinquishDeletedData: true, relinquishAfterDays: 1, anonymiseCustomerData: true, removeCDRs: false}) { customersPlanned } }`, nil)
		if get(dpPreview, "dataPolicyPreview", "customersPlanned") != float64(30) {
			t.Fatalf("data policy preview: %v", dpPreview)
		}

		// An operator may dry-run but not erase.
		c.token = mustToken(t, retention.NewService(s), "ops", retention.RoleOperator)
		c.ok(`mutation { runRetention(dryRun: true) { id } }`, nil)
		c.fails("FORBIDDEN", `mutation { runRetention(dryRun: false) { id } }`, nil)
		c.token = mustToken(t, retention.NewService(s), "admin2", retention.RoleAdmin)

		real := c.ok(`mutation { runRetention(dryRun: false) { id status dryRun } }`, nil)
		id := get(real, "runRetention", "id").(string)
		if get(real, "runRetention", "dryRun") != false {
			t.Fatalf("real run: %v", real)
		}
		last := subscribeProgress(t, c, id)
		if last["status"] != "SUCCEEDED" || last["customersDone"] != float64(30) {
			t.Fatalf("last progress: %v", last)
		}
		got := c.ok(`query($id: ID!) { retentionRun(id: $id) { `+runFields+` failures { customerId } } retentionRuns(first: 10) { id } }`, map[string]any{"id": id})
		if get(got, "retentionRun", "customersDone") != float64(30) || len(get(got, "retentionRun", "actions").([]any)) != 0 {
			t.Fatalf("run: %v", got)
		}
		// Two dry runs, the operator's and the real run; previews are
		// never stored.
		if n := len(get(got, "retentionRuns").([]any)); n != 4 {
			t.Fatalf("runs listed: %d", n)
		}
		if d := c.ok(`query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": keep}); get(d, "customer", "id") != keep {
			t.Fatalf("the recent customer was erased")
		}
		if d := c.ok(`{ customers { totalCount } }`, nil); get(d, "customers", "totalCount") != float64(1) {
			t.Fatalf("after the run: %v", d)
		}
		c.fails("BAD_USER_INPUT", `{ retentionRuns(first: 101) { id } }`, nil)
		c.fails("BAD_USER_INPUT", `query($id: ID!) { retentionRun(id: $id) { actions(first: 1001) { action } } }`, map[string]any{"id": id})
		if d := c.ok(`{ retentionRun(id: "run_unknown") { id } }`, nil); get(d, "retentionRun") != nil {
			t.Fatalf("unknown run: %v", d)
		}
	})
}

// subscribeProgress follows a run over the websocket transport
// (graphql-transport-ws) until it completes and returns the last update.
func subscribeProgress(t *testing.T, c *client, id string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(c.url, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	send := func(v any) {
		if err := wsjson.Write(ctx, conn, v); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + c.token}})
	var msg struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := wsjson.Read(ctx, conn, &msg); err != nil || msg.Type != "connection_ack" {
		t.Fatalf("init: %+v %v", msg, err)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($id: ID!) { retentionRunProgress(id: $id) { status customersPlanned customersDone } }`,
		"variables": map[string]any{"id": id}}})
	var last map[string]any
	updates := 0
	for {
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			t.Fatalf("after %d updates: %v", updates, err)
		}
		switch msg.Type {
		case "next":
			var p struct {
				Data   map[string]map[string]any `json:"data"`
				Errors []any                     `json:"errors"`
			}
			json.Unmarshal(msg.Payload, &p) //nolint:errcheck
			if len(p.Errors) > 0 {
				t.Fatalf("subscription error: %s", msg.Payload)
			}
			last = p.Data["retentionRunProgress"]
			updates++
		case "complete":
			if updates == 0 {
				t.Fatal("no update before complete")
			}
			return last
		case "error":
			t.Fatalf("subscription error: %s", msg.Payload)
		}
	}
}

// TestPreviewsStoreNothing sends 300 aliased dataPolicyPreview (three
// requests of 100, the edge's alias limit): each is range counts under the proposed rules, and nothing is
// written (no run, no plan line, no audit event), while each answers what
// a saved change would do and what the change itself adds.
func TestPreviewsStoreNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		past := time.Now().Add(-100 * 24 * time.Hour).UTC().Format(time.RFC3339)
		for i := 0; i < 20; i++ {
			id := get(c.ok(`mutation($at: Time) { createCustomer(input: {lastInteractionAt: $at}) { id } }`, map[string]any{"at": past}), "createCustomer", "id")
			if i%2 == 0 {
				c.ok(`mutation($id: ID!, $at: Time) { setCustomerStatus(id: $id, status: CANCELLED, at: $at) { id } }`, map[string]any{"id": id, "at": past})
			}
		}
		// Overdue under the default 30 days anyway; the data policy adds none.
		c.ok(`mutation { updateRetentionPolicy(input: {name: "default", retentionDays: 3650}) { name } }`, nil)
		count := func() (n [3]int) {
			for i, table := range []string{"run_plans", "retention_runs", "audit_log"} {
				if err := s.DB().QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n[i]); err != nil {
					t.Fatal(err)
				}
			}
			return n
		}
		before := count()
		// The edge allows 100 aliased fields a request: 300 previews go
		// in three requests of 100.
		for batch := range 3 {
			var q strings.Builder
			q.WriteString("{")
			for i := batch * 100; i < (batch+1)*100; i++ {
				fmt.Fprintf(&q, ` p%d: dataPolicyPreview(input: {relinquishDeletedData: true, relinquishAfterDays: %d, anonymiseCustomerData: true, removeCDRs: %t}) { customersPlanned addedByChange }`, i, i%150, i%2 == 0)
			}
			q.WriteString(" }")
			d := c.ok(q.String(), nil)
			for i := batch * 100; i < (batch+1)*100; i++ {
				p := d[fmt.Sprintf("p%d", i)].(map[string]any)
				// The cancellations are 100 days old: due after up to 100 days.
				want := float64(10)
				if i%150 > 100 {
					want = 0
				}
				if p["customersPlanned"] != want || p["addedByChange"] != want {
					t.Fatalf("preview %d (after %d days): %v, want %v planned, all added by the change", i, i%150, p, want)
				}
			}
		}
		if after := count(); after != before {
			t.Fatalf("300 previews wrote: run_plans, runs, audit before %v, after %v", before, after)
		}
	})
}
