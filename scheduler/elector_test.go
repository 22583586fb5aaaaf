package scheduler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/scheduler"
	"github.com/lethe-privacy/lethe/store/storetest"
)

func TestLeaseElector(t *testing.T) {
	s := storetest.MustOpenPostgres(t)
	db := s.DB().DB
	ctx := context.Background()
	const ttl = 600 * time.Millisecond
	a, b := scheduler.NewLeaseElector(s, ttl), scheduler.NewLeaseElector(s, ttl)
	defer a.Close()
	defer b.Close()
	if err := a.IsLeader(ctx); err != nil {
		t.Fatalf("first replica not elected: %v", err)
	}
	// The leader renews between ticks: several terms later it still leads.
	for deadline := time.Now().Add(4 * ttl); time.Now().Before(deadline); time.Sleep(ttl / 4) {
		if err := b.IsLeader(ctx); !errors.Is(err, scheduler.ErrNotLeader) {
			t.Fatalf("second replica while the first lives: %v, want ErrNotLeader", err)
		}
	}
	if err := a.IsLeader(ctx); err != nil {
		t.Fatalf("leader lost its lead: %v", err)
	}
	// The leader's term passes without renewal (as when its process is
	// frozen): the other replica takes the lease, and the old leader, when it
	// asks again, no longer leads.
	for i := 0; ; i++ {
		if _, err := db.ExecContext(ctx, "UPDATE sweep_lease SET expires_at = 0 WHERE name = 'leader'"); err != nil {
			t.Fatal(err)
		}
		if err := b.IsLeader(ctx); err == nil {
			break
		}
		if i == 20 {
			t.Fatal("no takeover of an expired leader lease")
		}
	}
	if err := a.IsLeader(ctx); !errors.Is(err, scheduler.ErrNotLeader) {
		t.Fatalf("the replaced leader: %v, want ErrNotLeader", err)
	}
	var epoch int64
	if err := db.QueryRowContext(ctx, "SELECT epoch FROM sweep_lease WHERE name = 'leader'").Scan(&epoch); err != nil || epoch != 2 {
		t.Fatalf("epoch %d (%v), want 2 after one takeover", epoch, err)
	}
	// Closing gives the lead up at once.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.IsLeader(ctx); err != nil {
		t.Fatalf("no takeover after the leader closed: %v", err)
	}
}
