package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestEngineNeverActsOnAStaleDeletionTime corrupts a stored deletion time:
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
		if _, err := s.DB().ExecContext(ctx, "UPDATE customers SET deletion_time = 1, erase_at = 1 WHERE id = ?", c.ID); err != nil {
			t.Fatal(err)
		}
		engine := retention.NewEngine(s, nil, retention.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		run, err := engine.Run(ctx, retention.RunOptions{})
		if err != nil || run.CustomersPlanned != 0 {
			t.Fatalf("run: %+v %v", run, err)
		}
		got, _ := s.Customer(ctx, c.ID)
		if got.ErasedAt != nil || got.FirstName == nil || !got.DeletionTime.Equal(*c.DeletionTime) {
			t.Fatalf("customer after the sweep: erased %v, deletion time %v (want %v)", got.ErasedAt, got.DeletionTime, c.DeletionTime)
		}
	})
}
