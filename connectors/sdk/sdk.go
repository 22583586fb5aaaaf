// Package sdk is the one package a Lethe connector author imports. It owns
// the connector contract as plain Go types; implement Connector (and the
// optional FieldAnonymiser, DocumentReader and VisitRecorder where your
// store has them), then call Serve from main:
//
//	func main() { sdk.Serve(&myConnector{}) }
//
// Build the binary, take its sha256sum and list it in Lethe's connectors
// configuration. Lethe launches it, verifies the checksum, and talks to it
// over gRPC; you never see protobuf or go-plugin types. The conformance
// suite in sdk/sdktest checks a connector keeps the rules below.
//
// Rules every connector keeps:
//   - Act on exactly the subject given: match by customer id, or by an
//     identifier the subject carries that no other customer claims.
//     Deleting, anonymising or exporting one subject never touches or shows
//     a neighbour sharing an e-mail, phone or name.
//   - Never write to stdout: it is the handshake channel. Log with Logger().
//   - Every action has an id; seeing an id again must do no harm.
//   - Deleting or anonymising what is not there is success (OutcomeNotFound).
//   - Return one ActionResult per action, with its ActionID; a failure of one
//     subject is an OutcomeFailed result with a Reason free of personal data,
//     not an error. Return an error only when the whole call failed.
//   - After a Delete, Export of the subject returns nothing: Lethe checks
//     that, and reports anything returned as residue.
//   - Keep a key: before dropping the identifier a record without a
//     customer id was matched by (Anonymise, AnonymiseFields), write the
//     subject's CustomerID onto it; Lethe's later actions come without the
//     identifier it no longer holds.
package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"
)

// Subject identifies one customer to a connector. Stores outside Lethe may
// key their data by any of these, so all known identifiers travel along;
// only CustomerID is unique and always set. An identifier is empty when
// Lethe holds none: never collected, or relinquished before this action
// (an erasure after an anonymisation). A field action that drops a field
// (a HIDDEN purge) still carries the value being dropped, so a store keyed
// by it finds the record. PROTOCOL.md lists what each kind of action sends.
type Subject struct {
	CustomerID string
	FirstName  string
	LastName   string
	Email      string
	Phone      string
}

// Action asks a connector to anonymise or delete one subject's data. ID is
// stable across retries. Categories limits the action to those data
// categories; empty means all the connector holds.
type Action struct {
	ID         string
	Subject    Subject
	Categories []string
}

// FieldAction asks a connector to drop only some fields of one subject's
// data: a field an administrator made HIDDEN, or a visit's custom fields.
// ID is stable across retries. Fields are names from the Field constants.
type FieldAction struct {
	ID      string
	Subject Subject
	Fields  []string
}

// Fields a FieldAction may name.
const (
	FieldFirstName = "first_name"
	FieldLastName  = "last_name"
	FieldEmail     = "email"
	FieldPhone     = "phone"
	FieldCustom1   = "custom1"
	FieldCustom2   = "custom2"
	FieldCustom3   = "custom3"
	FieldCustom4   = "custom4"
	FieldCustom5   = "custom5"
)

// Outcome is what a connector did for one subject.
type Outcome string

// Outcomes of an action.
const (
	OutcomeDeleted    Outcome = "DELETED"
	OutcomeAnonymised Outcome = "ANONYMISED"
	OutcomeNotFound   Outcome = "NOT_FOUND"
	OutcomeFailed     Outcome = "FAILED"
)

// Confirmed reports whether the outcome counts as done: deleting what is
// already gone is success.
func (o Outcome) Confirmed() bool { return o != OutcomeFailed && o != "" }

// ActionResult is the answer to one action; results line up with the
// actions of a batch by ActionID.
type ActionResult struct {
	ActionID   string
	CustomerID string
	Outcome    Outcome
	Reason     string // why it failed; never personal data
	Records    int    // how many records were affected, as evidence
}

// SubjectExport is everything one connector holds on one subject: a JSON
// document and the files (documents) held beside it.
type SubjectExport struct {
	CustomerID string
	Data       json.RawMessage
	Documents  []Document
}

// Document is a file held on a subject, declared in its export. Lethe puts
// its bytes, read with DocumentReader, into the subject's zip export.
type Document struct {
	ID        string // opaque to Lethe, unique among the subject's documents
	Name      string // file name, no directory part: "invoice-2026-03.pdf"
	MediaType string // "application/pdf"
	Size      int64
	SHA256    string // lower-case hex of the bytes ReadDocument returns
}

// Info is what a connector says of itself.
type Info struct {
	Name         string
	Version      string // see Version
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

// Data categories Lethe knows; a connector may declare categories of its own.
const (
	CategoryContact    = "contact"
	CategoryCDR        = "cdr"
	CategoryInvoice    = "invoice"
	CategoryVisitStats = "visit_stats"
)

// Capabilities a connector declares in Describe.
const (
	CapabilityExport          = "export"
	CapabilityAnonymise       = "anonymise"
	CapabilityDelete          = "delete"
	CapabilityRecordVisits    = "record_visits"    // implements VisitRecorder
	CapabilityAnonymiseFields = "anonymise_fields" // implements FieldAnonymiser
	CapabilityDocuments       = "documents"        // implements DocumentReader
	// CapabilityMatchEmail and CapabilityMatchPhone declare that the store
	// holds records without a customer id, matched by the subject's e-mail
	// or phone when no other customer claims it. Lethe sends the same
	// actions either way; sdktest then seeds such records, with neighbours
	// sharing the identifier, and checks every call on them.
	CapabilityMatchEmail = "match_email"
	CapabilityMatchPhone = "match_phone"
)

// Connector is what every connector implements. Calls may arrive
// concurrently.
type Connector interface {
	// Configure is called once, before any other call but Health, with
	// the settings of Lethe's configuration. settings["data_dir"] is a
	// directory private to this connector that survives restarts;
	// settings["dsn"], when present, names an external database.
	Configure(ctx context.Context, settings map[string]string) error
	// Describe names the connector and lists its data categories and
	// capabilities.
	Describe(ctx context.Context) (Info, error)
	// Export returns what is held on each subject. Subjects with nothing
	// held are left out.
	Export(ctx context.Context, subjects []Subject) ([]SubjectExport, error)
	// Anonymise removes names, e-mail addresses, phone numbers and other
	// identifiers of each action's subject, keeping what identifies no one.
	Anonymise(ctx context.Context, actions []Action) ([]ActionResult, error)
	// Delete removes each action's subject's data in the action's
	// categories (all when empty).
	Delete(ctx context.Context, actions []Action) ([]ActionResult, error)
	// Health returns nil when the connector can serve calls.
	Health(ctx context.Context) error
}

// FieldAnonymiser is implemented by connectors declaring
// CapabilityAnonymiseFields. AnonymiseFields drops the named fields of each
// action's subject and nothing else; a field the store does not hold is
// not applicable, which is success (OutcomeNotFound).
type FieldAnonymiser interface {
	AnonymiseFields(ctx context.Context, actions []FieldAction) ([]ActionResult, error)
}

// DocumentReader is implemented by connectors declaring CapabilityDocuments.
// ReadDocument opens one document an export of customerID declared; Lethe
// closes it. Return ErrDocumentNotFound when there is no such document.
type DocumentReader interface {
	ReadDocument(ctx context.Context, customerID, documentID string) (io.ReadCloser, error)
}

// ErrDocumentNotFound is returned by ReadDocument for an unknown document.
var ErrDocumentNotFound = errors.New("document not found")

// VisitRecorder is implemented by connectors declaring
// CapabilityRecordVisits. Visits carry stable ids: store them idempotently.
type VisitRecorder interface {
	RecordVisits(ctx context.Context, visits []VisitRecord) error
}

// Results builds one result per action with the same outcome, a common
// shape for connectors that act on a whole batch at once.
func Results(actions []Action, outcome Outcome) []ActionResult {
	out := make([]ActionResult, len(actions))
	for i, a := range actions {
		out[i] = ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: outcome}
	}
	return out
}

// FieldResults is Results for field actions.
func FieldResults(actions []FieldAction, outcome Outcome) []ActionResult {
	out := make([]ActionResult, len(actions))
	for i, a := range actions {
		out[i] = ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: outcome}
	}
	return out
}
