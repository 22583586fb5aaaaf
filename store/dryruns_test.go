package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestOldDryRunsAreDeleted: dry runs older than the retention are gone after the clean-up, with their plan lines; newer ones
// and real runs stay.
func TestOldDryRunsAreDeleted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		var mu sync.Mutex
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		svc := retention.NewService(s, retention.WithClock(clock))
		engine := relinquish.NewEngine(s, nil, retention.WithClock(clock))
		ctx := retention.WithActor(context.Background(), retention.Actor{Name: "test", Role: retention.RoleAdmin})
		for i := range 5 {
			if _, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: ptr(fmt.Sprintf("Plan%d", i))}}); err != nil {
				t.Fatal(err)
			}
		}
		later := now.Add(90 * 24 * time.Hour)
		dryRun := func() retention.Run {
			t.Helper()
			run, err := engine.DryRun(ctx, retention.RunOptions{AsOf: &later})
			if err != nil || run.CustomersPlanned != 5 {
				t.Fatalf("dry run: %+v %v", run, err)
			}
			return run
		}
		old := []retention.Run{dryRun(), dryRun()}
		real, err := engine.Run(ctx, retention.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		advance(8 * 24 * time.Hour)
		recent := dryRun()

		n, err := svc.PurgeDryRuns(ctx, retention.DefaultDryRunRetention)
		if err != nil || n != len(old) {
			t.Fatalf("purged %d (%v), want %d", n, err, len(old))
		}
		for _, r := range old {
			if got, err := engine.RunByID(ctx, r.ID); got != nil || retention.ErrorCode(err) != retention.CodeNotFound && err != nil {
				t.Errorf("old dry run %s still there: %+v %v", r.ID, got, err)
			}
			if lines := planLines(t, s, r.ID); lines != 0 {
				t.Errorf("old dry run %s keeps %d plan lines", r.ID, lines)
			}
		}
		if got, err := engine.RunByID(ctx, recent.ID); err != nil || got == nil || planLines(t, s, recent.ID) == 0 {
			t.Errorf("the recent dry run went: %+v %v", got, err)
		}
		if got, err := engine.RunByID(ctx, real.ID); err != nil || got == nil {
			t.Errorf("a real run went: %+v %v", got, err)
		}
		if n, err := svc.PurgeDryRuns(ctx, retention.DefaultDryRunRetention); err != nil || n != 0 {
			t.Fatalf("second clean-up: %d %v", n, err)
		}
	})
}

func planLines(t *testing.T, s *store.Store, runID string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(context.Background(), "SELECT count(*) FROM run_plans WHERE run_id = ?", runID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
