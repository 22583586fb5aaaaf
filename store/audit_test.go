package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestAuditLog checks that every use case records who did what, without
// personal data, in the transaction of the change, and that the log pages
// newest first and refuses to be rewritten.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc := newService(s)
		ctx := retention.WithActor(context.Background(), retention.Actor{Name: "alice-console", Role: retention.RoleAdmin})

		c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{
			FirstName: sp("Grace"), LastName: sp("Hopper"), Email: sp("grace@example.org"), Phone: sp("+1 555 0100")}})
		if err != nil {
			t.Fatal(err)
		}
		days := 60
		if _, err := svc.UpdatePolicy(ctx, "visit_days", &days, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetCustomerStatus(ctx, c.ID, retention.StatusCancelled, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetCustomerPolicy(ctx, c.ID, retention.PolicyDirect); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateFieldPreferences(ctx, nil, map[retention.Field]retention.FieldMode{retention.FieldPhone: retention.ModeHidden}, true); err != nil {
			t.Fatal(err)
		}
		hold, err := svc.PlaceLegalHold(ctx, c.ID, "court order naming Grace Hopper", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ReleaseLegalHold(ctx, hold.ID); err != nil {
			t.Fatal(err)
		}
		export, err := svc.ExportCustomer(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			AuditLog []struct{ Actor, Action string } `json:"auditLog"`
		}
		if err := json.Unmarshal(export.Data, &doc); err != nil || len(doc.AuditLog) != 5 ||
			doc.AuditLog[0].Action != "legalHold.release" || doc.AuditLog[4].Action != "customer.create" || doc.AuditLog[0].Actor != "alice-console" {
			t.Fatalf("export lists the actions taken on the customer: %+v %v", doc.AuditLog, err)
		}
		if _, err := svc.DeleteCustomer(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
		// A refused change records nothing: the record commits with the change.
		bad := 9999
		if _, err := svc.UpdatePolicy(ctx, "visit_days", &bad, nil); err == nil {
			t.Fatal("out-of-range days accepted")
		}

		all, err := s.AuditLog(context.Background(), retention.AuditQuery{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range all {
			actions = append(actions, e.Action)
		}
		// A manual erasure runs through the engine: its run's start is recorded.
		want := []string{"customer.erase", "retentionRun.start", "customer.export", "legalHold.release", "legalHold.place", "fieldPreferences.update",
			"customer.setPolicy", "customer.setStatus", "policy.update", "customer.create"}
		if strings.Join(actions, ",") != strings.Join(want, ",") {
			t.Fatalf("actions newest first:\n got %v\nwant %v", actions, want)
		}
		if all[1].Details["trigger"] != "manual" || all[1].Details["dryRun"] != false {
			t.Fatalf("run start details: %v", all[1].Details)
		}
		all = append(all[:1], all[2:]...)
		if all[0].Actor != retention.ActorSystem || all[1].Actor != "alice-console" || all[0].Subject != c.ID {
			t.Fatalf("actor/subject: %+v %+v", all[0], all[1])
		}
		if got := all[7].Details["retentionDays"]; !jsonEqual(got, map[string]any{"old": 30, "new": 60}) {
			t.Fatalf("policy change details: %v", all[7].Details)
		}
		if got := all[4].Details["PHONE"]; !jsonEqual(got, map[string]any{"old": "OPTIONAL", "new": "HIDDEN"}) {
			t.Fatalf("preference change details: %v", all[4].Details)
		}
		if got := all[8].Details["fields"]; !jsonEqual(got, []string{"firstName", "lastName", "email", "phone"}) {
			t.Fatalf("create details: %v", all[8].Details)
		}
		// Filters: by customer and by action.
		erases, err := newService(s).AuditLog(ctx, nil, nil, retention.AuditFilter{Subject: c.ID, Action: "customer.erase"})
		if err != nil || len(erases) != 1 || erases[0].Subject != c.ID {
			t.Fatalf("auditLog(customerId, action: customer.erase): %+v %v", erases, err)
		}
		ofCustomer, err := newService(s).AuditLog(ctx, nil, nil, retention.AuditFilter{Subject: c.ID})
		if err != nil || len(ofCustomer) != 7 {
			t.Fatalf("auditLog(customerId): %d events %v", len(ofCustomer), err)
		}
		_, err = newService(s).AuditLog(ctx, nil, nil, retention.AuditFilter{Action: strings.Repeat("a", 201)})
		mustCode(t, err, retention.CodeBadUserInput)
		blob, _ := json.Marshal(all)
		// The phone is looked for whole: ids are random hex and may hold "555".
		for _, pd := range []string{"Grace", "Hopper", "grace@example.org", "555 0100", "5550100"} {
			if strings.Contains(string(blob), pd) {
				t.Fatalf("audit log holds personal data %q: %s", pd, blob)
			}
		}
		if time.Since(all[0].At) > time.Hour && !all[0].At.Equal(now) {
			t.Fatalf("time %v", all[0].At)
		}

		// Paging: newest first, after a cursor, by subject.
		page1, _ := s.AuditLog(context.Background(), retention.AuditQuery{First: 4})
		page2, err := s.AuditLog(context.Background(), retention.AuditQuery{First: 4, After: page1[3].ID})
		if err != nil || len(page2) != 4 || page2[0].ID != all[3].ID { // all lacks the run start, the second event
			t.Fatalf("page 2: %+v %v", page2, err)
		}
		_, err = s.AuditLog(context.Background(), retention.AuditQuery{First: 4, After: "aud_nope"})
		mustCode(t, err, retention.CodeBadUserInput)
		mine, _ := s.AuditLog(context.Background(), retention.AuditQuery{First: 100, Subject: "visit_days"})
		if len(mine) != 1 || mine[0].Action != "policy.update" {
			t.Fatalf("by subject: %+v", mine)
		}

		// The database itself refuses to rewrite history.
		for _, stmt := range []string{"UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"} {
			if _, err := s.DB().ExecContext(context.Background(), stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		if again, _ := s.AuditLog(context.Background(), retention.AuditQuery{First: 100}); len(again) != len(all)+1 { // + the run start
			t.Fatalf("rows changed: %d", len(again))
		}

		// A transaction that fails after appending leaves no record.
		boom := errors.New("boom")
		err = s.Update(context.Background(), func(tx retention.Tx) error {
			if err := tx.AppendAudit(ctx, retention.NewAuditEvent(ctx, now, "test.rollback", "x", nil)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if again, _ := s.AuditLog(context.Background(), retention.AuditQuery{First: 100}); len(again) != len(all)+1 { // + the run start
			t.Fatalf("rolled back event kept: %d", len(again))
		}
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestExportAuditBounded: each export is itself an audit event, yet the
// export document stops growing: it embeds the newest events only and says
// where the older ones are.
func TestExportAuditBounded(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpenSQLite(t)
	ctx, svc := context.Background(), newService(s)
	c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Ada")}})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var doc struct {
		AuditLog         []struct{ Action string } `json:"auditLog"`
		AuditLogComplete bool                      `json:"auditLogComplete"`
		AuditLogMore     string                    `json:"auditLogMore"`
	}
	for range 80 {
		export, err := svc.ExportCustomer(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(export.Data))
		doc.AuditLog = nil
		if err := json.Unmarshal(export.Data, &doc); err != nil {
			t.Fatal(err)
		}
	}
	if len(doc.AuditLog) != 50 || doc.AuditLogComplete || !strings.Contains(doc.AuditLogMore, c.ID) {
		t.Fatalf("80th export: %d events, complete %v, more %q", len(doc.AuditLog), doc.AuditLogComplete, doc.AuditLogMore)
	}
	if sizes[79] > sizes[60]+200 {
		t.Fatalf("export grew from %d to %d bytes between the 61st and the 80th", sizes[60], sizes[79])
	}
	if sizes[0] >= sizes[60] {
		t.Fatalf("the first export (%d bytes) is not smaller than the 61st (%d)", sizes[0], sizes[60])
	}
}
