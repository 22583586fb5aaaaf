package relinquish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// Reapply relinquishes again, through the journal, every customer the
// ledger records after the database's position: the database was restored
// from a backup older than those erasures. The same per-connector actions,
// residue checks and receipts as a sweep; no rule, hold or appointment
// stops them (the erasure happened), and they are not appended to the
// ledger again. Records the database already reflects are skipped. The run
// fails when a customer could not be relinquished: the caller must then not
// record the ledger position (a later start tries again).
func (e *Engine) Reapply(ctx context.Context, records []retention.LedgerRecord) (retention.Reapplied, error) {
	var out retention.Reapplied
	merged, order := mergeLedgerRecords(records)
	out.Customers = len(order)
	run, lease, err := e.beginWaiting(ctx, retention.RunOptions{Trigger: "restore", Actor: "ledger"})
	if err != nil {
		return out, err
	}
	r := &runState{run: run, e: e, lease: lease}
	final, err := e.executeWith(ctx, r, func(ctx context.Context) error {
		for start := 0; start < len(order); start += e.BatchSize {
			batch := order[start:min(start+e.BatchSize, len(order))]
			entries, actions, unknown, err := e.planReapply(ctx, r, batch, merged)
			if err != nil {
				return err
			}
			out.Journaled += len(entries)
			out.Unknown += unknown
			if len(entries) == 0 {
				continue
			}
			if err := e.dispatchBatch(ctx, r, entries, actions); err != nil {
				return err
			}
		}
		return nil
	})
	out.Run = final
	if err == nil && final.CustomersFailed > 0 {
		err = fmt.Errorf("%d of %d customers could not be relinquished again (run %s): %s", final.CustomersFailed, out.Journaled, final.ID, final.Error)
	}
	return out, err
}

// beginWaiting takes the sweep lease for a run, waiting for a running sweep
// (another replica's) to finish.
func (e *Engine) beginWaiting(ctx context.Context, opts retention.RunOptions) (retention.Run, retention.Lease, error) {
	for {
		run, lease, err := e.begin(ctx, opts)
		if !errors.Is(err, retention.ErrSweepRunning) {
			return run, lease, err
		}
		select {
		case <-ctx.Done():
			return retention.Run{}, retention.Lease{}, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// mergeLedgerRecords folds the records of each customer into one: an erase
// if any record erased it, else an anonymisation of every category
// recorded. order is the customers in the order of their first record.
func mergeLedgerRecords(records []retention.LedgerRecord) (map[string]retention.LedgerRecord, []string) {
	merged := map[string]retention.LedgerRecord{}
	var order []string
	for _, rec := range records {
		m, seen := merged[rec.CustomerID]
		if !seen {
			order = append(order, rec.CustomerID)
			m = rec
			m.Categories = nil
		}
		if rec.Kind == retention.ActionErase {
			m.Kind = retention.ActionErase
		}
		for _, c := range rec.Categories {
			if !slices.Contains(m.Categories, c) {
				m.Categories = append(m.Categories, c)
			}
		}
		m.At, m.Run, m.By = rec.At, rec.Run, rec.By
		merged[rec.CustomerID] = m
	}
	return merged, order
}

// planReapply journals the re-application of a batch of customers: one
// entry each that the database does not show relinquished. An open entry
// of the same kind (a crash after the ledger append, before the commit) is
// adopted and finished, its confirmed actions never sent again; another
// open entry is superseded.
func (e *Engine) planReapply(ctx context.Context, r *runState, ids []string, merged map[string]retention.LedgerRecord) ([]retention.JournalEntry, map[string][]retention.JournalAction, int, error) {
	conns := e.connectorInfos(ctx)
	var entries []retention.JournalEntry
	var actions map[string][]retention.JournalAction
	var unknown int
	err := e.fenced(ctx, r, func(tx retention.Tx) error {
		entries, actions, unknown = nil, map[string][]retention.JournalAction{}, 0
		customers, err := tx.CustomersByID(ctx, ids)
		if err != nil {
			return err
		}
		now := e.nowUTC()
		var fresh []retention.JournalEntry
		var all []retention.JournalAction
		for _, id := range ids {
			c, rec := customers[id], merged[id]
			if c == nil {
				unknown++
				continue
			}
			if c.ErasedAt != nil || (rec.Kind == retention.ActionAnonymise && len(c.Relinquished.Missing(rec.Categories)) == 0) {
				continue // the database reflects it already
			}
			en, acts, adopted, err := reapplyOrAdopt(ctx, tx, c, rec, conns, r.run.ID, now)
			if err != nil {
				return err
			}
			entries = append(entries, en)
			actions[en.ID] = acts
			if !adopted {
				fresh = append(fresh, en)
				all = append(all, acts...)
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		return tx.InsertEntries(ctx, fresh, all)
	})
	if err != nil {
		return nil, nil, 0, err
	}
	planned := 0
	for _, acts := range actions {
		planned += len(acts)
	}
	r.add(func(run *retention.Run) { run.CustomersPlanned += len(entries); run.ActionsPlanned += planned })
	return entries, actions, unknown, nil
}

// reapplyOrAdopt is the entry that relinquishes c again: its open entry of
// the same kind, adopted by the run (marked re-applied in memory only, so
// that no guard stops it and it is not appended to the ledger twice; the
// journal keeps its own rule), or a new one, superseding any other open
// entry.
func reapplyOrAdopt(ctx context.Context, tx retention.Tx, c *retention.Customer, rec retention.LedgerRecord, conns []connInfo, runID string, now time.Time) (retention.JournalEntry, []retention.JournalAction, bool, error) {
	open, err := tx.OpenEntryOf(ctx, c.ID)
	if err != nil {
		return retention.JournalEntry{}, nil, false, err
	}
	if open != nil && open.Kind == rec.Kind {
		if err := tx.AdoptEntry(ctx, open.ID, runID, now); err != nil {
			return retention.JournalEntry{}, nil, false, err
		}
		acts, err := tx.EntryActions(ctx, []string{open.ID})
		if err != nil {
			return retention.JournalEntry{}, nil, false, err
		}
		en := *open
		en.RunID, en.NextAttemptAt, en.Rule = runID, now, retention.ReappliedRule+"finishing: "+en.Rule
		return en, acts[open.ID], true, nil
	}
	if open != nil {
		open.Status, open.ClosedAt, open.LastError = retention.EntryCancelled, &now, "superseded by the re-application of the erasure ledger after a restore"
		if err := tx.SaveEntries(ctx, []retention.JournalEntry{*open}); err != nil {
			return retention.JournalEntry{}, nil, false, err
		}
	}
	en, acts := reapplyEntry(c, rec, conns, runID, now)
	return en, acts, false, nil
}

// reapplyEntry is the journal entry and connector actions that relinquish
// c again as rec says.
func reapplyEntry(c *retention.Customer, rec retention.LedgerRecord, conns []connInfo, runID string, now time.Time) (retention.JournalEntry, []retention.JournalAction) {
	cats := rec.Categories
	if rec.Kind == retention.ActionErase {
		cats = entryCategories(retention.ActionErase, c, retention.DataPolicy{}, conns)
	}
	rule := fmt.Sprintf("%s%s of %s by %s (run %s)", retention.ReappliedRule, rec.Kind, rec.At.UTC().Format(time.RFC3339), rec.By, rec.Run)
	en := retention.JournalEntry{ID: retention.NewID("jrn_"), RunID: runID, CustomerID: c.ID, Kind: rec.Kind, Categories: cats, PolicyName: c.PolicyName,
		Rule: rule, DueAt: rec.At, PlannedAt: now, Status: retention.EntryOpen, NextAttemptAt: now}
	var acts []retention.JournalAction
	for _, ci := range conns {
		for _, op := range connectorOps(rec.Kind, cats, ci.Info) {
			aid := en.ID + "/" + ci.Info.Name + "/" + retention.DescribeOperation(op.op, op.cats)
			acts = append(acts, retention.JournalAction{ID: aid, EntryID: en.ID, RunID: runID, CustomerID: c.ID,
				Connector: ci.Info.Name, Operation: op.op, Categories: op.cats, Status: retention.ActionPending})
		}
	}
	return en, acts
}
