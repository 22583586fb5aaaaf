package cdrdb

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// SeedCustomer asks Seed for Count records of a customer calling from Phone.
type SeedCustomer struct {
	ID    string
	Phone string
	Count int
}

// Seed writes deterministic records: the same customers and seed always
// give the same rows (ids are derived from the customer id), and seeding
// again adds nothing.
func Seed(ctx context.Context, s *Store, customers []SeedCustomer, seed int64, now time.Time) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	batch := make([]CDR, 0, 4096)
	for _, c := range customers {
		rng := Rand(seed, c.ID)
		for i := range c.Count {
			batch = append(batch, CDR{
				ID:          fmt.Sprintf("%s-cdr-%05d", c.ID, i),
				CustomerID:  c.ID,
				Caller:      c.Phone,
				Callee:      fmt.Sprintf("+49%d", 3000000000+rng.Int64N(999999999)),
				StartedAt:   now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Second),
				DurationSec: 5 + rng.IntN(3600),
				CostCents:   rng.Int64N(500),
			})
		}
		if len(batch) >= 4000 {
			if err := s.insert(ctx, tx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := s.insert(ctx, tx, batch); err != nil {
		return err
	}
	return tx.Commit()
}

// Rand is a generator determined by seed and key, so each customer's data
// does not depend on which other customers are seeded.
func Rand(seed int64, key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// SeedBatch writes the batch customers' demo call records, for `lethe demo`.
func SeedBatch(ctx context.Context, s *Store, b sdk.SeedBatch) error {
	var cdrs []SeedCustomer
	for _, cu := range b.Customers {
		if cu.CallRecords > 0 {
			cdrs = append(cdrs, SeedCustomer{ID: cu.CustomerID, Phone: cu.Phone, Count: cu.CallRecords})
		}
	}
	return Seed(ctx, s, cdrs, b.Seed, b.Now)
}
