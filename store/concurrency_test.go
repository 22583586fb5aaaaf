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

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// staleCustomers lists the customers whose stored schedule differs from the
// one the rules in force give.
func staleCustomers(t *testing.T, s *store.Store) []string {
	t.Helper()
	ctx := context.Background()
	ps, err := s.Policies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dp, err := s.DataPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	policies := retention.NewPolicySet(ps)
	var stale []string
	after := ""
	for {
		page, err := s.SearchCustomers(ctx, retention.SearchQuery{First: 100, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Customers {
			want := retention.ComputeSchedule(c, policies, dp)
			if !sameTime(want.DeletionTime, c.DeletionTime) || !sameTime(want.EraseAt, c.EraseAt) || !sameTime(want.AnonymiseAt, c.AnonymiseAt) {
				stale = append(stale, fmt.Sprintf("%s stored %v, rules %v", c.ID, c.DeletionTime, want.DeletionTime))
			}
			after = c.ID
		}
		if !page.HasNextPage {
			return stale
		}
	}
}

// TestWritesDuringRuleChanges runs customer writes (creations, bookings,
// status changes) from 16 clients while retention policies and the data
// policy change again and again, for a few seconds: no request may fail (no
// deadlock, no serialization failure reaches the caller), and afterwards
// every customer's stored schedule is the one the rules in force give.
func TestWritesDuringRuleChanges(t *testing.T) {
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
		if stale := staleCustomers(t, s); len(stale) > 0 {
			t.Fatalf("%d customers keep a stale schedule after %d writes and %d rule changes, e.g. %s", len(stale), writes.Load(), changes.Load(), stale[0])
		}
		t.Logf("%d writes, %d rule changes: no failure, no stale schedule", writes.Load(), changes.Load())
	})
}

// unfinishedRecomputes is the real store whose queued recomputations have
// not reached any customer yet: the state between the commit of a policy
// change and its last chunk (or after a crash in between).
type unfinishedRecomputes struct{ *store.Store }

func (unfinishedRecomputes) FinishRecomputes(context.Context) error { return nil }

// TestHalfAppliedRecomputeNeverErasesEarly lengthens a policy and sweeps
// before any stored schedule was recomputed: the stored times say due, the
// rules in force say not, and the engine must side with the rules (and put
// the right times back). A later sweep on the store as it is finishes the
// queued recomputation first.
func TestHalfAppliedRecomputeNeverErasesEarly(t *testing.T) {
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
		// The change commits; its recomputation is only queued.
		err := s.UpdateRules(ctx, func(tx retention.Tx) error {
			p, err := tx.Policy(ctx, retention.PolicyDefault)
			if err != nil {
				return err
			}
			p.RetentionDays, p.Version = 90, p.Version+1
			return tx.SavePolicy(ctx, p)
		})
		if err != nil {
			t.Fatal(err)
		}
		if stale := staleCustomers(t, s); len(stale) != len(ids) {
			t.Fatalf("%d stale schedules before the recomputation, want all %d", len(stale), len(ids))
		}
		engine := retention.NewEngine(unfinishedRecomputes{s}, nil, quiet)
		run, err := engine.Run(ctx, retention.RunOptions{})
		if err != nil || run.CustomersPlanned != 0 || run.CustomersDone != 0 {
			t.Fatalf("sweep over stale schedules: %+v %v", run, err)
		}
		for _, id := range ids {
			c, err := s.Customer(ctx, id)
			if err != nil || c.ErasedAt != nil || c.FirstName == nil {
				t.Fatalf("customer %s erased early: %+v %v", id, c, err)
			}
		}
		if stale := staleCustomers(t, s); len(stale) != 0 {
			t.Fatalf("the sweep did not put the rules' times back: %v", stale)
		}

		// A shortened policy whose recomputation never ran (a crash after
		// the commit): the next sweep finishes it first, then erases the
		// customers now due — none is skipped silently.
		err = s.UpdateRules(ctx, func(tx retention.Tx) error {
			p, err := tx.Policy(ctx, retention.PolicyDefault)
			if err != nil {
				return err
			}
			p.RetentionDays, p.Version = 7, p.Version+1
			return tx.SavePolicy(ctx, p)
		})
		if err != nil {
			t.Fatal(err)
		}
		run, err = retention.NewEngine(s, nil, quiet).Run(ctx, retention.RunOptions{})
		if err != nil || run.CustomersDone != len(ids) {
			t.Fatalf("sweep after an unfinished recomputation: %+v %v", run, err)
		}
	})
}
