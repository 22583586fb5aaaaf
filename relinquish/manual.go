package relinquish

import (
	"context"
	"errors"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// ManualLeaseWait is how long a manual erasure waits for a running sweep
// to finish before it is refused with CONFLICT.
const ManualLeaseWait = 20 * time.Second

// EraseCustomer erases one customer now, at an operator's request, through
// the journal exactly like a sweep: the entry and one action per connector
// are written before anything is sent, every connector's outcome and residue
// check is recorded, and the core record becomes a tombstone only when all
// confirmed. A failure leaves the entry open: the next sweep finishes it.
// Erasing an erased customer again is success.
// Errors: NOT_FOUND, FUTURE_APPOINTMENT, LEGAL_HOLD, CONFLICT (a sweep is
// running), CONNECTOR_UNAVAILABLE (journaled; finished by the next sweep).
func (e *Engine) EraseCustomer(ctx context.Context, id, actor string) error {
	if err := e.checkManual(ctx, id); err != nil {
		if errors.Is(err, errAlreadyErased) {
			return nil
		}
		return err
	}
	run, lease, err := e.beginManual(ctx, actor)
	if err != nil {
		return err
	}
	// The plan and the dispatch run under the lease like a sweep's: every
	// write is fenced by its epoch, and losing the lease stops the erasure.
	r := &runState{run: run, e: e, lease: lease}
	var entry retention.JournalEntry
	var workErr error
	final, err := e.executeWith(ctx, r, func(ctx context.Context) error {
		entry, workErr = e.planManual(ctx, r, id, actor)
		if workErr == nil {
			workErr = e.dispatchBatch(ctx, r, []retention.JournalEntry{entry}, nil)
		}
		return workErr
	})
	switch {
	case errors.Is(err, retention.ErrLeaseLost):
		return retention.ErrLeaseLost
	case workErr != nil:
		return workErr
	case err != nil && final.CustomersFailed == 0:
		return err
	}
	return e.manualOutcome(ctx, id, entry)
}

var errAlreadyErased = errors.New("already erased")

// checkManual refuses what a manual erasure must not touch, before a run
// begins.
func (e *Engine) checkManual(ctx context.Context, id string) error {
	c, err := e.store.Customer(ctx, id)
	if err != nil {
		return err
	}
	if c.ErasedAt != nil {
		return errAlreadyErased
	}
	appts, err := e.store.Appointments(ctx, []string{id})
	if err != nil {
		return err
	}
	return retention.CheckErasable(c, appts[id], e.nowUTC())
}

// beginManual takes the sweep lease for a run of one customer, waiting a
// little for a sweep to finish: one process relinquishes at a time.
func (e *Engine) beginManual(ctx context.Context, actor string) (retention.Run, retention.Lease, error) {
	deadline := time.Now().Add(ManualLeaseWait)
	for {
		run, lease, err := e.begin(ctx, retention.RunOptions{Trigger: "manual", Actor: actor})
		if !errors.Is(err, retention.ErrSweepRunning) || time.Now().After(deadline) {
			if errors.Is(err, retention.ErrSweepRunning) {
				return retention.Run{}, retention.Lease{}, retention.Errorf(retention.CodeConflict, "a retention sweep is running; the customer was not erased, try again when it has finished")
			}
			return run, lease, err
		}
		select {
		case <-ctx.Done():
			return retention.Run{}, retention.Lease{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// planManual journals the erasure: an open erase entry (a manual delete
// that failed, or a sweep's) is resumed; an open anonymisation is
// superseded by the erasure, which removes everything it would.
func (e *Engine) planManual(ctx context.Context, r *runState, id, actor string) (retention.JournalEntry, error) {
	conns := e.connectorInfos(ctx)
	var entry retention.JournalEntry
	var actions int
	err := e.fenced(ctx, r, func(tx retention.Tx) error {
		c, err := tx.Customer(ctx, id)
		if err != nil {
			return err
		}
		now := e.nowUTC()
		appts, err := tx.Appointments(ctx, []string{id})
		if err != nil {
			return err
		}
		if err := retention.CheckErasable(c, appts[id], now); err != nil {
			return err
		}
		open, err := tx.OpenEntryOf(ctx, id)
		if err != nil {
			return err
		}
		if open != nil && open.Kind == retention.ActionErase {
			entry = *open
			entry.RunID, entry.NextAttemptAt = r.run.ID, now
			acts, err := tx.EntryActions(ctx, []string{open.ID})
			if err != nil {
				return err
			}
			actions = len(acts[open.ID])
			return tx.AdoptEntry(ctx, open.ID, r.run.ID, now)
		}
		var recorded *retention.Subject
		if open != nil {
			// The erasure inherits the identifiers the superseded entry kept
			// (a purge's): connectors still match by them.
			recorded = open.Subject
			open.Status, open.ClosedAt, open.LastError = retention.EntryCancelled, &now, "superseded by a manual erasure by "+actorOrScheduler(actor)
			open.CloseSubject()
			if err := tx.SaveEntries(ctx, []retention.JournalEntry{*open}); err != nil {
				return err
			}
		}
		policies, err := tx.Policies(ctx)
		if err != nil {
			return err
		}
		p := retention.EffectivePolicy(c, retention.NewPolicySet(policies))
		entry = retention.JournalEntry{ID: retention.NewID("jrn_"), RunID: r.run.ID, CustomerID: id, Kind: retention.ActionErase, Categories: entryCategories(retention.ActionErase, c, retention.DataPolicy{}, conns),
			RequestedBy: actorOrScheduler(actor), PolicyName: p.Name, PolicyVersion: p.Version, Rule: "manual erasure by " + actorOrScheduler(actor),
			DueAt: now, PlannedAt: now, Status: retention.EntryOpen, NextAttemptAt: now, Subject: recorded}
		var acts []retention.JournalAction
		for _, ci := range conns {
			for _, op := range connectorOps(retention.ActionErase, entry.Categories, ci.Info) {
				aid := entry.ID + "/" + ci.Info.Name + "/" + retention.DescribeOperation(op.op, op.cats)
				acts = append(acts, retention.JournalAction{ID: aid, EntryID: entry.ID, RunID: r.run.ID, CustomerID: id,
					Connector: ci.Info.Name, Operation: op.op, Categories: op.cats, Status: retention.ActionPending})
			}
		}
		actions = len(acts)
		return tx.InsertEntries(ctx, []retention.JournalEntry{entry}, acts)
	})
	if err != nil {
		return retention.JournalEntry{}, err
	}
	r.add(func(run *retention.Run) { run.CustomersPlanned++; run.ActionsPlanned += actions })
	return entry, nil
}

// manualOutcome turns the journal's state after dispatch into the answer.
func (e *Engine) manualOutcome(ctx context.Context, id string, entry retention.JournalEntry) error {
	c, err := e.store.Customer(ctx, id)
	if err != nil {
		return err
	}
	if c.ErasedAt != nil {
		return nil
	}
	open, err := e.store.OpenEntryOf(ctx, id)
	if err != nil {
		return err
	}
	if open != nil {
		return retention.Errorf(retention.CodeConnectorUnavailable, "customer %s is not erased yet: %s; the erasure is journaled and the next sweep finishes it (or repeat the delete)",
			id, open.LastError)
	}
	// Cancelled at dispatch: a hold or an appointment arrived meanwhile.
	if err := e.checkManual(ctx, id); err != nil {
		return err
	}
	return retention.Errorf(retention.CodeConflict, "customer %s was not erased: the journal entry %s was cancelled; repeat the delete", id, entry.ID)
}

func actorOrScheduler(actor string) string {
	if actor == "" {
		return retention.ActorScheduler
	}
	return actor
}
