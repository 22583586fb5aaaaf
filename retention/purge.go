package retention

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ActionPurge is the journal kind of a HIDDEN purge: Lethe's copy of the
// fields went with the preference change; the entry asks connectors holding
// contact data to drop them too.
const ActionPurge ActionKind = "purge"

// OpAnonymiseFields drops named fields of a subject at a connector; the
// action's Categories hold the connector field names.
const OpAnonymiseFields = "anonymise_fields"

// AuditCustomerPurge records a HIDDEN purge completed for one customer.
const AuditCustomerPurge = "customer.purgeFields"

// connectorFieldName is how the connector contract names a field.
func connectorFieldName(f Field) string {
	switch f {
	case FieldFirstName:
		return "first_name"
	case FieldLastName:
		return "last_name"
	case FieldEmail:
		return "email"
	case FieldPhone:
		return "phone"
	}
	return strings.ToLower(string(f))
}

// PurgeCount is how many stored values making a field HIDDEN purges: on
// customers (not erased, not under a legal hold) and on open visits of
// walk-in visitors.
type PurgeCount struct {
	Field  Field
	Mode   FieldMode
	Values int
}

// hiddenFields lists, sorted, the fields a change sets to HIDDEN. A field
// already HIDDEN counts too: values stored before it became HIDDEN go.
func hiddenFields(modes map[Field]FieldMode) []Field {
	var out []Field
	for f, m := range modes {
		if m == ModeHidden {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func validateModes(modes map[Field]FieldMode) error {
	for f, m := range modes {
		if !hasField(f) {
			return FieldErrorf("fields", "unknown field %q: use one of FIRST_NAME, LAST_NAME, EMAIL, PHONE", Truncate(string(f), 40))
		}
		if !m.Valid() {
			return FieldErrorf("fields", "unknown mode %q for %s", m, f)
		}
	}
	return nil
}

func hasField(f Field) bool {
	for _, x := range AllFields {
		if x == f {
			return true
		}
	}
	return false
}

// FieldPreferencesPreview says, for each field the change makes HIDDEN, how
// many stored values saving it would purge; fields not made HIDDEN purge
// nothing and are listed with 0. Changes nothing. Errors: BAD_USER_INPUT.
func (s *Service) FieldPreferencesPreview(ctx context.Context, modes map[Field]FieldMode) ([]PurgeCount, error) {
	if err := validateModes(modes); err != nil {
		return nil, err
	}
	counts, err := s.store.CountStoredValues(ctx, hiddenFields(modes), s.Now())
	if err != nil {
		return nil, err
	}
	return purgeCounts(modes, counts), nil
}

func purgeCounts(modes map[Field]FieldMode, counts map[Field]int) []PurgeCount {
	var out []PurgeCount
	for _, f := range AllFields {
		if m, ok := modes[f]; ok {
			out = append(out, PurgeCount{Field: f, Mode: m, Values: counts[f]})
		}
	}
	return out
}

// purge removes the stored values of the HIDDEN fields in Lethe (in tx)
// and journals, for the customers that held one, a purge at every
// connector holding contact data, recording run when it plans any; it
// returns the entries and actions planned. Each entry records the
// customer's identifiers as they were before the purge: a store keyed by
// e-mail alone finds the subject by the very value being purged.
func (s *Service) purge(ctx context.Context, tx Tx, fields []Field, run Run) (int, int, error) {
	held, err := tx.PurgeFields(ctx, fields, s.Now())
	if err != nil || len(held) == 0 {
		return 0, 0, err
	}
	conns := s.contactConnectors(ctx)
	if len(conns) == 0 {
		return 0, 0, nil
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = connectorFieldName(f)
	}
	ids := make([]string, len(held))
	for i, sub := range held {
		ids[i] = sub.CustomerID
	}
	// A customer with an open entry is being erased or anonymised, which
	// drops its contact data everywhere anyway (the index allows one open
	// entry per customer); that entry keeps the identifiers instead.
	busy, err := tx.CustomersWithOpenEntries(ctx, ids)
	if err != nil {
		return 0, 0, err
	}
	if err := recordOnOpenEntries(ctx, tx, held, busy); err != nil {
		return 0, 0, err
	}
	now := s.Now()
	var entries []JournalEntry
	var actions []JournalAction
	for _, sub := range held {
		if busy[sub.CustomerID] {
			continue
		}
		before := sub
		en := JournalEntry{ID: NewID("jrn_"), RunID: run.ID, CustomerID: sub.CustomerID, Kind: ActionPurge, Categories: names,
			RequestedBy: actorName(ctx), PolicyName: "", Rule: "fields made HIDDEN: " + strings.Join(names, ", "),
			DueAt: now, PlannedAt: now, Status: EntryOpen, NextAttemptAt: now, Subject: &before}
		entries = append(entries, en)
		for _, ci := range conns {
			actions = append(actions, JournalAction{ID: en.ID + "/" + ci.Name + "/" + OpAnonymiseFields, EntryID: en.ID, RunID: run.ID,
				CustomerID: sub.CustomerID, Connector: ci.Name, Operation: OpAnonymiseFields, Categories: names, Status: ActionPending})
		}
	}
	if len(entries) == 0 {
		return 0, 0, nil
	}
	// The run first: the entries and actions refer to it.
	run.CustomersPlanned, run.ActionsPlanned = len(entries), len(actions)
	if err := tx.InsertRun(ctx, run); err != nil {
		return 0, 0, err
	}
	return len(entries), len(actions), tx.InsertEntries(ctx, entries, actions)
}

// contactConnectors are the connectors holding contact data, by name.
func (s *Service) contactConnectors(ctx context.Context) []ConnectorInfo {
	var conns []ConnectorInfo
	if s.connectors != nil {
		for _, st := range s.connectors.Connectors(ctx) {
			if HasString(st.Info.Categories, CategoryContact) {
				conns = append(conns, st.Info)
			}
		}
	}
	sort.Slice(conns, func(i, j int) bool { return conns[i].Name < conns[j].Name })
	return conns
}

// recordOnOpenEntries keeps, on the open entry of each busy customer, the
// identifiers the purge just removed from its record, so that the erasure
// or anonymisation under way still sends them.
func recordOnOpenEntries(ctx context.Context, tx Tx, held []Subject, busy map[string]bool) error {
	var open []JournalEntry
	for _, sub := range held {
		if !busy[sub.CustomerID] {
			continue
		}
		en, err := tx.OpenEntryOf(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		if en == nil {
			continue
		}
		before := sub
		if en.Subject != nil {
			before = withFallback(sub, *en.Subject)
		}
		en.Subject = &before
		open = append(open, *en)
	}
	if len(open) == 0 {
		return nil
	}
	return tx.SaveEntries(ctx, open)
}

func confirmationRequired(counts []PurgeCount) error {
	total := 0
	details := map[string]any{}
	var parts []string
	for _, c := range counts {
		if c.Values > 0 {
			total += c.Values
			details[string(c.Field)] = c.Values
			parts = append(parts, fmt.Sprintf("%d %s", c.Values, c.Field))
		}
	}
	return &Error{Code: CodeConfirmationRequired, Field: "confirm", Details: map[string]any{"storedValues": details, "total": total},
		Message: fmt.Sprintf("making these fields HIDDEN purges %d stored values (%s) in Lethe and in connectors holding contact data; "+
			"this cannot be undone: repeat with confirm: true to do it", total, strings.Join(parts, ", "))}
}

// purgeRetryWait is the wait between attempts to start a purge's run while
// another run holds the sweep lease.
var purgeRetryWait = 2 * time.Second

// executePurge starts the run that sends the purge run's entries to the
// connectors. While another run holds the sweep lease it tries again in the
// background, until the entries are sent or adopted by a sweep: a server
// started with --sweep=false may never sweep, and a purge must not wait
// for one.
func (s *Service) executePurge(ctx context.Context, purgeRun string) {
	e, err := s.relinquisher()
	if err != nil {
		s.log.ErrorContext(ctx, "purge journaled but not sent; the next run sends it", "run", purgeRun, "err", err)
		return
	}
	opts := RunOptions{Trigger: "purge", Actor: actorName(ctx), PurgeRun: purgeRun}
	_, err = e.Start(ctx, opts)
	if !errors.Is(err, ErrSweepRunning) {
		if err != nil {
			s.log.WarnContext(ctx, "purge journaled but not sent; the next run sends it", "run", purgeRun, "err", err)
		}
		return
	}
	go func() {
		for {
			time.Sleep(purgeRetryWait)
			left, err := s.store.RunEntries(ctx, purgeRun, s.Now(), "", 1)
			if err != nil || len(left) == 0 {
				return // sent by a sweep that adopted them, or unreadable: the next run resumes them
			}
			if _, err := e.Start(ctx, opts); !errors.Is(err, ErrSweepRunning) {
				return
			}
		}
	}()
}

// ResumeOpenEntries starts, in the background, a run that sends every open
// journal entry again now, backoff waived, and plans nothing new: after
// connectors were reloaded, what their old processes failed goes to the
// new ones at once rather than at the next sweep (which a server started
// with --sweep=false may never run). Errors: CONFLICT while another run
// holds the sweep lease (that run or the next resumes the entries).
// A zero Run and no error: no entry was open, no run was started.
func (s *Service) ResumeOpenEntries(ctx context.Context, trigger string) (Run, error) {
	if open, err := s.store.RetryableEntries(ctx, LatestTime, "", 1); err != nil || len(open) == 0 {
		return Run{}, err
	}
	e, err := s.relinquisher()
	if err != nil {
		return Run{}, err
	}
	return e.Start(ctx, RunOptions{Trigger: trigger, Actor: actorName(ctx), ResumeOnly: true})
}
