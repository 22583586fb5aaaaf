package relinquish_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

var quiet = retention.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// overdue creates n customers whose retention ran out ten days ago.
func overdue(t *testing.T, s *store.Store, n int) {
	t.Helper()
	svc := retention.NewService(s, quiet)
	past := time.Now().Add(-40 * retention.Day)
	for i := range n {
		if _, err := svc.CreateCustomer(context.Background(), retention.CustomerInput{
			PersonalData: retention.PersonalData{FirstName: sp(fmt.Sprint("Due", i))}, LastInteractionAt: &past}); err != nil {
			t.Fatal(err)
		}
	}
}

// exactlyOnce fails unless every customer of the run has exactly one done
// journal entry and one erase audit event.
func exactlyOnce(t *testing.T, s *store.Store, runID string, want int) {
	t.Helper()
	var done, twice, audited int
	q := func(dst *int, query string, args ...any) {
		if err := s.DB().QueryRowContext(context.Background(), query, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	q(&done, "SELECT count(*) FROM journal_entries WHERE run_id = ? AND status = 'done'", runID)
	q(&twice, "SELECT count(*) FROM (SELECT customer_id FROM journal_entries WHERE status = 'done' GROUP BY customer_id HAVING count(*) > 1) x")
	q(&audited, "SELECT count(*) FROM audit_log WHERE action = 'customer.erase'")
	if done != want || twice != 0 || audited != want {
		t.Fatalf("done entries %d, customers done twice %d, erase audit events %d; want %d, 0, %d", done, twice, audited, want, want)
	}
}

// TestOneProcessClaimsEveryBatch: with no other replica, the run's own
// workers claim every batch it plans (the SQLite case, and PostgreSQL with
// one replica), and the run's counters are the batches' sums.
func TestOneProcessClaimsEveryBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		overdue(t, s, 23)
		run, err := relinquish.NewEngine(s, nil, quiet, retention.WithBatchSize(5)).Run(ctx, retention.RunOptions{})
		if err != nil || run.Status != retention.RunSucceeded || run.CustomersPlanned != 23 || run.CustomersDone != 23 {
			t.Fatalf("run: %+v %v", run, err)
		}
		stored, err := s.Run(ctx, run.ID)
		if err != nil || stored.CustomersDone != 23 || stored.CustomersPlanned != 23 {
			t.Fatalf("stored run: %+v %v", stored, err)
		}
		counts, err := s.BatchesByReplica(ctx, run.ID)
		if err != nil || len(counts) != 1 || counts[0].Batches != 5 {
			t.Fatalf("batches by replica: %+v %v", counts, err)
		}
		if open, err := s.OpenBatches(ctx, run.ID); err != nil || open != 0 {
			t.Fatalf("open batches: %d %v", open, err)
		}
		exactlyOnce(t, s, run.ID, 23)
	})
}

// TestEnginesShareARun: a second engine joins a run another engine started
// and claims its batches alongside it; every customer is erased once, and
// the run's counters add up both engines' batches.
func TestEnginesShareARun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		overdue(t, s, 60)
		starter := relinquish.NewEngine(s, nil, quiet, retention.WithBatchSize(2))
		joiner := relinquish.NewEngine(s, nil, quiet, retention.WithBatchSize(2))
		stop := make(chan struct{})
		var joined int
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				n, err := joiner.Join(ctx)
				if err != nil {
					t.Errorf("join: %v", err)
					return
				}
				joined += n
				time.Sleep(5 * time.Millisecond)
			}
		})
		run, err := starter.Run(ctx, retention.RunOptions{})
		close(stop)
		wg.Wait()
		if err != nil || run.Status != retention.RunSucceeded || run.CustomersDone != 60 {
			t.Fatalf("run: %+v %v", run, err)
		}
		counts, err := starter.BatchesByReplica(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, c := range counts {
			total += c.Batches
		}
		if total != 30 || len(counts) > 2 {
			t.Fatalf("batches by replica: %+v", counts)
		}
		t.Logf("the joiner finished %d of 30 batches", joined)
		exactlyOnce(t, s, run.ID, 60)
	})
}
