package relinquish

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/lethe-privacy/lethe/retention"
)

// AuditResidue asks every connector to export the erased customers ids
// (by id: a tombstone has no other identifier) and erases again, through
// the journal, every one a connector still holds: its data was restored
// from a backup taken before the erasure. Customers that are not erased in
// Lethe are left alone (the caller passes ledger erasures).
// Errors: CONNECTOR_UNAVAILABLE naming the connector.
func (e *Engine) AuditResidue(ctx context.Context, ids []string) (retention.Residue, error) {
	out := retention.Residue{Found: map[string][]string{}}
	customers, err := e.store.CustomersByID(ctx, ids)
	if err != nil {
		return out, err
	}
	subjects := make([]retention.Subject, 0, len(ids))
	for _, id := range ids {
		if c := customers[id]; c != nil && c.ErasedAt != nil {
			subjects = append(subjects, c.Subject())
		}
	}
	out.Checked = len(subjects)
	if len(subjects) == 0 {
		return out, nil
	}
	held := map[string][]string{} // customer → connectors
	for _, ci := range e.connectorInfos(ctx) {
		conn, err := e.connectors.Connector(ctx, ci.Info.Name)
		if err != nil {
			return out, err
		}
		exports, err := conn.Export(ctx, subjects)
		if err != nil {
			return out, retention.Errorf(retention.CodeConnectorUnavailable, "residue audit: connector %s could not export: %v", ci.Info.Name, retention.ErrorMessage(err))
		}
		for _, ex := range exports {
			if d := strings.TrimSpace(string(ex.Data)); d != "" && d != "null" && d != "{}" && d != "[]" {
				out.Found[ci.Info.Name] = append(out.Found[ci.Info.Name], ex.CustomerID)
				held[ex.CustomerID] = append(held[ex.CustomerID], ci.Info.Name)
			}
		}
	}
	if len(held) == 0 {
		return out, nil
	}
	out.Run, err = e.reerase(ctx, held)
	return out, err
}

// reerase erases the held customers again in every connector, through the
// journal (the tombstones stay as they are), and audits what was found.
func (e *Engine) reerase(ctx context.Context, held map[string][]string) (retention.Run, error) {
	ids := make([]string, 0, len(held))
	for id := range held {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	run, lease, err := e.beginWaiting(ctx, retention.RunOptions{Trigger: "residue", Actor: "residue audit"})
	if err != nil {
		return retention.Run{}, err
	}
	r := &runState{run: run, e: e, lease: lease}
	conns := e.connectorInfos(ctx)
	final, err := e.executeWith(ctx, r, func(ctx context.Context) error {
		var entries []retention.JournalEntry
		actions := map[string][]retention.JournalAction{}
		err := e.fenced(ctx, r, func(tx retention.Tx) error {
			customers, err := tx.CustomersByID(ctx, ids)
			if err != nil {
				return err
			}
			now := e.nowUTC()
			entries, actions = nil, map[string][]retention.JournalAction{}
			var all []retention.JournalAction
			var audits []retention.AuditEvent
			for _, id := range ids {
				c := customers[id]
				rec := retention.LedgerRecord{CustomerID: id, Kind: retention.ActionErase, At: *c.ErasedAt}
				en, acts := reapplyEntry(c, rec, conns, r.run.ID, now)
				en.Rule = fmt.Sprintf("%s%s held data again on a customer erased at %s", retention.ResidueRule, strings.Join(held[id], ", "), retention.FormatTime(*c.ErasedAt))
				entries = append(entries, en)
				actions[en.ID] = acts
				all = append(all, acts...)
				audits = append(audits, retention.AuditEvent{ID: retention.NewID("aud_"), At: now, Actor: "residue audit", Action: retention.AuditCustomerResurrected, Subject: id,
					Details: map[string]any{"connectors": held[id], "run": r.run.ID, "erasedAt": retention.FormatTime(*c.ErasedAt)}})
			}
			if err := tx.AppendAudits(ctx, audits); err != nil {
				return err
			}
			return tx.InsertEntries(ctx, entries, all)
		})
		if err != nil {
			return err
		}
		r.add(func(run *retention.Run) { run.CustomersPlanned += len(entries) })
		return e.dispatchBatch(ctx, r, entries, actions)
	})
	return final, err
}
