package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestStatusHistoryAndLastInteraction is the sixth repro: status
// changes imported out of time order leave the latest in time current, and
// lastInteractionAt does not go backwards when a future event is booked.
func TestStatusHistoryAndLastInteraction(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		at := func(v string) *time.Time {
			x, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t.Fatal(err)
			}
			return &x
		}
		c, err := svc.CreateCustomer(ctx, retention.CustomerInput{LastInteractionAt: at("2024-01-01T00:00:00Z"),
			PersonalData: retention.PersonalData{FirstName: sp("Ann"), LastName: sp("Lee")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetCustomerStatus(ctx, c.ID, retention.StatusCancelled, at("2025-06-01T00:00:00Z")); err != nil {
			t.Fatal(err)
		}
		got, _ := svc.Customer(ctx, c.ID)
		if last, _ := svc.LastInteraction(ctx, got); !last.Equal(*at("2025-06-01T00:00:00Z")) {
			t.Fatalf("lastInteractionAt %v after the cancellation", last)
		}
		if _, err := svc.SetCustomerStatus(ctx, c.ID, retention.StatusActive, at("2024-06-01T00:00:00Z")); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Customer(ctx, c.ID)
		if got.Status != retention.StatusCancelled || !got.StatusChangedAt.Equal(*at("2025-06-01T00:00:00Z")) {
			t.Fatalf("an older status change imported later became current: %s at %v", got.Status, got.StatusChangedAt)
		}
		if _, err := svc.BookAppointment(ctx, c.ID, *at("2027-07-15T09:00:00Z"), *at("2027-07-15T10:00:00Z")); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Customer(ctx, c.ID)
		if last, _ := svc.LastInteraction(ctx, got); !last.Equal(*at("2025-06-01T00:00:00Z")) {
			t.Fatalf("lastInteractionAt went backwards to %v", last)
		}
		// The older change is in the history: the audit log has both.
		events, err := s.AuditLog(ctx, retention.AuditQuery{Subject: c.ID, First: 10})
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		for _, e := range events {
			if e.Action == retention.AuditCustomerStatus {
				changes = append(changes, e.Details["at"].(string))
			}
		}
		if len(changes) != 2 || changes[0] != "2024-06-01T00:00:00Z" || changes[1] != "2025-06-01T00:00:00Z" {
			t.Fatalf("status history in the audit log: %v", changes)
		}
		// A later change is current again.
		if _, err := svc.SetCustomerStatus(ctx, c.ID, retention.StatusActive, at("2025-07-01T00:00:00Z")); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Customer(ctx, c.ID)
		if got.Status != retention.StatusActive {
			t.Fatalf("a later change is not current: %s", got.Status)
		}
	})
}

// TestOlderImportOfTheCurrentStatus: a customer CANCELLED at T1 whose
// import says CANCELLED at T0 < T1 has been CANCELLED since T0 (found by
// the oracle: Lethe ignored the import and anonymised from T1, later than
// the data policy allows); an ACTIVE change imported between them makes T1
// the start again.
func TestOlderImportOfTheCurrentStatus(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		at := func(v string) *time.Time {
			x, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t.Fatal(err)
			}
			return &x
		}
		if _, err := svc.UpdateDataPolicy(ctx, retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 30, AnonymiseCustomerData: true}); err != nil {
			t.Fatal(err)
		}
		c, err := svc.CreateCustomer(ctx, retention.CustomerInput{LastInteractionAt: at("2020-01-01T00:00:00Z")})
		if err != nil {
			t.Fatal(err)
		}
		check := func(status retention.Status, since, deletion string) {
			t.Helper()
			got, err := svc.Customer(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != status || !got.StatusChangedAt.Equal(*at(since)) || !svc.DeletionTime(got).Equal(*at(deletion)) {
				t.Fatalf("%s since %v, deletion %v; want %s since %s, deletion %s", got.Status, got.StatusChangedAt, svc.DeletionTime(got), status, since, deletion)
			}
		}
		if _, err := svc.SetCustomerStatus(ctx, c.ID, retention.StatusCancelled, at("2023-06-01T00:00:00Z")); err != nil {
			t.Fatal(err)
		}
		// Anonymised 30 days after the cancellation, never before the
		// latest event (the cancellation itself).
		check(retention.StatusCancelled, "2023-06-01T00:00:00Z", "2023-07-01T00:00:00Z")
		if _, err := svc.SetCustomerStatus(ctx, c.ID, retention.StatusCancelled, at("2021-01-01T00:00:00Z")); err != nil {
			t.Fatal(err)
		}
		// Cancelled since 2021; the latest event is still 2023-06-01.
		check(retention.StatusCancelled, "2021-01-01T00:00:00Z", "2023-06-01T00:00:00Z")
		if _, err := svc.SetCustomerStatus(ctx, c.ID, retention.StatusActive, at("2022-01-01T00:00:00Z")); err != nil {
			t.Fatal(err)
		}
		check(retention.StatusCancelled, "2023-06-01T00:00:00Z", "2023-07-01T00:00:00Z")
	})
}
