// Package model holds the GraphQL models: generated ones in models_gen.go,
// and the few written by hand here that carry domain values for field
// resolvers.
package model

import (
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/lethe-privacy/lethe/retention"
)

// MarshalTime answers every time in RFC 3339 UTC.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339Nano))) //nolint:errcheck
	})
}

// rfc3339 is RFC 3339's date-time production (section 5.6) exactly: "T"
// and "Z" in either case (ABNF strings are case-insensitive), fractional
// seconds of any length, and an offset of two-digit hours and minutes.
// Ranges are checked after the match: offsets here, dates and times by
// time.Parse.
var rfc3339 = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))$`)

// UnmarshalTime accepts RFC 3339 date-times and nothing else: an offset
// beyond 23:59 (which Go's parser would take, a day off) and lowercase "t"
// or "z" (which it would refuse) follow the RFC. A malformed time is a
// BAD_USER_INPUT error that says what was expected.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, retention.FieldErrorf("time", "a time must be an RFC 3339 string such as 2026-01-31T09:30:00Z, got %T", v)
	}
	bad := func() (time.Time, error) {
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return time.Time{}, retention.FieldErrorf("time", "%q is not an RFC 3339 time such as 2026-01-31T09:30:00Z or 2026-01-31T10:30:00+01:00", s)
	}
	m := rfc3339.FindStringSubmatch(s)
	if m == nil {
		return bad()
	}
	offset := "Z"
	if m[3] != "" {
		if m[4] > "23" || m[5] > "59" {
			return bad()
		}
		offset = m[3] + m[4] + ":" + m[5]
	}
	t, err := time.Parse(time.RFC3339Nano, m[1]+"T"+m[2]+offset)
	if err != nil {
		return bad()
	}
	// Microseconds are what the databases keep; finer digits would make a
	// value differ from itself after a round trip.
	return t.UTC().Truncate(time.Microsecond), nil
}

// JSON is a JSON document passed through as is.
type JSON json.RawMessage

// MarshalJSON writes the document.
func MarshalJSON(j JSON) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if len(j) == 0 {
			io.WriteString(w, "null") //nolint:errcheck
			return
		}
		w.Write(j) //nolint:errcheck
	})
}

// UnmarshalJSON accepts any JSON value.
func UnmarshalJSON(v any) (JSON, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, retention.FieldErrorf("json", "not a JSON value: %v", err)
	}
	return JSON(b), nil
}

// Customer carries the domain customer (already masked by the collection
// preferences) for its field resolvers.
type Customer struct {
	ID                      string
	FirstName               *string
	LastName                *string
	Email                   *string
	Phone                   *string
	Status                  CustomerStatus
	StatusChangedAt         *time.Time
	RetentionPolicyAssigned bool
	DeletionTime            *time.Time
	AnonymisedAt            *time.Time
	CreatedAt               time.Time

	Domain *retention.Customer `json:"-"`
}

// Appointment carries the customer id for the customer resolver.
type Appointment struct {
	ID         string
	StartsAt   time.Time
	EndsAt     time.Time
	CustomerID string `json:"-"`
}

// Visit carries the customer id for the customer resolver.
type Visit struct {
	ID           string
	Visitor      *Visitor
	StartedAt    time.Time
	EndedAt      *time.Time
	CustomFields []CustomFieldValue
	CustomerID   string `json:"-"`
}

// RetentionRun carries the domain run for its list resolvers.
type RetentionRun struct {
	ID               string
	DryRun           bool
	Status           RunStatus
	StartedAt        time.Time
	FinishedAt       *time.Time
	AsOf             time.Time
	Trigger          string
	Actor            string
	CustomersPlanned int
	CustomersDone    int
	CustomersFailed  int
	CustomersSkipped int
	ActionsPlanned   int
	Error            *string
	// Forecast is set on previews only.
	Forecast         *RetentionForecast
	ThrottledSeconds float64
	// AddedByChange and RemovedByChange are set on previews only.
	AddedByChange   *int
	RemovedByChange *int
}

// Node: the hand-written models that implement the schema's Node interface.

func (Customer) IsNode()             {}
func (c Customer) GetID() string     { return c.ID }
func (Visit) IsNode()                {}
func (v Visit) GetID() string        { return v.ID }
func (RetentionRun) IsNode()         {}
func (r RetentionRun) GetID() string { return r.ID }
