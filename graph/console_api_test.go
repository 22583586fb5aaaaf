package graph_test

import (
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestConsoleAPI covers what the admin console needs beyond the seeds'
// API: who is signed in, the forecast (alone and in a preview), and the
// audit log's filters.
func TestConsoleAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClient(t, s)
		if got := c.ok(`query Me { session { name role } }`, nil); get(got, "session", "role") != "ADMIN" || get(got, "session", "name") == "" {
			t.Fatalf("session: %v", got)
		}
		viewer := *c
		viewer.token = mustToken(t, retention.NewService(s), "watcher", retention.RoleViewer)
		if got := viewer.ok(`{ session { name role } }`, nil); get(got, "session", "role") != "VIEWER" || get(got, "session", "name") != "watcher" {
			t.Fatalf("viewer session: %v", got)
		}

		past := time.Now().Add(-20 * 24 * time.Hour).UTC().Format(time.RFC3339)
		for i := 0; i < 3; i++ {
			c.ok(`mutation($at: Time) { createCustomer(input: {lastInteractionAt: $at}) { id } }`, map[string]any{"at": past})
		}
		f := viewer.ok(`{ retentionForecast(weeks: 4) { from overdue { erase anonymise } weeks { start erase anonymise } } }`, nil)
		weeks := get(f, "retentionForecast", "weeks").([]any)
		if len(weeks) != 4 || get(weeks[1], "erase") != float64(3) || get(f, "retentionForecast", "overdue", "erase") != float64(0) {
			t.Fatalf("forecast: due in 10 days, so week 1: %v", f)
		}
		c.fails("BAD_USER_INPUT", `{ retentionForecast(weeks: 105) { from } }`, nil)
		c.fails("BAD_USER_INPUT", `{ retentionForecast(weeks: 0) { from } }`, nil)
		p := c.ok(`{ retentionPolicyUpdatePreview(input: {name: "default", retentionDays: 5}) { customersPlanned forecast { overdue { erase } weeks { erase } } } }`, nil)
		if get(p, "retentionPolicyUpdatePreview", "customersPlanned") != float64(3) || get(p, "retentionPolicyUpdatePreview", "forecast", "overdue", "erase") != float64(3) {
			t.Fatalf("preview forecast: %v", p)
		}
		// A preview stores nothing; a stored run (a dry run) has no forecast.
		if r := c.ok(`{ retentionRuns(first: 1) { id } }`, nil); len(get(r, "retentionRuns").([]any)) != 0 {
			t.Fatalf("a preview stored a run: %v", r)
		}
		c.ok(`mutation { runRetention(dryRun: true) { id } }`, nil)
		if r := c.ok(`{ retentionRuns(first: 1) { trigger forecast { from } } }`, nil); get(r, "retentionRuns").([]any)[0].(map[string]any)["forecast"] != nil {
			t.Fatalf("a stored run has a forecast: %v", r)
		}

		c.ok(`mutation { updateRetentionPolicy(input: {name: "visit_days", retentionDays: 40}) { name } }`, nil)
		only := c.ok(`{ auditLog(first: 10, action: "policy.update") { action subject } }`, nil)
		if events := get(only, "auditLog").([]any); len(events) != 1 || get(events[0], "subject") != "visit_days" {
			t.Fatalf("audit log filtered by action: %v", only)
		}
		if events := get(c.ok(`{ auditLog(first: 10, actor: "nobody") { id } }`, nil), "auditLog").([]any); len(events) != 0 {
			t.Fatalf("audit log filtered by an unknown actor: %v", events)
		}
		if events := get(c.ok(`{ auditLog(first: 10, subject: "visit_days", action: "policy.update") { id } }`, nil), "auditLog").([]any); len(events) != 1 {
			t.Fatalf("audit log filtered by subject and action: %v", events)
		}
	})
}
