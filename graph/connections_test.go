package graph_test

import (
	"fmt"
	"testing"

	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// walk follows a connection page by page and returns every node's key
// (what key picks from a node), failing on a repeated cursor or node.
func walk(t *testing.T, c *client, query string, vars map[string]any, path []string, key func(map[string]any) string) []string {
	t.Helper()
	var keys []string
	seen := map[string]bool{}
	var after any
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("more than 100 pages")
		}
		v := map[string]any{"after": after}
		for k, x := range vars {
			v[k] = x
		}
		conn, _ := get(c.ok(query, v), path...).(map[string]any)
		edges, _ := conn["edges"].([]any)
		for _, e := range edges {
			e := e.(map[string]any)
			k := key(e["node"].(map[string]any))
			if seen[k] {
				t.Fatalf("%s returned twice", k)
			}
			seen[k] = true
			keys = append(keys, k)
		}
		pi := conn["pageInfo"].(map[string]any)
		if pi["hasNextPage"] != true {
			return keys
		}
		after = pi["endCursor"]
	}
}

// TestConnections: run actions, failures, runs and the audit log page by
// cursor to their end, with nothing skipped or repeated, and the lists the
// contract fixes still answer as before.
func TestConnections(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		for i := range 23 {
			c.ok(fmt.Sprintf(`mutation { createCustomer(input: {firstName: "Page%d"}) { id } }`, i), nil)
		}
		run := get(c.ok(`mutation { runRetention(dryRun: true, asOf: "2099-01-01T00:00:00Z") { id actionsPlanned } }`, nil), "runRetention").(map[string]any)
		id := run["id"].(string)
		all := get(c.ok(`query($id: ID!) { retentionRun(id: $id) { actions(first: 1000) { customerId connector action } } }`, map[string]any{"id": id}), "retentionRun", "actions").([]any)
		if len(all) < 23 {
			t.Fatalf("%d actions, %v planned", len(all), run["actionsPlanned"])
		}
		actionKey := func(n map[string]any) string {
			return fmt.Sprint(n["customerId"], "/", n["connector"], "/", n["action"])
		}
		paged := walk(t, c, `query($id: ID!, $after: String) { retentionRun(id: $id) { actionsConnection(first: 5, after: $after) {
			edges { cursor node { customerId connector action } } pageInfo { hasNextPage endCursor } } } }`,
			map[string]any{"id": id}, []string{"retentionRun", "actionsConnection"}, actionKey)
		if len(paged) != len(all) {
			t.Fatalf("paged %d actions of %d", len(paged), len(all))
		}
		for i, a := range all {
			if actionKey(a.(map[string]any)) != paged[i] {
				t.Fatalf("action %d: %s, list says %s", i, paged[i], actionKey(a.(map[string]any)))
			}
		}
		fails := get(c.ok(`query($id: ID!) { retentionRun(id: $id) { failuresConnection(first: 5) { edges { cursor } pageInfo { hasNextPage endCursor } } } }`,
			map[string]any{"id": id}), "retentionRun", "failuresConnection").(map[string]any)
		if len(fails["edges"].([]any)) != 0 || fails["pageInfo"].(map[string]any)["hasNextPage"] != false {
			t.Fatalf("a dry run has no failures: %v", fails)
		}

		for range 2 {
			c.ok(`mutation { runRetention(dryRun: true) { id } }`, nil)
		}
		runs := walk(t, c, `query($after: String) { retentionRunsConnection(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
			nil, []string{"retentionRunsConnection"}, func(n map[string]any) string { return n["id"].(string) })
		list := get(c.ok(`{ retentionRuns(first: 100) { id } }`, nil), "retentionRuns").([]any)
		if len(runs) != 3 || len(list) != 3 || runs[0] != list[0].(map[string]any)["id"] {
			t.Fatalf("runs paged %v, listed %v", runs, list)
		}

		events := walk(t, c, `query($after: String) { auditEvents(first: 7, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
			nil, []string{"auditEvents"}, func(n map[string]any) string { return n["id"].(string) })
		log := get(c.ok(`{ auditLog(first: 100) { id } }`, nil), "auditLog").([]any)
		if len(events) != len(log) || len(events) < 23 {
			t.Fatalf("audit events paged %d, listed %d", len(events), len(log))
		}
		c.fails("BAD_USER_INPUT", `query($id: ID!) { retentionRun(id: $id) { actionsConnection(after: "zz") { pageInfo { hasNextPage } } } }`, map[string]any{"id": id})
		c.fails("BAD_USER_INPUT", `{ retentionRunsConnection(after: "run_nothing") { pageInfo { hasNextPage } } }`, nil)
	})
}
