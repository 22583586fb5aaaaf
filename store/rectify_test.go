package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestUpdateCustomer is rectification on both databases: only the fields
// given change, the edit moves the erase clock, the audit names fields and
// never values, and search finds the new values, not the old ones.
func TestUpdateCustomer(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := now
		svc := retention.NewService(s, retention.WithClock(func() time.Time { return clock }))
		c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{
			FirstName: sp("Jon"), LastName: sp("Smiht"), Email: sp("jon@example.com"), Phone: sp("+44 7700 900123")}})
		if err != nil {
			t.Fatal(err)
		}
		if !svc.DeletionTime(c).Equal(now.Add(30 * retention.Day)) {
			t.Fatalf("deletion time before the edit %v", svc.DeletionTime(c))
		}
		clock = now.Add(10 * retention.Day)
		got, err := svc.UpdateCustomer(ctx, c.ID, retention.PersonalData{LastName: sp("  Smith "), Phone: sp("+44 7700 900999")})
		if err != nil {
			t.Fatal(err)
		}
		if *got.LastName != "Smith" || *got.Phone != "+44 7700 900999" || *got.FirstName != "Jon" || *got.Email != "jon@example.com" {
			t.Fatalf("after the edit: %+v", got.PersonalData)
		}
		if want := clock.Add(30 * retention.Day); !svc.DeletionTime(got).Equal(want) {
			t.Fatalf("the edit did not move the erase clock: %v, want %v", svc.DeletionTime(got), want)
		}
		read, _ := svc.Customer(ctx, c.ID)
		if *read.LastName != "Smith" || !read.TouchedAt.Equal(clock) || read.Timeline.LatestKind != retention.EventEdited {
			t.Fatalf("stored: %+v %v %s", read.PersonalData, read.TouchedAt, read.Timeline.LatestKind)
		}
		if reason, _ := svc.DeletionReason(ctx, read); !strings.Contains(reason, "edit") {
			t.Fatalf("deletion reason does not name the edit: %q", reason)
		}
		checkUpdateAudit(t, svc, c.ID, []string{"lastName", "phone"}, "Smith", "Smiht", "900999")
		checkUpdateSearch(t, svc, c.ID)

		// The same values again: nothing changes, nothing is recorded.
		clock = clock.Add(retention.Day)
		again, err := svc.UpdateCustomer(ctx, c.ID, retention.PersonalData{LastName: sp("Smith")})
		if err != nil || !svc.DeletionTime(again).Equal(*svc.DeletionTime(got)) {
			t.Fatalf("an edit changing nothing moved the clock: %v %v", svc.DeletionTime(again), err)
		}
		if evs := updateEvents(t, svc, c.ID); len(evs) != 1 {
			t.Fatalf("an edit changing nothing was audited: %d events", len(evs))
		}
		// "" clears an optional field.
		cleared, err := svc.UpdateCustomer(ctx, c.ID, retention.PersonalData{Email: sp("")})
		if err != nil || cleared.Email != nil {
			t.Fatalf("clear email: %+v %v", cleared.PersonalData, err)
		}
		checkUpdateRefusals(t, svc, c.ID)
	})
}

func checkUpdateAudit(t *testing.T, svc *retention.Service, id string, fields []string, secrets ...string) {
	t.Helper()
	evs := updateEvents(t, svc, id)
	if len(evs) != 1 {
		t.Fatalf("want one %s event, got %d", retention.AuditCustomerUpdate, len(evs))
	}
	raw, _ := json.Marshal(evs[0].Details)
	want, _ := json.Marshal(fields)
	if !strings.Contains(string(raw), string(want)) {
		t.Fatalf("audit details %s do not name the fields %s", raw, want)
	}
	for _, s := range secrets {
		if strings.Contains(string(raw), s) {
			t.Fatalf("audit details %s contain the value %q", raw, s)
		}
	}
}

func updateEvents(t *testing.T, svc *retention.Service, id string) []retention.AuditEvent {
	t.Helper()
	evs, err := svc.AuditLog(context.Background(), nil, nil, retention.AuditFilter{Action: retention.AuditCustomerUpdate, Subject: id})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func checkUpdateSearch(t *testing.T, svc *retention.Service, id string) {
	t.Helper()
	ctx := context.Background()
	for q, want := range map[string]bool{"Smith": true, "Smiht": false, "07700 900999": true, "07700 900123": false, "jon": true} {
		page, err := svc.SearchCustomers(ctx, q, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		found := len(page.Customers) == 1 && page.Customers[0].ID == id
		if found != want {
			t.Errorf("search %q after the edit: found %v, want %v", q, found, want)
		}
	}
}

func checkUpdateRefusals(t *testing.T, svc *retention.Service, id string) {
	t.Helper()
	ctx := context.Background()
	_, err := svc.UpdateCustomer(ctx, id, retention.PersonalData{Email: sp("not-an-address")})
	mustCode(t, err, retention.CodeBadUserInput)
	_, err = svc.UpdateCustomer(ctx, id, retention.PersonalData{})
	mustCode(t, err, retention.CodeBadUserInput)
	_, err = svc.UpdateCustomer(ctx, "cus_missing", retention.PersonalData{FirstName: sp("X")})
	mustCode(t, err, retention.CodeNotFound)
	req, hidden := retention.ModeRequired, retention.ModeHidden
	if _, err := svc.UpdateFieldPreferences(ctx, nil, map[retention.Field]retention.FieldMode{retention.FieldFirstName: req, retention.FieldEmail: hidden}, true); err != nil {
		t.Fatal(err)
	}
	_, err = svc.UpdateCustomer(ctx, id, retention.PersonalData{FirstName: sp(" ")})
	mustCode(t, err, retention.CodeBadUserInput)
	_, err = svc.UpdateCustomer(ctx, id, retention.PersonalData{Email: sp("jon@example.org")})
	mustCode(t, err, retention.CodeBadUserInput)
	if c, _ := svc.Customer(ctx, id); c.FirstName == nil || *c.FirstName != "Jon" {
		t.Fatalf("a refused edit wrote: %+v", c.PersonalData)
	}
}
