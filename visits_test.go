package main

import (
	"context"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/retention"
)

// TestEndedVisitReachesStatistics ends a visit and reads the statistics
// connector: the visit is there with the custom fields whose storage was on
// when it started, and without the one switched off before it started.
func TestEndedVisitReachesStatistics(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 10, "")
	ctx := context.Background()
	first := "Vera"
	c, err := w.svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: &first}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.UpdateCustomFieldStorage(ctx, map[string]bool{"custom2": false}); err != nil {
		t.Fatal(err)
	}
	stored, private := "branch-kept-7731", "not-for-statistics-4410"
	v, err := w.svc.StartVisit(ctx, retention.VisitInput{CustomerID: &c.ID, CustomFields: []retention.CustomFieldValue{
		{Field: "custom1", Value: &stored}, {Field: "custom2", Value: &private}}})
	if err != nil {
		t.Fatal(err)
	}
	// Switching custom1 off now does not change the visit already started.
	if _, err := w.svc.UpdateCustomFieldStorage(ctx, map[string]bool{"custom1": false}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.EndVisit(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	stats := w.exports(t, retention.Subject{CustomerID: c.ID})["statdb"]
	if !strings.Contains(stats, v.ID) || !strings.Contains(stats, stored) {
		t.Fatalf("statdb lacks the visit or its stored field: %s", stats)
	}
	if strings.Contains(stats, private) {
		t.Fatalf("statdb holds a field whose storage was off: %s", stats)
	}
}

// TestVisitRecordedAfterConnectorComesBack ends a visit while the
// connectors are down: the visit stays pending and reaches the statistics
// store once they are back.
func TestVisitRecordedAfterConnectorComesBack(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 10, "")
	ctx := context.Background()
	first := "Nils"
	c, err := w.svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: &first}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := w.svc.StartVisit(ctx, retention.VisitInput{CustomerID: &c.ID})
	if err != nil {
		t.Fatal(err)
	}
	w.manager.Close() // every plugin process ends; calls now fail
	ended, err := w.svc.EndVisit(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ended.StatsPending {
		t.Fatal("a visit no connector recorded is not pending")
	}
	w.open(t) // connectors back
	n, err := w.svc.DeliverPendingVisits(ctx)
	if err != nil || n != 1 {
		t.Fatalf("delivered %d (%v)", n, err)
	}
	stored, _ := w.store.Visit(ctx, v.ID)
	if stored.StatsPending {
		t.Fatal("still pending after delivery")
	}
	if stats := w.exports(t, retention.Subject{CustomerID: c.ID})["statdb"]; !strings.Contains(stats, v.ID) {
		t.Fatalf("statdb lacks the redelivered visit: %s", stats)
	}
	if n, err := w.svc.DeliverPendingVisits(ctx); err != nil || n != 0 {
		t.Fatalf("second delivery: %d (%v)", n, err)
	}
}
