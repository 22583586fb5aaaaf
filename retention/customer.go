package retention

import (
	"time"
)

// Status is a customer's lifecycle status.
type Status string

const (
	StatusActive    Status = "ACTIVE"
	StatusCancelled Status = "CANCELLED"
	StatusDeleted   Status = "DELETED"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusCancelled || s == StatusDeleted
}

// PersonalData is the personal fields of a customer or a walk-in visitor.
// A nil field was not given (or is not collected).
type PersonalData struct {
	FirstName *string
	LastName  *string
	Email     *string
	Phone     *string
}

// Get returns the value of one field.
func (p PersonalData) Get(f Field) *string {
	switch f {
	case FieldFirstName:
		return p.FirstName
	case FieldLastName:
		return p.LastName
	case FieldEmail:
		return p.Email
	case FieldPhone:
		return p.Phone
	}
	return nil
}

// Set sets the value of one field.
func (p *PersonalData) Set(f Field, v *string) {
	switch f {
	case FieldFirstName:
		p.FirstName = v
	case FieldLastName:
		p.LastName = v
	case FieldEmail:
		p.Email = v
	case FieldPhone:
		p.Phone = v
	}
}

// Empty reports whether no field is set.
func (p PersonalData) Empty() bool {
	for _, f := range AllFields {
		if p.Get(f) != nil {
			return false
		}
	}
	return true
}

// EventKind names the kind of event that last moved a customer's clock.
type EventKind string

const (
	EventCreated      EventKind = "created"
	EventImported     EventKind = "last interaction"
	EventEdited       EventKind = "edit"
	EventStatusChange EventKind = "status change"
	EventVisit        EventKind = "visit"
	EventAppointment  EventKind = "appointment"
)

// Timeline summarises a customer's events: everything the deletion rules
// need, kept on the customer row so that deletion times can be recomputed in
// bulk without reading events.
type Timeline struct {
	// LatestEnd is the end of the latest event, past or future.
	LatestEnd  time.Time
	LatestKind EventKind
	// OpenVisits counts visits that started and have not ended: while one is
	// open the customer's latest event has no end yet.
	OpenVisits   int
	Visits       int
	Appointments int
}

// Observe records an event ending at end.
func (t *Timeline) Observe(kind EventKind, end time.Time) {
	if t.LatestKind == "" || end.After(t.LatestEnd) {
		t.LatestEnd, t.LatestKind = end, kind
	}
}

// Customer is a customer as Lethe holds it.
type Customer struct {
	ID string
	PersonalData
	Status          Status
	StatusChangedAt *time.Time
	CreatedAt       time.Time
	// TouchedAt is the creation or last edit, or the imported last
	// interaction: the customer's own event.
	TouchedAt time.Time
	// PolicyName is the explicitly assigned policy; empty means automatic.
	PolicyName string
	Timeline   Timeline
	// Relinquished is the data categories relinquished so far, and when.
	Relinquished Relinquished
	// AnonymisedAt is when contact data was anonymised, nothing else.
	AnonymisedAt *time.Time
	ErasedAt     *time.Time
	// HeldUntil is set while a legal hold may be active: the latest end of
	// the active holds, or HoldForever for a hold without end.
	HeldUntil *time.Time
}

// HoldForever stands for a legal hold without an end date.
var HoldForever = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// Held reports whether the customer is under an active legal hold at now.
func (c *Customer) Held(now time.Time) bool {
	return c.HeldUntil != nil && c.HeldUntil.After(now)
}

// Subject is how connectors know the customer.
func (c *Customer) Subject() Subject {
	s := Subject{CustomerID: c.ID}
	if c.FirstName != nil {
		s.FirstName = *c.FirstName
	}
	if c.LastName != nil {
		s.LastName = *c.LastName
	}
	if c.Email != nil {
		s.Email = *c.Email
	}
	if c.Phone != nil {
		s.Phone = *c.Phone
	}
	return s
}

// Appointment is a booked appointment of a customer, past or future.
type Appointment struct {
	ID         string
	CustomerID string
	StartsAt   time.Time
	EndsAt     time.Time
}

// CustomFieldValue is a value of one custom field of a visit.
type CustomFieldValue struct {
	Field string
	Value *string
}

// Visit is a visit of a customer or of a walk-in visitor.
type Visit struct {
	ID         string
	CustomerID string // empty for a walk-in visitor
	// Visitor is data stored on the visit itself; erased when it ends.
	Visitor      *PersonalData
	StartedAt    time.Time
	EndedAt      *time.Time
	CustomFields []CustomFieldValue
	// Storage is the custom-field storage settings in force when the visit
	// started: a visit keeps them whatever changes later.
	Storage CustomFieldStorage
	// StatsPending: the visit has ended and not every connector that
	// records visits has it yet.
	StatsPending bool
}

// LegalHold blocks every erasure and anonymisation of a customer while
// active.
type LegalHold struct {
	ID         string
	CustomerID string
	Reason     string
	PlacedAt   time.Time
	Until      *time.Time
	ReleasedAt *time.Time
}

// Active reports whether the hold blocks relinquishing at now.
func (h LegalHold) Active(now time.Time) bool {
	return h.ReleasedAt == nil && (h.Until == nil || h.Until.After(now))
}
