package relinquish_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestSweepMaxRate caps a sweep of 60 due customers at 40 per second in
// pages of 10: it relinquishes all of them, takes at least the 1.25 s the
// cap allows for the first 50, and the run records the time it waited
// (stored, so every replica's view of the run shows it). Without a cap it
// never waits.
func TestSweepMaxRate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		quiet := retention.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
		svc := retention.NewService(s, quiet)
		createOverdue(t, svc, 60)
		eng := relinquish.NewEngine(s, nil, quiet, retention.WithBatchSize(10), retention.WithSweepMaxRate(40))
		start := time.Now()
		run, err := eng.Run(ctx, retention.RunOptions{})
		took := time.Since(start)
		if err != nil || run.CustomersDone != 60 {
			t.Fatalf("paced run: %+v %v", run, err)
		}
		if took < 1250*time.Millisecond || run.ThrottledSeconds <= 0 {
			t.Fatalf("60 customers at 40/s took %v and waited %.2f s", took, run.ThrottledSeconds)
		}
		stored, err := s.Run(ctx, run.ID)
		if err != nil || stored.ThrottledSeconds != run.ThrottledSeconds {
			t.Fatalf("stored run waited %v, the run %.3f s (%v)", stored, run.ThrottledSeconds, err)
		}
		createOverdue(t, svc, 10)
		free, err := relinquish.NewEngine(s, nil, quiet, retention.WithBatchSize(5)).Run(ctx, retention.RunOptions{})
		if err != nil || free.CustomersDone != 10 || free.ThrottledSeconds != 0 {
			t.Fatalf("an uncapped run: %+v %v", free, err)
		}
	})
}

// createOverdue creates n customers whose last interaction was 40 days ago:
// due under the default policy's 30 days.
func createOverdue(t *testing.T, svc *retention.Service, n int) {
	t.Helper()
	past := time.Now().Add(-40 * retention.Day)
	for i := range n {
		in := retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp(fmt.Sprint("Paced", i))}, LastInteractionAt: &past}
		if _, err := svc.CreateCustomer(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
}
