package relinquish

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// dispatchBatch executes one batch of open entries: re-check that each
// customer is still due, send the pending actions to every connector in
// parallel, record the results, then close the confirmed entries together
// with the change of the core record. actions are the entries' journalled
// actions when the caller has them (it has just written them), nil to read
// them from the journal.
func (e *Engine) dispatchBatch(ctx context.Context, r *runState, entries []retention.JournalEntry, actions map[string][]retention.JournalAction) error {
	ids := make([]string, len(entries))
	entryIDs := make([]string, len(entries))
	for i, en := range entries {
		ids[i], entryIDs[i] = en.CustomerID, en.ID
	}
	customers, err := e.store.CustomersByID(ctx, ids)
	if err != nil {
		return err
	}
	if actions == nil {
		if actions, err = e.store.EntryActions(ctx, entryIDs); err != nil {
			return err
		}
	}
	policies, dp, err := e.settings(ctx, e.store)
	if err != nil {
		return err
	}
	now := e.nowUTC()

	// Guard: a customer that is no longer due (a new appointment, a hold,
	// a policy change since planning) is not touched at all.
	var live []retention.JournalEntry
	var cancelled []retention.JournalEntry
	for _, en := range entries {
		c := customers[en.CustomerID]
		if reason := notDueReason(c, en, policies, dp, now); reason != "" {
			en.Status, en.LastError, en.ClosedAt = retention.EntryCancelled, reason, &now
			en.CloseSubject()
			cancelled = append(cancelled, en)
			continue
		}
		live = append(live, en)
	}
	if err := e.cancelEntries(ctx, r, cancelled); err != nil {
		return err
	}

	// Nothing is sent by a run that cannot prove it still holds the lease
	// (frozen past its term, then resumed): connectors would only repeat
	// what the lease's new holder sends.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.proveLease(ctx, r); err != nil {
		return err
	}

	// Dispatch the pending actions, one call per connector operation, and
	// record what every connector did in one transaction; then the residue
	// checks of the entries whose deletes were all confirmed. The checks
	// only read, so their results are recorded with the entries they close
	// (finalize): a crash before that sends them again, which is harmless.
	sent := e.dispatchActions(ctx, live, actions, customers, func(a retention.JournalAction) bool { return a.Operation != retention.OpVerify })
	if len(sent) > 0 {
		if err := e.fenced(ctx, r, func(tx retention.Tx) error { return tx.SaveActions(ctx, sent) }); err != nil {
			return err
		}
	}
	checked := e.dispatchActions(ctx, live, actions, customers, func(a retention.JournalAction) bool {
		return a.Operation == retention.OpVerify && othersConfirmed(actions[a.EntryID])
	})
	checked = append(checked, residueFailsDelete(actions)...)

	if e.beforeFinalize != nil {
		e.beforeFinalize()
	}
	return e.finalize(ctx, r, live, actions, checked)
}

// dispatchActions sends the pending actions of the entries that pick
// selects, one call per connector operation, the calls in parallel, merges
// the results into actions and returns them, for the caller to record.
func (e *Engine) dispatchActions(ctx context.Context, live []retention.JournalEntry, actions map[string][]retention.JournalAction,
	customers map[string]*retention.Customer, pick func(retention.JournalAction) bool) []retention.JournalAction {
	type group struct {
		connector, op string
		cats          []string
		actions       []retention.JournalAction
	}
	groups := map[string]*group{}
	var order []string
	subjects := make(map[string]retention.Subject, len(live))
	for _, en := range live {
		subjects[en.CustomerID] = en.SubjectFor(customers[en.CustomerID])
		for _, a := range actions[en.ID] {
			if a.Status == retention.ActionConfirmed || !pick(a) {
				continue // confirmed before a restart: never sent twice
			}
			key := a.Connector + "\x00" + a.Operation + "\x00" + strings.Join(a.Categories, ",")
			g := groups[key]
			if g == nil {
				g = &group{connector: a.Connector, op: a.Operation, cats: a.Categories}
				groups[key] = g
				order = append(order, key)
			}
			g.actions = append(g.actions, a)
		}
	}
	sort.Strings(order)
	var wg sync.WaitGroup
	outcomes := make([][]retention.JournalAction, len(order))
	for i, key := range order {
		g := groups[key]
		wg.Go(func() {
			results := e.send(ctx, g.connector, g.op, g.actions, subjects)
			confirmed := 0
			for _, res := range results {
				if res.Status == retention.ActionConfirmed {
					confirmed++
				}
			}
			e.metrics.SweepActions(g.connector, g.op, retention.ActionConfirmed, confirmed)
			e.metrics.SweepActions(g.connector, g.op, retention.ActionFailed, len(results)-confirmed)
			outcomes[i] = results
		})
	}
	wg.Wait()
	// Merged here, after every call returned: the calls ran concurrently
	// and an entry's actions span several connectors.
	var all []retention.JournalAction
	for _, results := range outcomes {
		for _, res := range results {
			for j := range actions[res.EntryID] {
				if actions[res.EntryID][j].ID == res.ID {
					actions[res.EntryID][j] = res
				}
			}
		}
		all = append(all, results...)
	}
	return all
}

// othersConfirmed reports whether every action of an entry but the residue
// checks was confirmed.
func othersConfirmed(actions []retention.JournalAction) bool {
	for _, a := range actions {
		if a.Operation != retention.OpVerify && a.Status != retention.ActionConfirmed {
			return false
		}
	}
	return true
}

// residueFailsDelete turns a connector's confirmed delete back into a
// failure when its residue check found data, and returns the deletes it
// changed: the next attempt sends the delete again (same action id), then
// checks again.
func residueFailsDelete(actions map[string][]retention.JournalAction) []retention.JournalAction {
	var changed []retention.JournalAction
	for entryID, acts := range actions {
		for _, v := range acts {
			if v.Operation != retention.OpVerify || v.Status != retention.ActionFailed || !strings.HasPrefix(v.Reason, residuePrefix) {
				continue
			}
			for j, a := range acts {
				if a.Operation == retention.OpDelete && a.Connector == v.Connector && a.Status == retention.ActionConfirmed {
					a.Status, a.Outcome, a.Reason = retention.ActionFailed, retention.OutcomeFailed, v.Reason
					actions[entryID][j] = a
					changed = append(changed, a)
				}
			}
		}
	}
	return changed
}

// residuePrefix starts the reason of a failed residue check.
const residuePrefix = "residue: "

// notDueReason says why an entry must not be executed now, or "".
func notDueReason(c *retention.Customer, en retention.JournalEntry, policies retention.PolicySet, dp retention.DataPolicy, now time.Time) string {
	switch {
	case c == nil:
		return "customer no longer exists"
	case en.Reapplied():
		return "" // the erasure happened before the restore: no rule, hold or appointment undoes it
	case c.ErasedAt != nil:
		return "customer was already erased"
	case c.Held(now):
		return "customer is under a legal hold"
	case en.Kind == retention.ActionPurge:
		// Lethe's copy went with the preference change; the connectors'
		// copies go whatever the policies say.
		return ""
	case en.RequestedBy != "":
		// A manual erasure needs no rule; it is refused exactly as when
		// it was asked for: while an appointment lies ahead.
		if c.Timeline.LatestKind == retention.EventAppointment && c.Timeline.LatestEnd.After(now) {
			return "an appointment lies ahead: a manual erasure waits for none"
		}
		return ""
	}
	_, kind, ok := dueKind(c, policies, dp, now)
	if !ok {
		return "no longer due under the policies in force (an event, hold or policy change since planning)"
	}
	if kind != en.Kind {
		return fmt.Sprintf("now due for %s instead of %s; planned again by the next sweep", kind, en.Kind)
	}
	return ""
}

// send calls one connector operation for a batch of actions and returns the
// actions with their outcome recorded. A connector that cannot be reached
// fails every action of the call. subjects are what each customer is sent
// as (JournalEntry.SubjectFor).
func (e *Engine) send(ctx context.Context, connector, op string, actions []retention.JournalAction, subjects map[string]retention.Subject) []retention.JournalAction {
	calls := make([]retention.Action, len(actions))
	for i, a := range actions {
		calls[i] = retention.Action{ID: a.ID, Subject: subjects[a.CustomerID], Categories: a.Categories}
	}
	var results []retention.ActionResult
	conn, err := e.connectors.Connector(ctx, connector)
	if err == nil {
		switch op {
		case retention.OpDelete:
			results, err = conn.Delete(ctx, calls)
		case retention.OpVerify:
			results, err = verify(ctx, conn, calls)
		case retention.OpAnonymiseFields:
			fa := make([]retention.FieldAction, len(calls))
			for i, a := range actions {
				fa[i] = retention.FieldAction{ID: a.ID, Subject: calls[i].Subject, Fields: a.Categories}
			}
			results, err = conn.AnonymiseFields(ctx, fa)
		default:
			results, err = conn.Anonymise(ctx, calls)
		}
	}
	byID := make(map[string]retention.ActionResult, len(results))
	for _, res := range results {
		byID[res.ActionID] = res
	}
	out := make([]retention.JournalAction, len(actions))
	for i, a := range actions {
		a.Attempts++
		res, ok := byID[a.ID]
		switch {
		case err != nil:
			a.Status, a.Outcome, a.Reason = retention.ActionFailed, retention.OutcomeFailed, retention.ErrorMessage(err)
		case !ok:
			a.Status, a.Outcome, a.Reason = retention.ActionFailed, retention.OutcomeFailed, "the connector returned no result for this action"
		case res.Outcome.Confirmed():
			a.Status, a.Outcome, a.Records, a.Reason = retention.ActionConfirmed, res.Outcome, res.Records, ""
		default:
			a.Status, a.Outcome, a.Reason = retention.ActionFailed, retention.OutcomeFailed, res.Reason
		}
		out[i] = a
	}
	if err != nil {
		e.log.Warn("connector call failed", "connector", connector, "operation", op, "actions", len(actions), "err", err)
	}
	return out
}

// verify asks a connector to export the subjects of erase actions again:
// a subject it returns data for is residue, a failure; one it returns
// nothing for was found clean (NOT_FOUND).
func verify(ctx context.Context, conn retention.Connector, calls []retention.Action) ([]retention.ActionResult, error) {
	subjects := make([]retention.Subject, len(calls))
	for i, a := range calls {
		subjects[i] = a.Subject
	}
	exports, err := conn.Export(ctx, subjects)
	if err != nil {
		return nil, err
	}
	held := map[string]int{}
	for _, ex := range exports {
		if d := strings.TrimSpace(string(ex.Data)); d != "" && d != "null" && d != "{}" && d != "[]" {
			held[ex.CustomerID] += len(ex.Data)
		}
	}
	out := make([]retention.ActionResult, len(calls))
	for i, a := range calls {
		out[i] = retention.ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: retention.OutcomeNotFound}
		if n := held[a.Subject.CustomerID]; n > 0 {
			out[i].Outcome = retention.OutcomeFailed
			out[i].Reason = fmt.Sprintf("%sthe connector still exports %d bytes for the subject after deleting it", residuePrefix, n)
		}
	}
	return out, nil
}

// finalize closes the entries of a batch: those every connector confirmed
// change the core record in the same transaction that closes them; the
// others are scheduled for another attempt, or given up on and reported.
// checked are action results not recorded yet (the residue checks), written
// in the same transaction.
func (e *Engine) finalize(ctx context.Context, r *runState, entries []retention.JournalEntry, actions map[string][]retention.JournalAction, checked []retention.JournalAction) error {
	var cl *closing
	// Fenced: the lease epoch is proven in the transaction that changes the
	// core records and closes the entries, so a process that lost the lease
	// while its connectors were working changes nothing.
	err := e.fenced(ctx, r, func(tx retention.Tx) error {
		ids := make([]string, len(entries))
		for i, en := range entries {
			ids[i] = en.CustomerID
		}
		customers, err := tx.CustomersByID(ctx, ids)
		if err != nil {
			return err
		}
		// A fresh accumulator each attempt: the transaction may be run again.
		cl = &closing{now: e.nowUTC(), closed: make([]retention.JournalEntry, 0, len(entries))}
		for _, en := range entries {
			e.closeEntry(r, cl, en, customers[en.CustomerID], actions[en.ID])
		}
		return e.writeClosing(ctx, tx, r, cl, checked)
	})
	if err != nil {
		return err
	}
	for _, en := range cl.closed {
		outcome := map[retention.EntryStatus]string{retention.EntryDone: "done", retention.EntryCancelled: "skipped"}[en.Status]
		if outcome == "" {
			outcome = "failed"
		}
		e.metrics.SweepCustomers(en.Kind, outcome, 1)
	}
	r.add(func(run *retention.Run) {
		run.CustomersDone += cl.done
		run.CustomersFailed += cl.failed
		run.CustomersSkipped += cl.skipped
	})
	return e.checkpoint(ctx, r)
}

// closing gathers what one finalize transaction writes.
type closing struct {
	now                   time.Time
	erased, relinquished  []*retention.Customer
	clearContact          []string
	audits                []retention.AuditEvent
	closed                []retention.JournalEntry
	done, failed, skipped int
}

// closeEntry decides how one journal entry ends, given its actions and the
// customer as the transaction reads it, and records that in cl.
func (e *Engine) closeEntry(r *runState, cl *closing, en retention.JournalEntry, c *retention.Customer, actions []retention.JournalAction) {
	now := cl.now
	var failures []string
	for _, a := range actions {
		if a.Status != retention.ActionConfirmed {
			failures = append(failures, fmt.Sprintf("%s: %s", a.Connector, a.Reason))
		}
	}
	switch {
	case len(failures) > 0:
		en.Attempts++
		en.LastError = strings.Join(failures, "; ")
		if en.Attempts >= e.MaxAttempts {
			en.Status, en.ClosedAt = retention.EntryFailed, &now
			en.CloseSubject()
		} else {
			en.NextAttemptAt = now.Add(e.Backoff(en.Attempts))
		}
		cl.failed++
	case c == nil || ((c.ErasedAt != nil || c.Held(now)) && !en.Reapplied()):
		// Every connector has acted, but the customer was erased
		// meanwhile or a hold arrived: a hold always wins over what
		// remains to be done, so the core record stays as it is.
		en.Status, en.ClosedAt, en.LastError = retention.EntryCancelled, &now, "core record left as it is: erased or held since the connectors acted"
		en.CloseSubject()
		cl.skipped++
	default:
		switch en.Kind {
		case retention.ActionPurge:
			// Nothing left to change in Lethe: the values went
			// with the preference change.
		case retention.ActionErase:
			if c.ErasedAt == nil { // a residue re-erasure leaves the tombstone as it is
				retention.Erase(c, now, en.Categories)
				cl.erased = append(cl.erased, c)
			}
		default:
			retention.Relinquish(c, now, en.Categories)
			if retention.AnonymisesContact(en.Categories) {
				cl.clearContact = append(cl.clearContact, c.ID)
			}
			cl.relinquished = append(cl.relinquished, c)
		}
		cl.audits = append(cl.audits, e.auditEntry(r, en, actions, now))
		en.Status, en.ClosedAt, en.Attempts, en.LastError = retention.EntryDone, &now, en.Attempts+1, ""
		en.CloseSubject()
		cl.done++
	}
	cl.closed = append(cl.closed, en)
}

// writeClosing writes what closeEntry decided, in the finalize transaction.
func (e *Engine) writeClosing(ctx context.Context, tx retention.Tx, r *runState, cl *closing, checked []retention.JournalAction) error {
	// The ledger has the records (on disk) before this transaction can
	// commit them: whatever the database says is erased, the ledger knows.
	if err := e.appendToLedger(ctx, tx, r, cl.closed); err != nil {
		return err
	}
	// The core records change, the journal entries close and the audit
	// log records it, all in this one transaction.
	if err := tx.EraseCustomers(ctx, cl.erased); err != nil {
		return err
	}
	if err := tx.RecordRelinquished(ctx, cl.relinquished, cl.clearContact); err != nil {
		return err
	}
	if err := tx.AppendAudits(ctx, cl.audits); err != nil {
		return err
	}
	if err := tx.SaveActions(ctx, checked); err != nil {
		return err
	}
	if r.claim != nil {
		if err := countBatch(ctx, tx, r, cl.done, cl.failed, cl.skipped); err != nil {
			return err
		}
		if err := tx.FinishBatch(ctx, *r.claim); err != nil {
			return err
		}
	}
	return tx.SaveEntries(ctx, cl.closed)
}

// auditEntry records what the engine did to one customer, as evidence
// without personal data: the rule and policy version, and each connector's
// outcome and record count.
func (e *Engine) auditEntry(r *runState, en retention.JournalEntry, actions []retention.JournalAction, now time.Time) retention.AuditEvent {
	action := retention.AuditCustomerErase
	switch en.Kind {
	case retention.ActionAnonymise:
		action = retention.AuditCustomerAnonymise
	case retention.ActionPurge:
		action = retention.AuditCustomerPurge
	}
	outcomes := make([]map[string]any, 0, len(actions))
	for _, a := range actions {
		outcomes = append(outcomes, map[string]any{"connector": a.Connector, "operation": retention.DescribeOperation(a.Operation, a.Categories),
			"outcome": string(a.Outcome), "records": a.Records})
	}
	actor := r.run.Actor
	if en.RequestedBy != "" {
		actor = en.RequestedBy
	}
	if actor == "" {
		actor = retention.ActorScheduler
	}
	return retention.AuditEvent{ID: retention.NewID("aud_"), At: now, Actor: actor, Action: action, Subject: en.CustomerID,
		Details: map[string]any{"run": en.RunID, "journalEntry": en.ID, "policy": en.PolicyName, "policyVersion": en.PolicyVersion,
			"rule": en.Rule, "dueAt": en.DueAt.Format(time.RFC3339), "categories": en.Categories, "connectors": outcomes, "trigger": retention.EntryTrigger(en)}}
}

// cancelEntries closes the entries found no longer due, before anything is
// sent for them.
func (e *Engine) cancelEntries(ctx context.Context, r *runState, cancelled []retention.JournalEntry) error {
	if len(cancelled) == 0 {
		return nil
	}
	if err := e.fenced(ctx, r, func(tx retention.Tx) error {
		if err := countBatch(ctx, tx, r, 0, 0, len(cancelled)); err != nil {
			return err
		}
		return tx.SaveEntries(ctx, cancelled)
	}); err != nil {
		return err
	}
	r.add(func(run *retention.Run) { run.CustomersSkipped += len(cancelled) })
	for _, en := range cancelled {
		e.metrics.SweepCustomers(en.Kind, "skipped", 1)
	}
	return nil
}
