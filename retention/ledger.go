package retention

import (
	"context"
	"strings"
	"time"
)

// ErasureLedger is where every erase and anonymise is recorded a second
// time, outside Lethe's database, so that a restore of the database from an
// older backup cannot make Lethe forget it (DESIGN.md "Erased stays
// erased"). The ledger package implements it with an append-only,
// hash-chained file.
type ErasureLedger interface {
	// Append records the records durably (on stable storage when it
	// returns) and returns the position of the last one. It is called in
	// the transaction that marks the customers relinquished, before it
	// commits: a record whose transaction then rolls back is harmless (a
	// restart re-applies an erasure every connector had already confirmed).
	Append(ctx context.Context, records []LedgerRecord) (LedgerPosition, error)
}

// LedgerRecord is one relinquishing as the ledger keeps it: no personal
// data, only the customer's opaque id, when, what and by whom.
type LedgerRecord struct {
	CustomerID string
	At         time.Time
	Kind       ActionKind
	Categories []string
	// Run is the retention run; By who asked (a manual erasure) or the rule.
	Run string
	By  string
}

// LedgerPosition is a place in the ledger: the number of records up to it
// and the hash of the last one (which commits to every record before it).
type LedgerPosition struct {
	Seq  int64
	Hash string
}

// LedgerPositionWriter is implemented by a store's transaction: it records
// which ledger position the database has applied, in the transaction that
// applies it, so the database's position is never ahead of the ledger.
type LedgerPositionWriter interface {
	RecordLedgerPosition(ctx context.Context, p LedgerPosition) error
}

// WithLedger makes every erase and anonymise the service's engines finalize
// append to the ledger.
func WithLedger(l ErasureLedger) Option { return func(s *Service) { s.ledger = l } }

// AuditLedgerReapply is the audit event of a start that found the database
// behind the ledger and relinquished again what it had forgotten.
const AuditLedgerReapply = "ledger.reapply"

// LedgerReapplyEvent is that event: the run, the positions, the counts.
func LedgerReapplyEvent(done Reapplied, from, to int64, records int) AuditEvent {
	return AuditEvent{ID: NewID("aud_"), At: time.Now().UTC(), Actor: "ledger", Action: AuditLedgerReapply, Subject: done.Run.ID,
		Details: map[string]any{"fromPosition": from, "toPosition": to, "records": records, "customers": done.Customers,
			"relinquishedAgain": done.Run.CustomersDone, "alreadyReflected": done.Customers - done.Journaled - done.Unknown, "unknown": done.Unknown}}
}

// reappliedRule starts the rule of a journal entry that re-applies a ledger
// record after a restore; such an entry is never appended to the ledger
// again, and no rule, hold or appointment stops it: the erasure happened.
const ReappliedRule = "re-applied after a restore: "

// residueRule starts the rule of a journal entry that erases again, in the
// connectors, a customer the residue audit found held again.
const ResidueRule = "re-erased by the residue audit: "

// Reapplied reports whether an entry re-applies a ledger record (after a
// restore of the database, or of a connector's store).
func (en JournalEntry) Reapplied() bool {
	return strings.HasPrefix(en.Rule, ReappliedRule) || strings.HasPrefix(en.Rule, ResidueRule)
}

// Reapplied is what re-applying ledger records did.
type Reapplied struct {
	Run Run
	// Customers is how many distinct customers the records named;
	// Journaled how many needed work (the rest were relinquished in the
	// database already); Unknown how many the database does not know (it
	// was restored from before they were created: no core record to erase,
	// the residue audit asks the connectors about them by id).
	Customers, Journaled, Unknown int
}
