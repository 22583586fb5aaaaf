package retention

import (
	"context"
	"encoding/json"
	"time"
)

// Data categories the built-in connectors declare. Policies address
// categories, never connector names; integrators may declare their own.
const (
	CategoryContact    = "contact"
	CategoryCDR        = "cdr"
	CategoryInvoice    = "invoice"
	CategoryVisitStats = "visit_stats"
)

// Capabilities a connector may declare in Describe.
const (
	CapabilityExport       = "export"
	CapabilityAnonymise    = "anonymise"
	CapabilityDelete       = "delete"
	CapabilityRecordVisits = "record_visits"
	// Connectors of protocol 2 may also declare these.
	CapabilityAnonymiseFields = "anonymise_fields"
	CapabilityDocuments       = "documents"
)

// Subject identifies one customer to a connector. Stores outside Lethe may
// key their data by any of these, so all known identifiers travel along.
type Subject struct {
	CustomerID string
	FirstName  string
	LastName   string
	Email      string
	Phone      string
}

// Action asks a connector to anonymise or delete one subject's data. ID is
// stable across retries: a connector that sees an ID again must not do harm.
// Categories limits the action to those data categories; empty means all the
// connector holds.
type Action struct {
	ID         string
	Subject    Subject
	Categories []string
}

// Outcome is what a connector did for one subject.
type Outcome string

const (
	OutcomeDeleted    Outcome = "DELETED"
	OutcomeAnonymised Outcome = "ANONYMISED"
	OutcomeNotFound   Outcome = "NOT_FOUND"
	OutcomeFailed     Outcome = "FAILED"
)

// Confirmed reports whether the outcome counts as done: deleting what is
// already gone is success.
func (o Outcome) Confirmed() bool { return o != OutcomeFailed && o != "" }

// ActionResult is the per-subject answer to an Action; results line up with
// the actions of a batch by ActionID.
type ActionResult struct {
	ActionID   string
	CustomerID string
	Outcome    Outcome
	Reason     string // why it failed; never personal data
	Records    int    // how many records were affected, as evidence
}

// SubjectExport is everything one connector holds on one subject: JSON,
// and the documents (files) the connector can stream for the zip export.
type SubjectExport struct {
	CustomerID string
	Data       json.RawMessage
	Documents  []Document
}

// Document is a file a connector holds on a subject, declared in its export.
type Document struct {
	ID        string // the connector's id for it, unique per subject
	Name      string // file name, no directory part
	MediaType string
	Size      int64
	SHA256    string // lower-case hex
}

// FieldAction asks a connector to drop only the named fields of one
// subject's data (a field made HIDDEN, a visit's custom fields). Fields are
// "first_name", "last_name", "email", "phone", "custom1"…"custom5". ID is
// stable across retries, as for Action.
type FieldAction struct {
	ID      string
	Subject Subject
	Fields  []string
}

// ConnectorInfo is what a connector says of itself.
type ConnectorInfo struct {
	Name         string
	Version      string
	Categories   []string
	Capabilities []string
}

// VisitRecord is an ended visit sent to connectors that record visits. Only
// the custom fields whose storage setting was on when the visit started are
// included.
type VisitRecord struct {
	VisitID      string
	CustomerID   string // empty for a walk-in visitor
	Branch       string
	Service      string
	StartedAt    time.Time
	EndedAt      time.Time
	CustomFields map[string]string
}

// Connector is one store outside Lethe, reached through a plugin. All calls
// are batched; results come per subject so one bad subject does not fail a
// batch. A returned error means the whole call failed (CONNECTOR_UNAVAILABLE).
type Connector interface {
	Describe(ctx context.Context) (ConnectorInfo, error)
	Export(ctx context.Context, subjects []Subject) ([]SubjectExport, error)
	Anonymise(ctx context.Context, actions []Action) ([]ActionResult, error)
	Delete(ctx context.Context, actions []Action) ([]ActionResult, error)
	// AnonymiseFields drops only the named fields; a field the connector
	// does not hold is success (NOT_FOUND). CONNECTOR_UNAVAILABLE when the
	// connector cannot (an older protocol, no such capability).
	AnonymiseFields(ctx context.Context, actions []FieldAction) ([]ActionResult, error)
	RecordVisits(ctx context.Context, visits []VisitRecord) error
	Health(ctx context.Context) error
}

// ConnectorStatus is a registered connector as the registry sees it now.
type ConnectorStatus struct {
	Info    ConnectorInfo
	Healthy bool
}

// ConnectorRegistry is the set of connectors Lethe is configured with
// (implemented by connectors.Manager).
type ConnectorRegistry interface {
	// Connectors lists every configured connector, healthy or not.
	Connectors(ctx context.Context) []ConnectorStatus
	// Connector returns the named connector; CONNECTOR_UNAVAILABLE when it
	// is configured but cannot be reached, NOT_FOUND when unknown.
	Connector(ctx context.Context, name string) (Connector, error)
}
