package retention

import (
	"context"
	"fmt"
)

// appendToLedger records the entries finalize closes as done in the ledger,
// then the new position in tx: the one call of the finalize path.
func (e *Engine) appendToLedger(ctx context.Context, tx Tx, r *runState, closed []JournalEntry) error {
	if e.ledger == nil {
		return nil
	}
	var records []LedgerRecord
	for _, en := range closed {
		if en.Status != EntryDone || en.Reapplied() || (en.Kind != ActionErase && en.Kind != ActionAnonymise) {
			continue
		}
		by := en.RequestedBy
		if by == "" {
			by = en.Rule
		}
		records = append(records, LedgerRecord{CustomerID: en.CustomerID, At: *en.ClosedAt, Kind: en.Kind,
			Categories: en.Categories, Run: en.RunID, By: by})
	}
	if len(records) == 0 {
		return nil
	}
	w, ok := tx.(LedgerPositionWriter)
	if !ok {
		return fmt.Errorf("the store cannot record the erasure ledger's position")
	}
	pos, err := e.ledger.Append(ctx, records)
	if err != nil {
		return fmt.Errorf("erasure ledger: %w", err)
	}
	return w.RecordLedgerPosition(ctx, pos)
}
