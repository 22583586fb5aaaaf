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

// claim claims the next batch of run for holder at now, for a term.
func claim(t *testing.T, s *store.Store, run, holder string, now time.Time) (retention.Claim, bool) {
	t.Helper()
	var c retention.Claim
	var ok bool
	err := s.Update(context.Background(), func(tx retention.Tx) error {
		var err error
		c, ok, err = tx.ClaimBatch(context.Background(), run, holder, now, now.Add(3*time.Second))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, ok
}

func renew(s *store.Store, c retention.Claim, until time.Time) error {
	return s.Update(context.Background(), func(tx retention.Tx) error { return tx.RenewClaim(context.Background(), c, until) })
}

// TestBatchClaims: a batch is claimed by one holder at a time, in planning
// order; a claim is taken over only after its term, with a new epoch, and the
// old claim then proves nothing (its renewal, the fencing check of every
// write of the batch, is refused); a finished batch counts for its holder;
// abandoning a run's batches fences out their claims too.
func TestBatchClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		err := s.Update(ctx, func(tx retention.Tx) error {
			for i, id := range []string{"bat_b", "bat_a"} { // seq, not id, orders them
				if err := tx.InsertBatch(ctx, retention.Batch{ID: id, RunID: "run_1", Seq: i + 1, EntryIDs: []string{id + "/1", id + "/2"}}); err != nil {
					return err
				}
			}
			return tx.InsertBatch(ctx, retention.Batch{ID: "bat_other", RunID: "run_2", Seq: 1, EntryIDs: []string{"x"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if claimable, err := s.AnyClaimable(ctx, now); err != nil || !claimable {
			t.Fatalf("claimable batches before any claim: %v %v", claimable, err)
		}
		a, ok := claim(t, s, "run_1", "A", now)
		if !ok || a.ID != "bat_b" || a.Epoch != 1 || len(a.EntryIDs) != 2 || a.EntryIDs[0] != "bat_b/1" {
			t.Fatalf("first claim: %+v %v", a, ok)
		}
		b, ok := claim(t, s, "run_1", "B", now)
		if !ok || b.ID != "bat_a" {
			t.Fatalf("second claim: %+v %v", b, ok)
		}
		if c, ok := claim(t, s, "run_1", "C", now.Add(time.Second)); ok {
			t.Fatalf("a batch claimed within another's term: %+v", c)
		}
		// A's term ends: C takes its batch with a new epoch; A is fenced out.
		c, ok := claim(t, s, "run_1", "C", now.Add(4*time.Second))
		if !ok || c.ID != "bat_b" || c.Epoch != 2 {
			t.Fatalf("takeover after the term: %+v %v", c, ok)
		}
		if err := renew(s, a, now.Add(10*time.Second)); !errors.Is(err, retention.ErrClaimLost) {
			t.Fatalf("the old claim renewed: %v", err)
		}
		if held, err := s.HoldsClaim(ctx, a, now); err != nil || held {
			t.Fatalf("the old claim holds: %v %v", held, err)
		}
		if err := renew(s, c, now.Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if held, err := s.HoldsClaim(ctx, c, now.Add(5*time.Second)); err != nil || !held {
			t.Fatalf("the new claim does not hold: %v %v", held, err)
		}
		if err := s.Update(ctx, func(tx retention.Tx) error { return tx.FinishBatch(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		if err := renew(s, c, now.Add(10*time.Second)); !errors.Is(err, retention.ErrClaimLost) {
			t.Fatalf("a finished batch's claim renewed: %v", err)
		}
		if open, err := s.OpenBatches(ctx, "run_1"); err != nil || open != 1 {
			t.Fatalf("open batches: %d %v", open, err)
		}
		counts, err := s.BatchesByReplica(ctx, "run_1")
		if err != nil || len(counts) != 1 || counts[0] != (retention.ReplicaBatches{Replica: "C", Batches: 1}) {
			t.Fatalf("batches by replica: %+v %v", counts, err)
		}
		// Abandoning run_1's batches fences out B; run_2's stay claimable.
		if err := s.Update(ctx, func(tx retention.Tx) error { return tx.AbandonBatches(ctx, "run_1") }); err != nil {
			t.Fatal(err)
		}
		if err := renew(s, b, now.Add(10*time.Second)); !errors.Is(err, retention.ErrClaimLost) {
			t.Fatalf("an abandoned batch's claim renewed: %v", err)
		}
		if c, ok := claim(t, s, "", "D", now.Add(time.Minute)); !ok || c.ID != "bat_other" {
			t.Fatalf("claim of any run: %+v %v", c, ok)
		}
		if c, ok := claim(t, s, "", "D", now.Add(time.Minute)); ok {
			t.Fatalf("a claim with nothing left: %+v", c)
		}
		if claimable, err := s.AnyClaimable(ctx, now.Add(time.Minute)); err != nil || claimable {
			t.Fatalf("claimable batches with every one claimed, finished or abandoned: %v %v", claimable, err)
		}
	})
}

// TestBatchClaimSkipsLockedRows: on PostgreSQL a claim does not wait for a
// batch another replica's transaction is claiming at that moment; it takes
// the next one.
func TestBatchClaimSkipsLockedRows(t *testing.T) {
	s := storetest.MustOpenPostgres(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := s.Update(ctx, func(tx retention.Tx) error {
		for i, id := range []string{"bat_1", "bat_2"} {
			if err := tx.InsertBatch(ctx, retention.Batch{ID: id, RunID: "run_1", Seq: i + 1, EntryIDs: []string{id}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	second := make(chan retention.Claim, 1)
	err := s.Update(ctx, func(tx retention.Tx) error {
		first, ok, err := tx.ClaimBatch(ctx, "run_1", "A", now, now.Add(time.Minute))
		if err != nil || !ok || first.ID != "bat_1" {
			t.Errorf("first claim: %+v %v %v", first, ok, err)
		}
		// Another replica claims while this transaction still holds bat_1.
		go func() {
			var c retention.Claim
			s.Update(ctx, func(tx retention.Tx) error { //nolint:errcheck // a failed claim shows as an empty one
				var cerr error
				c, _, cerr = tx.ClaimBatch(ctx, "run_1", "B", now, now.Add(time.Minute))
				return cerr
			})
			second <- c
		}()
		select {
		case c := <-second:
			if c.ID != "bat_2" {
				t.Errorf("the concurrent claim: %+v, want bat_2", c)
			}
		case <-time.After(10 * time.Second):
			t.Error("the concurrent claim waited for the locked batch")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
