package retention

import (
	"context"
	"strings"
	"time"
)

// Receipt is the evidence of what was relinquished of one customer: when,
// by which rule or whom, each connector's outcome and residue check, and
// the categories. It holds no personal data, so the tombstone keeps it
// answerable after the erasure.
type Receipt struct {
	CustomerID   string
	ErasedAt     *time.Time
	AnonymisedAt *time.Time
	Categories   []ReceiptCategory
	Entries      []ReceiptEntry
}

// ReceiptCategory is a data category and when it was first relinquished.
type ReceiptCategory struct {
	Category string
	At       time.Time
}

// ReceiptEntry is one completed erasure or anonymisation.
type ReceiptEntry struct {
	Kind ActionKind
	At   time.Time
	// Trigger is "rule" or "manual"; By names the rule, or who asked.
	Trigger       string
	By            string
	Policy        string
	PolicyVersion int
	Categories    []string
	Connectors    []ReceiptConnector
}

// ReceiptConnector is what one connector did, and what its residue check
// found: "clean", "residue" (then retried until clean), or "not checked"
// (anonymisations, and erasures journaled before residue checks existed).
type ReceiptConnector struct {
	Connector string
	Operation string
	Outcome   Outcome
	Records   int
	Residue   string
}

// ErasureReceipt answers for an erased or anonymised customer.
// Errors: NOT_FOUND (unknown, or never relinquished).
func (s *Service) ErasureReceipt(ctx context.Context, id string) (*Receipt, error) {
	c, err := s.store.Customer(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.ErasedAt == nil && c.AnonymisedAt == nil && len(c.Relinquished) == 0 {
		return nil, Errorf(CodeNotFound, "customer %s was never relinquished (neither erased nor anonymised): there is no erasure receipt yet", id)
	}
	rec := &Receipt{CustomerID: c.ID, ErasedAt: c.ErasedAt, AnonymisedAt: c.AnonymisedAt, Categories: []ReceiptCategory{}, Entries: []ReceiptEntry{}}
	for _, cat := range c.Relinquished.Categories() {
		rec.Categories = append(rec.Categories, ReceiptCategory{Category: cat, At: c.Relinquished[cat]})
	}
	entries, err := s.store.DoneEntriesOf(ctx, id)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(entries))
	for i, en := range entries {
		ids[i] = en.ID
	}
	actions, err := s.store.EntryActions(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, en := range entries {
		re := ReceiptEntry{Kind: en.Kind, Trigger: EntryTrigger(en), By: en.Rule, Policy: en.PolicyName, PolicyVersion: en.PolicyVersion,
			Categories: append([]string{}, en.Categories...), Connectors: []ReceiptConnector{}}
		if en.ClosedAt != nil {
			re.At = *en.ClosedAt
		}
		if en.RequestedBy != "" {
			re.By = en.RequestedBy
		}
		residue := map[string]string{}
		for _, a := range actions[en.ID] {
			if a.Operation != OpVerify {
				continue
			}
			residue[a.Connector] = "residue"
			if a.Status == ActionConfirmed {
				residue[a.Connector] = "clean"
			}
		}
		for _, a := range actions[en.ID] {
			if a.Operation == OpVerify {
				continue
			}
			check := residue[a.Connector]
			if check == "" {
				check = "not checked"
			}
			re.Connectors = append(re.Connectors, ReceiptConnector{Connector: a.Connector, Operation: DescribeOperation(a.Operation, a.Categories),
				Outcome: a.Outcome, Records: a.Records, Residue: check})
		}
		rec.Entries = append(rec.Entries, re)
	}
	return rec, nil
}

// entryTrigger says what started an entry: "manual" for an erasure asked
// for by hand, "rule" for a due deletion time, "restore" for a ledger
// record re-applied after a restore.
func EntryTrigger(en JournalEntry) string {
	if strings.HasPrefix(en.Rule, ResidueRule) {
		return "residue"
	}
	if en.Reapplied() {
		return "restore"
	}
	if en.RequestedBy != "" {
		return "manual"
	}
	return "rule"
}
