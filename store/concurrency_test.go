package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestWritesDuringRuleChanges runs customer writes (creations, bookings,
// status changes) from 16 clients while retention policies and the data
// policy change again and again, for a few seconds: no request may fail (no
// deadlock, no serialization failure reaches the caller), and afterwards
// every customer's stored anchors are the ones its record gives.
func TestWritesDuringRuleChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := retention.NewService(s, retention.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		var seed []string
		for i := range 50 {
			c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp(fmt.Sprint("Seed", i))}})
			if err != nil {
				t.Fatal(err)
			}
			seed = append(seed, c.ID)
		}
		// Writers go on until the rule changes are done: at least 6 of them
		// and 3 seconds.
		stop := time.Now().Add(3 * time.Second)
		var done atomic.Bool
		var writes, changes atomic.Int64
		var mu sync.Mutex
		var failures []error
		fail := func(err error) {
			mu.Lock()
			failures = append(failures, err)
			mu.Unlock()
		}
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				for i := 0; !done.Load(); i++ {
					var err error
					switch i % 3 {
					case 0:
						_, err = svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp(fmt.Sprint("W", w, "-", i))}})
					case 1:
						start := time.Now().Add(time.Duration(24+i%100) * time.Hour)
						_, err = svc.BookAppointment(ctx, seed[(w*7+i)%len(seed)], start, start.Add(time.Hour))
					case 2:
						status := retention.StatusCancelled
						if i%2 == 0 {
							status = retention.StatusActive
						}
						_, err = svc.SetCustomerStatus(ctx, seed[(w*11+i)%len(seed)], status, nil)
					}
					if err != nil {
						fail(err)
					}
					writes.Add(1)
				}
			})
		}
		wg.Go(func() {
			defer done.Store(true)
			for i := 0; time.Now().Before(stop) || i < 6; i++ {
				days := []int{7, 24, 30, 365}[i%4]
				var err error
				switch i % 3 {
				case 0:
					_, err = svc.UpdatePolicy(ctx, retention.PolicyDefault, &days, nil)
				case 1:
					_, err = svc.UpdatePolicy(ctx, retention.PolicyAppointment, &days, nil)
				case 2:
					_, err = svc.UpdateDataPolicy(ctx, retention.DataPolicy{RelinquishDeletedData: i%2 == 0, RelinquishAfterDays: days,
						AnonymiseCustomerData: true, RemoveCDRs: i%4 == 0})
				}
				if err != nil {
					fail(err)
				}
				changes.Add(1)
				time.Sleep(50 * time.Millisecond)
			}
		})
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("%d of %d writes and %d rule changes failed; first: %v", len(failures), writes.Load(), changes.Load(), failures[0])
		}
		if changes.Load() < 5 || writes.Load() < 100 {
			t.Fatalf("too little happened to prove anything: %d writes, %d rule changes", writes.Load(), changes.Load())
		}
		if stale := storetest.StaleCustomers(t, s); len(stale) > 0 {
			t.Fatalf("%d customers keep stale anchors after %d writes and %d rule changes, e.g. %s", len(stale), writes.Load(), changes.Load(), stale[0])
		}
		t.Logf("%d writes, %d rule changes: no failure, no stale anchor", writes.Load(), changes.Load())
	})
}

// TestRuleChangeAppliesAtOnce lengthens a policy and sweeps at once: the
// rules in force say not due, so nothing is erased; then shortens it and
// sweeps at once: every customer now due is erased. A change is one row,
// with no recomputation between its commit and the next sweep.
func TestRuleChangeAppliesAtOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		quiet := retention.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
		svc := retention.NewService(s, quiet)
		past := time.Now().Add(-40 * retention.Day)
		var ids []string
		for i := range 30 {
			c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp(fmt.Sprint("Due", i))}, LastInteractionAt: &past})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		days := 90
		if _, err := svc.UpdatePolicy(ctx, retention.PolicyDefault, &days, nil); err != nil {
			t.Fatal(err)
		}
		run, err := relinquish.NewEngine(s, nil, quiet).Run(ctx, retention.RunOptions{})
		if err != nil || run.CustomersPlanned != 0 || run.CustomersDone != 0 {
			t.Fatalf("sweep after lengthening: %+v %v", run, err)
		}
		for _, id := range ids {
			c, err := s.Customer(ctx, id)
			if err != nil || c.ErasedAt != nil || c.FirstName == nil {
				t.Fatalf("customer %s erased early: %+v %v", id, c, err)
			}
		}
		days = 7
		if _, err := svc.UpdatePolicy(ctx, retention.PolicyDefault, &days, nil); err != nil {
			t.Fatal(err)
		}
		run, err = relinquish.NewEngine(s, nil, quiet).Run(ctx, retention.RunOptions{})
		if err != nil || run.CustomersPlanned != len(ids) || run.CustomersDone != len(ids) {
			t.Fatalf("sweep after shortening: %+v %v", run, err)
		}
		if stale := storetest.StaleCustomers(t, s); len(stale) != 0 {
			t.Fatalf("stale anchors: %v", stale)
		}
	})
}
