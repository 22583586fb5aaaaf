package retention

import (
	"context"
	"time"
)

// RunStatus is the state of a retention run.
type RunStatus string

const (
	RunPlanned   RunStatus = "PLANNED"
	RunRunning   RunStatus = "RUNNING"
	RunSucceeded RunStatus = "SUCCEEDED"
	RunFailed    RunStatus = "FAILED"
)

// Run is one sweep, real or dry.
type Run struct {
	ID         string
	DryRun     bool
	Status     RunStatus
	Trigger    string // "api", "cli", "scheduler", "preview"
	Actor      string
	AsOf       time.Time
	StartedAt  time.Time
	FinishedAt *time.Time
	// HeartbeatAt is renewed while a real run goes; a RUNNING run whose
	// heartbeat is old was interrupted by a crash.
	HeartbeatAt      time.Time
	CustomersPlanned int
	CustomersDone    int
	CustomersFailed  int
	// CustomersSkipped were planned but no longer due when their turn came
	// (a new appointment, a hold, a policy change): nothing was done to them.
	CustomersSkipped int
	ActionsPlanned   int
	// ThrottledSeconds is how long the run waited to keep its pace: the
	// operator's cap (--sweep-max-rate), or slower while the API's writes
	// were slowed down by it (relinquish/pace.go).
	ThrottledSeconds float64
	Error            string
	// AddedByChange and RemovedByChange are set on previews only (never
	// stored): how many customers the change itself makes due, or no
	// longer due, compared with the rules in force at AsOf.
	AddedByChange   *int
	RemovedByChange *int
	// Forecast is set on previews only (never stored): the weekly forecast
	// under the proposed settings, so a change can be judged before saving.
	Forecast *Forecast
}

// Finished reports whether the run has ended.
func (r Run) Finished() bool { return r.Status == RunSucceeded || r.Status == RunFailed }

// EntryStatus is the state of one customer's journal entry.
type EntryStatus string

const (
	EntryOpen      EntryStatus = "open"
	EntryDone      EntryStatus = "done"
	EntryFailed    EntryStatus = "failed"    // gave up after MaxAttempts: reported, never dropped
	EntryCancelled EntryStatus = "cancelled" // no longer due at execution time
)

// JournalEntry records the relinquishing of one customer: planned before
// anything is sent, closed in the transaction that changes the core record.
// It holds no personal data once closed (see Subject).
type JournalEntry struct {
	ID         string
	RunID      string
	CustomerID string
	Kind       ActionKind
	// Categories are what the entry relinquishes: for an anonymisation the
	// data policy's categories the customer still missed when planned; for
	// an erasure everything.
	Categories []string
	// RequestedBy names who asked for a manual erasure; empty when a rule
	// made the customer due.
	RequestedBy   string
	PolicyName    string
	PolicyVersion int
	Rule          string
	DueAt         time.Time
	PlannedAt     time.Time
	Status        EntryStatus
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	ClosedAt      *time.Time
	// Subject holds the identifiers connectors match by when Lethe's copy
	// went before the connectors acted (a HIDDEN purge: the values purged,
	// recorded in the transaction that purged them). The subject sent
	// takes each identifier from the customer's record, or from here when
	// the record no longer has it. Nil otherwise; scrubbed when the entry
	// closes, so personal data stays in the journal only while connectors
	// may still need it.
	Subject *Subject
}

// closeSubject scrubs the recorded identifiers of an entry being closed.
func (en *JournalEntry) CloseSubject() { en.Subject = nil }

// SubjectFor is the subject connectors are sent for c under this entry:
// the record's identifiers, and the recorded ones where the record has none.
func (en JournalEntry) SubjectFor(c *Customer) Subject {
	s := Subject{CustomerID: en.CustomerID}
	if c != nil {
		s = c.Subject()
	}
	if en.Subject != nil {
		s = withFallback(s, *en.Subject)
	}
	return s
}

// withFallback is s with each empty identifier taken from fallback.
func withFallback(s, fallback Subject) Subject {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&s.FirstName, fallback.FirstName)
	fill(&s.LastName, fallback.LastName)
	fill(&s.Email, fallback.Email)
	fill(&s.Phone, fallback.Phone)
	return s
}

// Connector operations of the journal.
const (
	OpDelete    = "delete"
	OpAnonymise = "anonymise"
	// OpVerify is the residue check after an erase: the connector is asked
	// to export the subject again, once every other action of the entry was
	// confirmed; anything it returns is residue, a failure of its delete.
	OpVerify = "verify"
)

// ActionStatus is the state of one connector action.
type ActionStatus string

const (
	ActionPending   ActionStatus = "pending"
	ActionConfirmed ActionStatus = "confirmed"
	ActionFailed    ActionStatus = "failed"
)

// JournalAction is one operation one connector must confirm for an entry.
// Its ID is the action id sent to the connector: stable across retries and
// restarts, so repeating it is harmless.
type JournalAction struct {
	ID         string
	EntryID    string
	RunID      string
	CustomerID string
	Connector  string
	Operation  string
	Categories []string
	Status     ActionStatus
	Outcome    Outcome
	Records    int
	Reason     string
	Attempts   int
}

// PlannedAction is one line of a run's plan, as the API lists it.
type PlannedAction struct {
	CustomerID string
	Connector  string // a connector's name, or "lethe" for the core record
	Action     string // "erase", "anonymise", "delete", "delete cdr", …
	// Outcome and Records are the connector's answer (journal actions of a
	// real run once answered; empty in plans).
	Outcome Outcome
	Records int
	// Cursor is where a page that ends here continues (opaque).
	Cursor string
}

// CoreConnector names Lethe's own record in plans.
const CoreConnector = "lethe"

// RunFailure is a customer the run could not relinquish, with the connector
// and the error, for operators to act on.
type RunFailure struct {
	CustomerID string
	Connector  string
	Error      string
	Attempts   int
	GaveUp     bool
	// Cursor is where a page that ends here continues (opaque).
	Cursor string
}

// JournalReader reads the journal.
type JournalReader interface {
	// CustomersByID returns the customers with these ids (tombstones
	// included), by id; unknown ids are absent.
	CustomersByID(ctx context.Context, ids []string) (map[string]*Customer, error)
	// RetryableEntries lists open entries whose next attempt is due at or
	// before asOf, by id after the given id.
	RetryableEntries(ctx context.Context, asOf time.Time, afterID string, limit int) ([]JournalEntry, error)
	// RunEntries lists open entries of a run whose next attempt is due at
	// or before asOf, by id.
	RunEntries(ctx context.Context, runID string, asOf time.Time, afterID string, limit int) ([]JournalEntry, error)
	EntryActions(ctx context.Context, entryIDs []string) (map[string][]JournalAction, error)
	Run(ctx context.Context, id string) (*Run, error)
	Runs(ctx context.Context, first int) ([]Run, error)
	// RunActions lists a run's plan (dry run) or journal actions (real run).
	RunActions(ctx context.Context, runID string, first int) ([]PlannedAction, error)
	RunFailures(ctx context.Context, runID string, first int) ([]RunFailure, error)
	// RunActionsNotFound counts the run's journal actions a connector
	// answered NOT_FOUND.
	RunActionsNotFound(ctx context.Context, runID string) (int, error)
	// DoneEntriesOf lists the customer's completed journal entries, oldest
	// first.
	DoneEntriesOf(ctx context.Context, customerID string) ([]JournalEntry, error)
	// OpenEntryOf returns the customer's open journal entry, or nil.
	OpenEntryOf(ctx context.Context, customerID string) (*JournalEntry, error)
	// The After forms page on: after is the Cursor (a run's id) of the
	// last item of the previous page, "" for the first page.
	RunsAfter(ctx context.Context, after string, first int, withPreviews bool) ([]Run, error)
	RunActionsAfter(ctx context.Context, runID, after string, first int) ([]PlannedAction, error)
	RunFailuresAfter(ctx context.Context, runID, after string, first int) ([]RunFailure, error)
	// CustomersWithOpenEntries tells which of these customers a sweep is
	// relinquishing now.
	CustomersWithOpenEntries(ctx context.Context, ids []string) (map[string]bool, error)
	// SweepLeaseHolder returns the current holder of the sweep lease and
	// its expiry ("" when free).
	SweepLeaseHolder(ctx context.Context) (string, time.Time, error)
	// HoldsSweepLease reports whether the sweep lease is l (its holder and
	// epoch) and lasts beyond until.
	HoldsSweepLease(ctx context.Context, l Lease, until time.Time) (bool, error)
	// OpenVisitsStartedBefore lists visits still open that started before t.
	OpenVisitsStartedBefore(ctx context.Context, t time.Time, limit int) ([]Visit, error)
}

// JournalWriter writes the journal, inside a Tx.
type JournalWriter interface {
	InsertRun(ctx context.Context, r Run) error
	SaveRun(ctx context.Context, r Run) error
	// AdoptOpenEntries moves the open entries whose next attempt is due at
	// asOf (and their actions) to runID, so that a run resumes what an
	// interrupted or failed one left; it returns how many entries and
	// actions it moved.
	AdoptOpenEntries(ctx context.Context, runID string, asOf time.Time) (entries, actions int, err error)
	// InterruptStaleRuns marks every RUNNING run as FAILED: called by the
	// holder of the sweep lease, which alone may run, so they are leftovers
	// of a crash.
	InterruptStaleRuns(ctx context.Context, reason string) error
	// AdoptEntry moves one open entry (and its actions) to runID and makes
	// its next attempt due at once.
	AdoptEntry(ctx context.Context, entryID, runID string, at time.Time) error
	InsertEntries(ctx context.Context, entries []JournalEntry, actions []JournalAction) error
	SaveEntry(ctx context.Context, e JournalEntry) error
	// SaveEntries saves the status, attempts, schedule and error of many
	// entries in one statement per few hundred.
	SaveEntries(ctx context.Context, entries []JournalEntry) error
	// SaveActions saves the outcome of many actions in one statement per
	// few hundred.
	SaveActions(ctx context.Context, actions []JournalAction) error
	// EraseCustomers does what DeleteCustomerEvents and SaveCustomer do for
	// customers Erase was applied to, for many customers in a few
	// statements: the engine's finalization of a batch.
	EraseCustomers(ctx context.Context, erased []*Customer) error
	// RecordRelinquished stores the relinquished categories, anonymisedAt
	// and schedule of customers relinquished in part, as given; for the ids
	// in clearContact it also removes names, phones and emails and the
	// custom fields of their visits.
	RecordRelinquished(ctx context.Context, customers []*Customer, clearContact []string) error
	// AppendAudits records many audit events.
	AppendAudits(ctx context.Context, events []AuditEvent) error
	InsertPlan(ctx context.Context, runID string, firstSeq int, plan []PlannedAction) error
	// AcquireSweepLease takes the single sweep lease for holder until the
	// given time when it is free or expired, with a new epoch; false when a
	// lease is current (also one of the same holder). takeOver names a
	// holder known to be dead whose lease may be taken before it expires
	// ("" for none).
	AcquireSweepLease(ctx context.Context, holder string, now, until time.Time, takeOver string) (Lease, bool, error)
	// RenewSweepLease extends the lease until the given time if it still
	// carries l's holder and epoch, and keeps it from changing hands until
	// the transaction ends: the fencing check of every change a sweep
	// makes. ErrLeaseLost otherwise.
	RenewSweepLease(ctx context.Context, l Lease, until time.Time) error
	// ReleaseSweepLease frees the lease if l still holds it.
	ReleaseSweepLease(ctx context.Context, l Lease) error
}

// Lease is a holder's title to the sweep lease. Epoch is the fencing token:
// it grows with every acquisition, so a holder that lost the lease (frozen
// past its expiry while another process took it) can no longer prove it.
type Lease struct {
	Holder string
	Epoch  int64
}

// ErrLeaseLost stops a sweep whose lease another process has taken: the
// transaction that found it out rolls back, and nothing more is changed.
var ErrLeaseLost = Errorf(CodeConflict, "the sweep lease was lost to another process; this run stopped and changed nothing more")

// DescribeOperation names a connector operation for plans: "delete",
// "anonymise", or "delete cdr" when limited to categories.
func DescribeOperation(op string, categories []string) string {
	if len(categories) == 0 {
		return op
	}
	out := op
	for _, c := range categories {
		out += " " + c
	}
	return out
}

// Batch is one page of a run's journal entries, planned as a unit of work
// that every replica running sweeps may claim (DESIGN.md "Scale-out").
type Batch struct {
	ID    string
	RunID string
	// Seq orders a run's batches: they are claimed in planning order.
	Seq      int
	EntryIDs []string
}

// Claim is a replica's title to one batch until its term ends. Epoch is its
// fencing token: it grows with every claim of the batch, so a replica frozen
// past its term, whose batch another replica claimed since, can no longer
// prove its claim and changes nothing.
type Claim struct {
	Batch
	Holder string
	Epoch  int64
}

// ReplicaBatches is how many batches of a run one replica finished.
type ReplicaBatches struct {
	Replica string
	Batches int
}

// ErrClaimLost stops the work on a batch whose claim another replica has
// taken (this one was frozen or cut off past its term): the transaction that
// found it out rolls back, and nothing more is changed for that batch.
var ErrClaimLost = Errorf(CodeConflict, "the claim on a sweep batch was lost to another replica; its work stopped and changed nothing more")

// BatchReader reads the batches of shared runs.
type BatchReader interface {
	// HoldsClaim reports whether c is still the batch's claim (its holder
	// and epoch) and lasts beyond until.
	HoldsClaim(ctx context.Context, c Claim, until time.Time) (bool, error)
	// AnyClaimable reports whether a batch of any run could be claimed at
	// now: the read an idle replica polls with before it claims (a write).
	AnyClaimable(ctx context.Context, now time.Time) (bool, error)
	// UnclaimedBatches counts a run's batches no replica has claimed yet.
	UnclaimedBatches(ctx context.Context, runID string) (int, error)
	// OpenBatches counts a run's batches not finished yet.
	OpenBatches(ctx context.Context, runID string) (int, error)
	// BatchesByReplica counts a run's finished batches per replica.
	BatchesByReplica(ctx context.Context, runID string) ([]ReplicaBatches, error)
	// OpenEntriesByID returns the entries with these ids that are still
	// open, by id.
	OpenEntriesByID(ctx context.Context, ids []string) ([]JournalEntry, error)
}

// BatchWriter plans, claims and closes batches, inside a Tx.
type BatchWriter interface {
	InsertBatch(ctx context.Context, b Batch) error
	// ClaimBatch claims the first batch (of runID; of any run when "")
	// that is unclaimed or whose claim expired at now, for holder until
	// the given time, with a new epoch; false when there is none. Batches
	// other replicas are claiming at this moment are skipped, not waited
	// for (PostgreSQL: FOR UPDATE SKIP LOCKED).
	ClaimBatch(ctx context.Context, runID, holder string, now, until time.Time) (Claim, bool, error)
	// RenewClaim extends the claim until the given time if it is still
	// c's, and keeps it from changing hands until the transaction ends:
	// the fencing check of every change a batch makes. ErrClaimLost
	// otherwise.
	RenewClaim(ctx context.Context, c Claim, until time.Time) error
	// FinishBatch marks the batch done by c's holder.
	FinishBatch(ctx context.Context, c Claim) error
	// AbandonBatches closes the open batches of runID (of every run when
	// ""), with a new epoch, so that no claim on them proves anymore:
	// their entries are adopted by a later run.
	AbandonBatches(ctx context.Context, runID string) error
	// AddRunCounts adds to a run's finished counters (every replica's
	// batches add theirs).
	AddRunCounts(ctx context.Context, runID string, done, failed, skipped int) error
	// SaveRunShared saves a run like SaveRun, except the finished counters
	// the batches add to.
	SaveRunShared(ctx context.Context, r Run) error
}
