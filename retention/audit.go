package retention

import (
	"context"
	"time"
)

// Role is what an API token may do. Roles are ordered: each includes
// everything the ones below it may do.
type Role string

const (
	// RoleViewer reads settings, connectors and runs; never personal data.
	RoleViewer Role = "viewer"
	// RoleOperator also handles customers: search, read, export, delete,
	// status and policy of a customer, visits, appointments, legal holds.
	RoleOperator Role = "operator"
	// RoleAdmin also changes policies, the data policy, preferences and
	// storage settings, reads the audit log and starts real sweeps.
	RoleAdmin Role = "admin"
)

// Roles lists every role, lowest first.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether r includes need. An unknown role allows nothing.
func (r Role) Allows(need Role) bool { return r.Valid() && need.Valid() && r.rank() >= need.rank() }

// Actor is who does something: an API token (by its name, never its
// secret), the scheduler, or a command-line user. Every audit event names
// one.
type Actor struct {
	Name string
	Role Role
}

// Actors that are not API tokens.
const (
	// ActorScheduler is the actor of scheduled sweeps.
	ActorScheduler = "scheduler"
	// ActorSystem is recorded when a use case runs without an actor in its
	// context (tests, imports); the API always sets one.
	ActorSystem = "system"
)

type actorKey struct{}

// WithActor returns ctx carrying the actor, for the audit log and for
// authorization.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok && a.Name != ""
}

func actorName(ctx context.Context) string {
	if a, ok := ActorFrom(ctx); ok {
		return a.Name
	}
	return ActorSystem
}

// AuditEvent is one line of the append-only audit log. Subject and Details
// never hold personal data: ids, policy and field names, counts, and old
// and new values of settings only.
type AuditEvent struct {
	ID      string
	At      time.Time
	Actor   string
	Action  string
	Subject string
	Details map[string]any
}

// Audit actions. The engine records AuditCustomerErase and
// AuditCustomerAnonymise with actor ActorScheduler (or the actor that
// started the run), subject the customer id, in the transaction that
// changes the customer.
const (
	AuditPolicyCreate             = "policy.create"
	AuditPolicyUpdate             = "policy.update"
	AuditPolicyRevert             = "policy.revert"
	AuditPolicyDelete             = "policy.delete"
	AuditDataPolicyUpdate         = "dataPolicy.update"
	AuditFieldPreferencesUpdate   = "fieldPreferences.update"
	AuditCustomFieldStorageUpdate = "customFieldStorage.update"
	AuditCustomerCreate           = "customer.create"
	AuditCustomerUpdate           = "customer.update"
	AuditCustomerStatus           = "customer.setStatus"
	AuditCustomerPolicy           = "customer.setPolicy"
	AuditCustomerExport           = "customer.export"
	AuditCustomerErase            = "customer.erase"
	AuditCustomerAnonymise        = "customer.anonymise"
	AuditRunStart                 = "retentionRun.start"
	AuditAppointmentBook          = "appointment.book"
	AuditVisitStart               = "visit.start"
	AuditVisitEnd                 = "visit.end"
	AuditLegalHoldPlace           = "legalHold.place"
	AuditLegalHoldRelease         = "legalHold.release"
	AuditTokenCreate              = "token.create"
	AuditTokenRevoke              = "token.revoke"
)

// AuditQuery selects a page of the audit log, newest first.
type AuditQuery struct {
	// First is how many events, 1-MaxPageSize.
	First int
	// After is the id of the last event of the previous page.
	After string
	// Subject limits the page to events about one subject.
	Subject string
	// Subjects, when not empty, limits it to events about any of them
	// (several customers read at once).
	Subjects []string
	// Action and Actor, when set, keep only events with exactly that action
	// or actor.
	Action string
	Actor  string
	// From and To, when set, keep events at or after From and before To.
	From, To *time.Time
	// Text, when set, keeps events whose actor or subject contains it
	// (case-insensitive).
	Text string
}

// AuditFilter narrows an audit log page; empty fields match everything.
type AuditFilter struct {
	Action, Actor, Subject string
	// From (inclusive) and To (exclusive) bound the events' time.
	From, To *time.Time
	// Text matches part of the actor or the subject, case-insensitive.
	Text string
}

// NewAuditEvent is an event by the actor of ctx, now.
func NewAuditEvent(ctx context.Context, at time.Time, action, subject string, details map[string]any) AuditEvent {
	return AuditEvent{ID: NewID("aud_"), At: at.UTC(), Actor: actorName(ctx), Action: action, Subject: subject, Details: details}
}

// audit appends an event in tx, so that it commits with the change.
func (s *Service) audit(ctx context.Context, tx Tx, action, subject string, details map[string]any) error {
	return tx.AppendAudit(ctx, NewAuditEvent(ctx, s.Now(), action, subject, details))
}

// AuditLog pages through the audit log, newest first.
// Errors: BAD_USER_INPUT for first outside 1-100, an unknown cursor or a
// filter value over 200 characters.
func (s *Service) AuditLog(ctx context.Context, first *int, after *string, filter AuditFilter) ([]AuditEvent, error) {
	q, err := filter.query()
	if err != nil {
		return nil, err
	}
	if first != nil {
		if *first < 0 || *first > MaxPageSize {
			return nil, FieldErrorf("first", "first must be between 0 and %d, got %d", MaxPageSize, *first)
		}
		q.First = *first
	}
	if q.First == 0 {
		return []AuditEvent{}, nil
	}
	if after != nil {
		if len(*after) > 200 {
			return nil, FieldErrorf("after", "cursor is not valid: pass the id of the last event of the previous page")
		}
		q.After = *after
	}
	return s.store.AuditLog(ctx, q)
}

// query checks the filter and makes it a query of DefaultPageSize events.
func (f AuditFilter) query() (AuditQuery, error) {
	q := AuditQuery{First: DefaultPageSize, Action: f.Action, Actor: f.Actor, Subject: f.Subject, From: f.From, To: f.To, Text: f.Text}
	for name, v := range map[string]string{"action": f.Action, "actor": f.Actor, "subject": f.Subject, "text": f.Text} {
		if len(v) > 200 {
			return q, FieldErrorf(name, "%s must be at most 200 characters", name)
		}
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return q, FieldErrorf("to", "to (%s) must be after from (%s)", FormatTime(*f.To), FormatTime(*f.From))
	}
	return q, nil
}

// MaxAuditExport bounds the events of one CSV export of the audit log.
const MaxAuditExport = 50_000

// AuditEvents returns every event matching filter, newest first, for an
// export. Errors: BAD_USER_INPUT for a bad filter or more than
// MaxAuditExport matching events (narrow the date range).
func (s *Service) AuditEvents(ctx context.Context, filter AuditFilter) ([]AuditEvent, error) {
	q, err := filter.query()
	if err != nil {
		return nil, err
	}
	q.First = MaxAuditExport + 1
	events, err := s.store.AuditLog(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(events) > MaxAuditExport {
		return nil, FieldErrorf("from", "more than %d events match: narrow the date range", MaxAuditExport)
	}
	return events, nil
}

// auditWalkPage is how many events WalkAuditEvents reads at a time.
const auditWalkPage = 5000

// WalkAuditEvents calls fn for every event matching filter, newest first,
// reading a page at a time, so that a report over millions of events (an
// evidence pack over a year of sweeps) holds one page in memory. Errors:
// BAD_USER_INPUT for a bad filter; what fn returns.
func (s *Service) WalkAuditEvents(ctx context.Context, filter AuditFilter, fn func(AuditEvent) error) error {
	q, err := filter.query()
	if err != nil {
		return err
	}
	q.First = auditWalkPage
	for {
		events, err := s.store.AuditLog(ctx, q)
		if err != nil {
			return err
		}
		for _, e := range events {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(events) < q.First {
			return nil
		}
		q.After = events[len(events)-1].ID
	}
}

// AuditPage pages through the audit log newest first; after is the id of
// the last event of the previous page. Errors: BAD_USER_INPUT.
func (s *Service) AuditPage(ctx context.Context, first *int, after *string) (Page[AuditEvent], error) {
	n, err := PageSize("first", first, DefaultPageSize, MaxPageSize)
	if err != nil {
		return Page[AuditEvent]{}, err
	}
	q := AuditQuery{After: AfterValue(after)}
	if len(q.After) > 200 {
		return Page[AuditEvent]{}, FieldErrorf("after", "cursor is not valid: pass the endCursor of the previous page")
	}
	return FetchPage(n, func(n int) ([]AuditEvent, error) {
		q.First = n
		return s.store.AuditLog(ctx, q)
	})
}
