package retention

import (
	"context"
	"time"
)

// Reader reads Lethe's own data. Methods return NOT_FOUND errors for unknown
// ids and names; every other failure is INTERNAL.
type Reader interface {
	JournalReader
	BatchReader
	TokenStore
	RangeReader
	Policies(ctx context.Context) ([]Policy, error)
	// PolicyCustomers counts the customers not erased that are assigned
	// the policy.
	PolicyCustomers(ctx context.Context, name string) (int, error)
	// CustomFieldLabels are the names administrators gave custom fields
	// (custom1 "Notes").
	CustomFieldLabels(ctx context.Context) (map[string]string, error)
	// Policy returns NOT_FOUND for an unknown name.
	Policy(ctx context.Context, name string) (Policy, error)
	DataPolicy(ctx context.Context) (DataPolicy, error)
	FieldPreferences(ctx context.Context) (FieldPreferences, error)
	CustomFieldStorage(ctx context.Context) (CustomFieldStorage, error)
	// CountStoredValues counts, per field, the values stored on customers
	// neither erased nor under a legal hold at now, and on visits.
	CountStoredValues(ctx context.Context, fields []Field, now time.Time) (map[Field]int, error)

	// Customer returns the customer, erased ones included (as tombstones);
	// NOT_FOUND when the id was never known.
	Customer(ctx context.Context, id string) (*Customer, error)
	// SearchCustomers pages through customers that are not erased, ordered
	// by id, matching every word of q.Text as a prefix of a word of the
	// searchable fields (case, accents and Unicode form ignored; phones by
	// digits, national or international).
	SearchCustomers(ctx context.Context, q SearchQuery) (CustomerPage, error)
	Appointments(ctx context.Context, customerIDs []string) (map[string][]Appointment, error)
	Visits(ctx context.Context, customerIDs []string) (map[string][]Visit, error)
	// Visit returns NOT_FOUND for an unknown id.
	Visit(ctx context.Context, id string) (*Visit, error)
	// PendingVisitRecords lists ended visits not yet delivered to every
	// connector that records visits, oldest first, after the given id.
	PendingVisitRecords(ctx context.Context, afterID string, limit int) ([]Visit, error)
	LegalHolds(ctx context.Context, customerIDs []string) (map[string][]LegalHold, error)
	// LegalHold returns NOT_FOUND for an unknown id.
	LegalHold(ctx context.Context, id string) (*LegalHold, error)
	// AuditLog pages through the audit log newest first; BAD_USER_INPUT
	// when q.After names no event.
	AuditLog(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
}

// Tx is one write transaction: everything written through it commits or
// rolls back together. Reads through it see its own writes.
type Tx interface {
	Reader
	JournalWriter
	BatchWriter
	TokenWriter
	DryRunWriter
	// InsertPolicy returns BAD_USER_INPUT when the name is taken.
	InsertPolicy(ctx context.Context, p Policy) error
	// SavePolicy updates a policy: one row. No customer row changes, since
	// none stores when Lethe acts (rules as queries, cutoffs.go).
	SavePolicy(ctx context.Context, p Policy) error
	// DeletePolicy removes a policy's row.
	DeletePolicy(ctx context.Context, name string) error
	// LockPolicy locks a policy's row until the transaction ends: shared
	// by those assigning it to a customer, exclusive by its deletion, so
	// that a deletion never misses an assignment made meanwhile (where
	// transactions run one at a time, as on SQLite, it does nothing).
	LockPolicy(ctx context.Context, name string, exclusive bool) error
	// SaveCustomFieldLabels stores the custom fields' labels: one row.
	SaveCustomFieldLabels(ctx context.Context, labels map[string]string) error
	// SaveDataPolicy stores the data policy: one row.
	SaveDataPolicy(ctx context.Context, dp DataPolicy) error
	SaveFieldPreferences(ctx context.Context, p FieldPreferences) error
	// PurgeFields removes the values of fields from customers neither
	// erased nor under a legal hold at now (search keys included) and from
	// visits; it returns the customers that held one, each with its
	// identifiers as they were before the purge (connectors match by them).
	PurgeFields(ctx context.Context, fields []Field, now time.Time) ([]Subject, error)
	SaveCustomFieldStorage(ctx context.Context, s CustomFieldStorage) error

	InsertCustomer(ctx context.Context, c *Customer) error
	// SaveCustomer writes every mutable column of c, its anchors included
	// (policy group and relinquished mask are derived from c).
	SaveCustomer(ctx context.Context, c *Customer) error
	InsertAppointment(ctx context.Context, a Appointment) error
	InsertVisit(ctx context.Context, v Visit) error
	SaveVisit(ctx context.Context, v Visit) error
	// VisitRecordsDelivered clears the pending mark of these ended visits
	// and erases Lethe's copy of their custom fields (and any visitor
	// data): only the statistics connectors' copy remains.
	VisitRecordsDelivered(ctx context.Context, ids []string) error
	// DeleteCustomerEvents removes a customer's appointments and unlinks its
	// visits, for erasure.
	DeleteCustomerEvents(ctx context.Context, customerID string) error
	InsertLegalHold(ctx context.Context, h LegalHold) error
	SaveLegalHold(ctx context.Context, h LegalHold) error
	// AppendAudit records an event of the audit log in this transaction, so
	// that a change and its record commit or roll back together. The log is
	// append-only: nothing updates or deletes its rows.
	AppendAudit(ctx context.Context, e AuditEvent) error
}

// Store is Lethe's persistence.
type Store interface {
	Reader
	// Update runs fn in one write transaction; fn's error rolls it back. A
	// transaction that fails on a deadlock or serialization failure is run
	// again, a bounded number of times: fn must not keep state across calls.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Scrub makes erased data unreadable from the database's files as far
	// as the database allows; called when a sweep or a manual erasure has
	// relinquished something.
	Scrub(ctx context.Context) error
	// UpdateRules is Update for a change of the collection preferences or
	// the custom-field storage: it waits for the write transactions in
	// flight and new ones wait for it, because every write checks its input
	// against those settings read in its own transaction (a value written
	// under a field's old mode must not survive the purge that making it
	// HIDDEN runs). Retention policies and the data policy do not need it:
	// no write derives anything stored from them.
	UpdateRules(ctx context.Context, fn func(tx Tx) error) error
	Close() error
}

// SearchQuery selects a page of customers.
type SearchQuery struct {
	// Text: every word matches as a prefix of a word of the fields in
	// Fields (case, accents and Unicode form ignored; digits only for
	// phones), literally: no wildcards.
	Text   string
	Fields []Field
	First  int
	// After is the id of the last customer of the previous page.
	After string
	// Count asks for TotalCount; it costs a query, so only when wanted.
	Count bool
	// Filter keeps only the customers it accepts (the zero value: all).
	Filter CustomerFilter
	// Order is the page's order (the zero value: by id); AfterValue is
	// the sort's value of the customer After names.
	Order      CustomerOrder
	AfterValue SortValue
	// Rules are the rules at Filter.Now as cut-offs, set for the
	// deletion-time order: the store orders each policy group by the
	// anchor its deletion times grow with.
	Rules *Cutoffs
}

// CustomerFilter narrows a list of customers for real work: by status,
// to those overdue (due under the rules at Now, not under a hold: the next
// sweep relinquishes them) or to those under a legal hold, all at Now.
type CustomerFilter struct {
	Status    Status
	Overdue   bool
	UnderHold bool
	Now       time.Time
	// Due is the rules at Now as cut-offs, set with Overdue: the store
	// turns them into bounds on the anchors, as for a sweep.
	Due *Cutoffs
}

// Empty reports whether the filter accepts every customer.
func (f CustomerFilter) Empty() bool { return f.Status == "" && !f.Overdue && !f.UnderHold }

// MaxSearchCount bounds a search's TotalCount: counting is exact up to it,
// and a larger result says TotalCapped instead of reading every match.
const MaxSearchCount = 1000

// CustomerPage is one page of a search.
type CustomerPage struct {
	Customers []*Customer
	// Values are the customers' values of a sorted order, for cursors.
	Values      []SortValue
	HasNextPage bool
	// TotalCount is exact up to MaxSearchCount; above, it is
	// MaxSearchCount and TotalCapped is true. Zero unless Count was asked.
	TotalCount  int
	TotalCapped bool
}

// Clock tells the time; tests and dry runs substitute their own.
type Clock func() time.Time
