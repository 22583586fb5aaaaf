package graph_test

import (
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/auditchain"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestAuditReadable: events read as sentences, the log filters by date
// range and by part of an actor or subject, the filtered events export as
// CSV, and auditVerification answers a viewer with the chain's state.
func TestAuditReadable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		_, key, _ := ed25519.GenerateKey(nil)
		s.SetAuditSigner(auditchain.NewSigner(key), 2)
		c := newClient(t, s)
		c.ok(`mutation { updateRetentionPolicy(input: {name: "visit_days", retentionDays: 60}) { name } }`, nil)
		d := c.ok(`mutation { createCustomer(input: {firstName: "Ada", email: "ada@example.org"}) { id } }`, nil)
		id := get(d, "createCustomer", "id").(string)
		c.ok(`mutation { updateRetentionPolicy(input: {name: "visit_days", retentionDays: 45}) { name } }`, nil)

		d = c.ok(`{ auditLog(first: 10, action: "policy.update") { sentence } }`, nil)
		events := d["auditLog"].([]any)
		if len(events) != 2 || get(events[1], "sentence") != "visit_days: 30 → 60 days, by test-admin" || get(events[0], "sentence") != "visit_days: 60 → 45 days, by test-admin" {
			t.Fatalf("sentences: %v", events)
		}
		// Part of the subject (the customer id), case-insensitive; part of the actor.
		d = c.ok(`query($t: String) { auditLog(first: 10, text: $t) { action subject } }`, map[string]any{"t": strings.ToUpper(id[4:12])})
		if ev := d["auditLog"].([]any); len(ev) != 1 || get(ev[0], "subject") != id {
			t.Fatalf("text matching the subject: %v", ev)
		}
		d = c.ok(`{ auditLog(first: 10, text: "ADMIN") { action } }`, nil)
		if ev := d["auditLog"].([]any); len(ev) < 3 {
			t.Fatalf("text matching the actor: %v", ev)
		}
		d = c.ok(`{ auditLog(first: 10, text: "%") { action } }`, nil)
		if ev := d["auditLog"].([]any); len(ev) != 0 {
			t.Fatalf("%% is matched as itself: %v", ev)
		}
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		d = c.ok(`query($f: Time, $t: Time) { a: auditLog(first: 10, from: $f) { id } b: auditLog(first: 10, from: $t, to: $f) { id } }`, map[string]any{"f": future, "t": past})
		if len(d["a"].([]any)) != 0 || len(d["b"].([]any)) < 3 {
			t.Fatalf("date range: %v", d)
		}
		c.fails("BAD_USER_INPUT", `query($f: Time, $t: Time) { auditLog(from: $f, to: $t) { id } }`, map[string]any{"f": future, "t": past})

		d = c.ok(`{ auditLogCsv(action: "policy.update") }`, nil)
		rows, err := csv.NewReader(strings.NewReader(d["auditLogCsv"].(string))).ReadAll()
		if err != nil || len(rows) != 3 || rows[0][4] != "sentence" || rows[1][4] != "visit_days: 60 → 45 days, by test-admin" || rows[1][1] != "test-admin" {
			t.Fatalf("csv: %v %v", rows, err)
		}

		viewer := *c
		viewer.token = mustToken(t, retention.NewService(s), "auditor", retention.RoleViewer)
		d = viewer.ok(`{ auditVerification { ok verifiedUpTo signedUpTo summary break { kind } checkpoints { position keyId hash valid } } }`, nil)
		v := d["auditVerification"].(map[string]any)
		n, err := s.VerifyAudit(context.Background())
		if err != nil || v["ok"] != true || int64(v["verifiedUpTo"].(float64)) != n.Verified || n.Verified < 4 || v["break"] != nil ||
			len(v["checkpoints"].([]any)) == 0 || !strings.HasPrefix(v["summary"].(string), "verified up to event") {
			t.Fatalf("verification: %v (store: %s)", v, n.Summary())
		}
		viewer.fails("FORBIDDEN", `{ auditLogCsv }`, nil)
	})
}
