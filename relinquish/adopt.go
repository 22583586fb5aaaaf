package relinquish

import (
	"context"
	"errors"

	"github.com/lethe-privacy/lethe/retention"
)

// dispatchAdopting executes, under the run r, the open entries next pages
// through (a purge run's, or every open one): each page is adopted (moved
// to r, its next attempt now; fenced) and dispatched. It plans nothing, so
// a purge never erases or anonymises anyone, whatever is due.
func (e *Engine) dispatchAdopting(ctx context.Context, r *runState, next func(afterID string) ([]retention.JournalEntry, error)) error {
	d := newDispatcher(ctx, e, r)
	after := ""
	for {
		entries, err := next(after)
		if err != nil {
			return errors.Join(err, d.wait())
		}
		if len(entries) == 0 {
			break
		}
		after = entries[len(entries)-1].ID
		now := e.nowUTC()
		if err := e.fenced(ctx, r, func(tx retention.Tx) error {
			for _, en := range entries {
				if err := tx.AdoptEntry(ctx, en.ID, r.run.ID, now); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return errors.Join(err, d.wait())
		}
		acts, err := e.store.EntryActions(ctx, entryIDs(entries))
		if err != nil {
			return errors.Join(err, d.wait())
		}
		for i := range entries {
			entries[i].RunID, entries[i].NextAttemptAt = r.run.ID, now
			for j := range acts[entries[i].ID] {
				acts[entries[i].ID][j].RunID = r.run.ID
			}
		}
		n := 0
		for _, a := range acts {
			n += len(a)
		}
		r.add(func(run *retention.Run) { run.CustomersPlanned += len(entries); run.ActionsPlanned += n })
		if !d.dispatch(entries, acts) {
			break
		}
	}
	return d.wait()
}

func entryIDs(entries []retention.JournalEntry) []string {
	out := make([]string, len(entries))
	for i, en := range entries {
		out[i] = en.ID
	}
	return out
}
