// Package sdk is the one package a connector author imports. Implement
// Connector (and VisitRecorder if your store records visits) with plain Go
// values, then call Serve from main:
//
//	func main() { sdk.Serve(&myConnector{}) }
//
// Build the binary, take its sha256sum and list it in Lethe's connectors
// configuration. Lethe launches it, verifies the checksum, and talks to it
// over gRPC; you never see protobuf or go-plugin types.
//
// Rules every connector keeps (the conformance suite, connectors/conformance,
// checks them):
//   - Never write to stdout: it is the handshake channel. Log with Logger().
//   - Every action has an id; seeing an id again must do no harm.
//   - Deleting or anonymising what is not there is success (OutcomeNotFound).
//   - Return one ActionResult per Action, with its ActionID; a failure of one
//     subject is an OutcomeFailed result with a Reason free of personal data,
//     not an error. Return an error only when the whole call failed.
package sdk

import (
	"context"

	"github.com/lethe-privacy/lethe/retention"
)

// The values a connector receives and returns. They are Lethe's own domain
// types, so what a connector returns is exactly what Lethe records.
type (
	Subject       = retention.Subject
	Action        = retention.Action
	ActionResult  = retention.ActionResult
	Outcome       = retention.Outcome
	SubjectExport = retention.SubjectExport
	Info          = retention.ConnectorInfo
	VisitRecord   = retention.VisitRecord
)

// Outcomes of an action.
const (
	OutcomeDeleted    = retention.OutcomeDeleted
	OutcomeAnonymised = retention.OutcomeAnonymised
	OutcomeNotFound   = retention.OutcomeNotFound
	OutcomeFailed     = retention.OutcomeFailed
)

// Data categories and capabilities Lethe knows; a connector may declare
// categories of its own.
const (
	CategoryContact    = retention.CategoryContact
	CategoryCDR        = retention.CategoryCDR
	CategoryInvoice    = retention.CategoryInvoice
	CategoryVisitStats = retention.CategoryVisitStats

	CapabilityExport       = retention.CapabilityExport
	CapabilityAnonymise    = retention.CapabilityAnonymise
	CapabilityDelete       = retention.CapabilityDelete
	CapabilityRecordVisits = retention.CapabilityRecordVisits
)

// Connector is what a connector implements. Calls may arrive concurrently.
type Connector interface {
	// Configure is called once, before any other call but Health, with
	// the settings of Lethe's configuration. settings["data_dir"] is a
	// directory private to this connector that survives restarts;
	// settings["dsn"], when present, names an external database.
	Configure(ctx context.Context, settings map[string]string) error
	// Describe names the connector and lists its data categories and
	// capabilities.
	Describe(ctx context.Context) (Info, error)
	// Export returns what is held on each subject as a JSON document.
	// Subjects with no data may be left out.
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
