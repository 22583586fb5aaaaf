package relinquish

import (
	"context"
	"fmt"

	"github.com/lethe-privacy/lethe/retention"
)

// appendToLedger records the entries finalize closes as done in the ledger,
// then the new position in tx: the one call of the finalize path.
func (e *Engine) appendToLedger(ctx context.Context, tx retention.Tx, r *runState, closed []retention.JournalEntry) error {
	if e.ledger == nil {
		return nil
	}
	var records []retention.LedgerRecord
	for _, en := range closed {
		if en.Status != retention.EntryDone || en.Reapplied() || (en.Kind != retention.ActionErase && en.Kind != retention.ActionAnonymise) {
			continue
		}
		by := en.RequestedBy
		if by == "" {
			by = en.Rule
		}
		records = append(records, retention.LedgerRecord{CustomerID: en.CustomerID, At: *en.ClosedAt, Kind: en.Kind,
			Categories: en.Categories, Run: en.RunID, By: by})
	}
	if len(records) == 0 {
		return nil
	}
	w, ok := tx.(retention.LedgerPositionWriter)
	if !ok {
		return fmt.Errorf("the store cannot record the erasure ledger's position")
	}
	pos, err := e.ledger.Append(ctx, records)
	if err != nil {
		return fmt.Errorf("erasure ledger: %w", err)
	}
	return w.RecordLedgerPosition(ctx, pos)
}
