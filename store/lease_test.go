package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestLeaseEpochFences: a holder whose lease was taken over cannot renew
// it, and the fencing check rolls back what its transaction changed.
func TestLeaseEpochFences(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		var a, b retention.Lease
		acquire := func(holder string, at time.Time) (retention.Lease, bool) {
			var l retention.Lease
			var ok bool
			if err := s.Update(ctx, func(tx retention.Tx) error {
				var err error
				l, ok, err = tx.AcquireSweepLease(ctx, holder, at, at.Add(time.Second), "")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return l, ok
		}
		a, ok := acquire("a", now)
		if !ok || a.Epoch != 1 {
			t.Fatalf("first acquisition: %+v %v", a, ok)
		}
		if _, ok := acquire("a", now); ok {
			t.Fatal("a current lease was taken again by its own holder")
		}
		if _, ok := acquire("b", now); ok {
			t.Fatal("a current lease was taken by another holder")
		}
		b, ok = acquire("b", now.Add(2*time.Second)) // a's term has passed
		if !ok || b.Epoch != 2 {
			t.Fatalf("takeover: %+v %v", b, ok)
		}
		err := s.Update(ctx, func(tx retention.Tx) error {
			if err := tx.InsertRun(ctx, retention.Run{ID: "run_fenced", Status: retention.RunRunning, AsOf: now, StartedAt: now, HeartbeatAt: now}); err != nil {
				return err
			}
			return tx.RenewSweepLease(ctx, a, now.Add(time.Minute))
		})
		if !errors.Is(err, retention.ErrLeaseLost) {
			t.Fatalf("renewal by the replaced holder: %v, want ErrLeaseLost", err)
		}
		if _, err := s.Run(ctx, "run_fenced"); retention.ErrorCode(err) != retention.CodeNotFound {
			t.Fatalf("the fenced transaction's change survived: %v", err)
		}
		if err := s.Update(ctx, func(tx retention.Tx) error { return tx.RenewSweepLease(ctx, b, now.Add(time.Minute)) }); err != nil {
			t.Fatalf("renewal by the holder: %v", err)
		}
		// Releasing keeps the epoch counting.
		if err := s.Update(ctx, func(tx retention.Tx) error { return tx.ReleaseSweepLease(ctx, b) }); err != nil {
			t.Fatal(err)
		}
		if c, ok := acquire("c", now); !ok || c.Epoch != 3 {
			t.Fatalf("after release: %+v %v", c, ok)
		}
	})
}

// TestFrozenTransactionDoesNotKeepTheLease: a process frozen in the middle
// of a fenced transaction holds the lease row's lock; PostgreSQL ends its
// idle session, so another process takes the expired lease anyway, and the
// frozen transaction commits nothing.
func TestFrozenTransactionDoesNotKeepTheLease(t *testing.T) {
	t.Parallel()
	database := storetest.PostgresDatabase(t)
	ctx := context.Background()
	open := func() *store.Store {
		s, err := store.Open(ctx, store.Config{Database: database, IdleTxTimeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	frozen, other := open(), open()
	if _, err := frozen.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var lease retention.Lease
	if err := frozen.Update(ctx, func(tx retention.Tx) error {
		var err error
		lease, _, err = tx.AcquireSweepLease(ctx, "frozen", now, now.Add(200*time.Millisecond), "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	holding := make(chan struct{})
	result := make(chan error, 1)
	go func() {
		result <- frozen.Update(ctx, func(tx retention.Tx) error {
			if err := tx.RenewSweepLease(ctx, lease, now.Add(200*time.Millisecond)); err != nil {
				return err
			}
			close(holding)
			time.Sleep(3 * time.Second) // frozen, the lease row locked
			return tx.InsertRun(ctx, retention.Run{ID: "run_frozen", Status: retention.RunRunning, AsOf: now, StartedAt: now, HeartbeatAt: now})
		})
	}()
	<-holding
	time.Sleep(300 * time.Millisecond) // the lease's term passes
	start := time.Now()
	var took retention.Lease
	var ok bool
	if err := other.Update(ctx, func(tx retention.Tx) error {
		var err error
		at := time.Now()
		took, ok, err = tx.AcquireSweepLease(ctx, "other", at, at.Add(time.Minute), "")
		return err
	}); err != nil || !ok || took.Epoch != lease.Epoch+1 {
		t.Fatalf("takeover of a frozen holder's lease: %+v %v %v", took, ok, err)
	}
	if waited := time.Since(start); waited > 2500*time.Millisecond {
		t.Fatalf("the takeover waited %s for the frozen transaction", waited)
	}
	if err := <-result; err == nil {
		t.Fatal("the frozen transaction committed after its session should have ended")
	}
	if _, err := other.Run(ctx, "run_frozen"); retention.ErrorCode(err) != retention.CodeNotFound {
		t.Fatalf("the frozen transaction's change survived: %v", err)
	}
}
