package relinquish_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestEngineNeverActsOnAStaleDeletionTime corrupts a stored anchor (the
// policy group), so that a range lists a customer the rules do not make due:
// the sweep must not erase the customer (the rules say it is not due), and
// puts the right time back.
func TestEngineNeverActsOnAStaleDeletionTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := retention.NewService(s)
		c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Stale")}})
		if err != nil {
			t.Fatal(err)
		}
		// The direct policy's range (0 days) lists it; its record says the
		// automatic default policy (30 days) governs it.
		if _, err := s.DB().ExecContext(ctx, "UPDATE customers SET policy_group = 'direct' WHERE id = ?", c.ID); err != nil {
			t.Fatal(err)
		}
		engine := relinquish.NewEngine(s, nil, retention.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		run, err := engine.Run(ctx, retention.RunOptions{})
		if err != nil || run.CustomersPlanned != 0 {
			t.Fatalf("run: %+v %v", run, err)
		}
		got, _ := s.Customer(ctx, c.ID)
		if got.ErasedAt != nil || got.FirstName == nil || !svc.DeletionTime(got).Equal(*svc.DeletionTime(c)) {
			t.Fatalf("customer after the sweep: erased %v, deletion time %v (want %v)", got.ErasedAt, svc.DeletionTime(got), svc.DeletionTime(c))
		}
		if stale := storetest.StaleCustomers(t, s); len(stale) != 0 {
			t.Fatalf("the sweep did not rewrite the anchors: %v", stale)
		}
	})
}

// TestVisitsOfACustomerBeingRelinquishedWait: while a sweep has an open
// journal entry for a customer, their ended visits are not sent to the
// statistics connectors (the sweep may have deleted theirs already).
func TestVisitsOfACustomerBeingRelinquishedWait(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := retention.NewService(s)
		c, _ := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Busy")}})
		v, err := svc.StartVisit(ctx, retention.VisitInput{CustomerID: &c.ID})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		entry := retention.JournalEntry{ID: "jrn_test", RunID: "run_test", CustomerID: c.ID, Kind: retention.ActionErase, PolicyName: "default",
			PolicyVersion: 1, Rule: "test", DueAt: now, PlannedAt: now, Status: retention.EntryOpen, NextAttemptAt: now}
		err = s.Update(ctx, func(tx retention.Tx) error {
			if err := tx.InsertRun(ctx, retention.Run{ID: "run_test", Status: retention.RunRunning, AsOf: now, StartedAt: now, HeartbeatAt: now}); err != nil {
				return err
			}
			return tx.InsertEntries(ctx, []retention.JournalEntry{entry}, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		ended, err := svc.EndVisit(ctx, v.ID)
		if err != nil || !ended.StatsPending {
			t.Fatalf("visit of a customer being relinquished was delivered: %+v %v", ended, err)
		}
		if n, err := svc.DeliverPendingVisits(ctx); err != nil || n != 0 {
			t.Fatalf("delivered %d (%v) while the entry is open", n, err)
		}
		entry.Status = retention.EntryDone
		if err := s.Update(ctx, func(tx retention.Tx) error { return tx.SaveEntry(ctx, entry) }); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.DeliverPendingVisits(ctx); err != nil || n != 1 {
			t.Fatalf("delivered %d (%v) after the entry closed", n, err)
		}
	})
}

func sp(s string) *string { return &s }
