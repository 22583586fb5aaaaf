package retention_test

import (
	"testing"

	"github.com/lethe-privacy/lethe/retention"
)

func TestAuditSentence(t *testing.T) {
	for _, c := range []struct {
		e    retention.AuditEvent
		want string
	}{
		{retention.AuditEvent{Actor: "alice", Action: retention.AuditPolicyUpdate, Subject: "visit_days",
			Details: map[string]any{"retentionDays": map[string]any{"old": 30.0, "new": 60.0}, "version": 2.0}}, "visit_days: 30 → 60 days, by alice"},
		{retention.AuditEvent{Actor: "alice", Action: retention.AuditPolicyUpdate, Subject: "default", Details: map[string]any{}}, "default: unchanged, by alice"},
		{retention.AuditEvent{Actor: "bob", Action: retention.AuditDataPolicyUpdate, Subject: "dataPolicy", Details: map[string]any{
			"old": map[string]any{"relinquishDeletedData": false, "relinquishAfterDays": 90.0, "removeCDRs": false},
			"new": map[string]any{"relinquishDeletedData": true, "relinquishAfterDays": 30.0, "removeCDRs": false}}},
			"data policy: relinquishAfterDays 90 → 30, relinquishDeletedData off → on, by bob"},
		{retention.AuditEvent{Actor: "ops", Action: retention.AuditCustomerStatus, Subject: "cus_1",
			Details: map[string]any{"status": map[string]any{"old": "ACTIVE", "new": "CANCELLED"}}}, "customer cus_1 status: ACTIVE → CANCELLED, by ops"},
		{retention.AuditEvent{Actor: "ops", Action: retention.AuditCustomerErase, Subject: "cus_2",
			Details: map[string]any{"trigger": "manual", "rule": "manual", "run": "run_9", "connectors": []any{map[string]any{}, map[string]any{}}}},
			"customer cus_2 erased, by hand, rule manual, 2 connector actions, run run_9, by ops"},
		{retention.AuditEvent{Actor: "scheduler", Action: retention.AuditRunStart, Subject: "run_1",
			Details: map[string]any{"dryRun": true, "trigger": "scheduler"}}, "sweep run_1 started, dry run, from scheduler, by scheduler"},
		{retention.AuditEvent{Actor: "x", Action: "something.new", Subject: "s"}, "something.new on s, by x"},
	} {
		if got := c.e.Sentence(); got != c.want {
			t.Errorf("%s: got %q, want %q", c.e.Action, got, c.want)
		}
	}
}
