package retention

import (
	"context"
	"time"
)

// DefaultDryRunRetention is how long a stored dry run (its record and
// its plan lines) is kept: long enough to compare this week's previews,
// short enough that previews asked for in a loop cannot fill the disk.
const DefaultDryRunRetention = 7 * 24 * time.Hour

// DryRunWriter deletes stored dry runs; Tx implementations provide it.
type DryRunWriter interface {
	// DeleteDryRuns deletes up to limit dry runs that started before
	// before, with their plan lines, oldest first, and returns how many.
	// Real runs are never deleted: their journal is evidence.
	DeleteDryRuns(ctx context.Context, before time.Time, limit int) (int, error)
}

// dryRunDeleteBatch bounds one clean-up transaction: a plan holds up to
// MaxPlanRows lines, and a long transaction would hold up the sweep.
const dryRunDeleteBatch = 50

// PurgeDryRuns deletes the dry runs (previews included) older than keep,
// in batches of their own transactions, and returns how many. keep <= 0
// keeps them all.
func (s *Service) PurgeDryRuns(ctx context.Context, keep time.Duration) (int, error) {
	if keep <= 0 {
		return 0, nil
	}
	before := s.Now().Add(-keep)
	total := 0
	for {
		var n int
		err := s.store.Update(ctx, func(tx Tx) (err error) {
			n, err = tx.DeleteDryRuns(ctx, before, dryRunDeleteBatch)
			return err
		})
		total += n
		if err != nil || n < dryRunDeleteBatch {
			return total, err
		}
	}
}
