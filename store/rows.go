package store

import (
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
)

// Times are stored as microseconds since the epoch: see the migrations.
func toMicros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func toMicrosPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

func fromMicrosPtr(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := fromMicros(*us)
	return &t
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func strVal(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

type policyRow struct {
	bun.BaseModel `bun:"table:retention_policies"`

	Name          string `bun:"name,pk"`
	Description   string `bun:"description"`
	RetentionDays int    `bun:"retention_days"`
	DefaultDays   int    `bun:"default_days"`
	BuiltIn       bool   `bun:"built_in"`
	Version       int    `bun:"version"`
	UpdatedAt     int64  `bun:"updated_at"`
}

func policyFromDomain(p retention.Policy, now int64) *policyRow {
	return &policyRow{Name: p.Name, Description: p.Description, RetentionDays: p.RetentionDays,
		DefaultDays: p.DefaultDays, BuiltIn: p.BuiltIn, Version: p.Version, UpdatedAt: now}
}

func (r *policyRow) domain() retention.Policy {
	return retention.Policy{Name: r.Name, Description: r.Description, RetentionDays: r.RetentionDays,
		DefaultDays: r.DefaultDays, BuiltIn: r.BuiltIn, Version: r.Version}
}

type settingRow struct {
	bun.BaseModel `bun:"table:settings"`

	Key       string `bun:"key,pk"`
	Value     string `bun:"value"`
	UpdatedAt int64  `bun:"updated_at"`
}

type customerRow struct {
	bun.BaseModel `bun:"table:customers"`

	ID               string  `bun:"id,pk"`
	FirstName        *string `bun:"first_name"`
	LastName         *string `bun:"last_name"`
	Email            *string `bun:"email"`
	Phone            *string `bun:"phone"`
	SearchWords      *string `bun:"search_words"`
	NameKey          *string `bun:"name_key"`
	Status           string  `bun:"status"`
	StatusChangedAt  *int64  `bun:"status_changed_at"`
	CreatedAt        int64   `bun:"created_at"`
	TouchedAt        int64   `bun:"touched_at"`
	PolicyName       *string `bun:"policy_name"`
	LatestEventEnd   int64   `bun:"latest_event_end"`
	LatestEventKind  string  `bun:"latest_event_kind"`
	OpenVisits       int     `bun:"open_visits"`
	VisitCount       int     `bun:"visit_count"`
	AppointmentCount int     `bun:"appointment_count"`
	Relinquished     string  `bun:"relinquished"`
	AnonymisedAt     *int64  `bun:"anonymised_at"`
	ErasedAt         *int64  `bun:"erased_at"`
	HeldUntil        *int64  `bun:"held_until"`
	// The anchors the rules' ranges read besides the columns above
	// (retention/cutoffs.go), derived from the customer on every write.
	PolicyGroup      string `bun:"policy_group"`
	RelinquishedMask int    `bun:"relinquished_mask"`
}

// customerFromDomain leaves SearchWords unset: queries.customerRow adds it.
func customerFromDomain(c *retention.Customer) *customerRow {
	r := &customerRow{
		ID: c.ID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
		Status: string(c.Status), StatusChangedAt: toMicrosPtr(c.StatusChangedAt),
		CreatedAt: toMicros(c.CreatedAt), TouchedAt: toMicros(c.TouchedAt), PolicyName: strPtr(c.PolicyName),
		LatestEventEnd: toMicros(c.Timeline.LatestEnd), LatestEventKind: string(c.Timeline.LatestKind),
		OpenVisits: c.Timeline.OpenVisits, VisitCount: c.Timeline.Visits, AppointmentCount: c.Timeline.Appointments,
		Relinquished: relinquishedJSON(c.Relinquished),
		AnonymisedAt: toMicrosPtr(c.AnonymisedAt), ErasedAt: toMicrosPtr(c.ErasedAt), HeldUntil: toMicrosPtr(c.HeldUntil),
		PolicyGroup: retention.PolicyGroupOf(c), RelinquishedMask: retention.CategoryMask(c.Relinquished),
	}
	return r
}

func (r *customerRow) domain() *retention.Customer {
	return &retention.Customer{
		ID:           r.ID,
		PersonalData: retention.PersonalData{FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Phone: r.Phone},
		Status:       retention.Status(r.Status), StatusChangedAt: fromMicrosPtr(r.StatusChangedAt),
		CreatedAt: fromMicros(r.CreatedAt), TouchedAt: fromMicros(r.TouchedAt), PolicyName: strVal(r.PolicyName),
		Timeline: retention.Timeline{LatestEnd: fromMicros(r.LatestEventEnd), LatestKind: retention.EventKind(r.LatestEventKind),
			OpenVisits: r.OpenVisits, Visits: r.VisitCount, Appointments: r.AppointmentCount},
		Relinquished: parseRelinquished(r.Relinquished),
		AnonymisedAt: fromMicrosPtr(r.AnonymisedAt), ErasedAt: fromMicrosPtr(r.ErasedAt), HeldUntil: fromMicrosPtr(r.HeldUntil),
	}
}

// relinquishedJSON stores the relinquished categories as a JSON object of
// category to microseconds: keys are the only quoted strings in it, so a
// migration can test a category with a plain substring search.
func relinquishedJSON(r retention.Relinquished) string {
	m := make(map[string]int64, len(r))
	for c, at := range r {
		m[c] = toMicros(at)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func parseRelinquished(s string) retention.Relinquished {
	var m map[string]int64
	if json.Unmarshal([]byte(s), &m) != nil || len(m) == 0 {
		return nil
	}
	out := make(retention.Relinquished, len(m))
	for c, us := range m {
		out[c] = fromMicros(us)
	}
	return out
}

type appointmentRow struct {
	bun.BaseModel `bun:"table:appointments"`

	ID         string `bun:"id,pk"`
	CustomerID string `bun:"customer_id"`
	StartsAt   int64  `bun:"starts_at"`
	EndsAt     int64  `bun:"ends_at"`
}

func appointmentFromDomain(a retention.Appointment) *appointmentRow {
	return &appointmentRow{ID: a.ID, CustomerID: a.CustomerID, StartsAt: toMicros(a.StartsAt), EndsAt: toMicros(a.EndsAt)}
}

func (r *appointmentRow) domain() retention.Appointment {
	return retention.Appointment{ID: r.ID, CustomerID: r.CustomerID, StartsAt: fromMicros(r.StartsAt), EndsAt: fromMicros(r.EndsAt)}
}

type visitRow struct {
	bun.BaseModel `bun:"table:visits"`

	ID               string  `bun:"id,pk"`
	CustomerID       *string `bun:"customer_id"`
	VisitorFirstName *string `bun:"visitor_first_name"`
	VisitorLastName  *string `bun:"visitor_last_name"`
	VisitorEmail     *string `bun:"visitor_email"`
	VisitorPhone     *string `bun:"visitor_phone"`
	StartedAt        int64   `bun:"started_at"`
	EndedAt          *int64  `bun:"ended_at"`
	CustomFields     string  `bun:"custom_fields"`
	FieldStorage     string  `bun:"field_storage"`
	StatsPending     int     `bun:"stats_pending"`
}

type customFieldJSON struct {
	Field string  `json:"field"`
	Value *string `json:"value"`
}

func visitFromDomain(v retention.Visit) *visitRow {
	r := &visitRow{ID: v.ID, CustomerID: strPtr(v.CustomerID), StartedAt: toMicros(v.StartedAt), EndedAt: toMicrosPtr(v.EndedAt)}
	if v.StatsPending {
		r.StatsPending = 1
	}
	if v.Visitor != nil {
		r.VisitorFirstName, r.VisitorLastName, r.VisitorEmail, r.VisitorPhone = v.Visitor.FirstName, v.Visitor.LastName, v.Visitor.Email, v.Visitor.Phone
	}
	fields := make([]customFieldJSON, 0, len(v.CustomFields))
	for _, f := range v.CustomFields {
		fields = append(fields, customFieldJSON{f.Field, f.Value})
	}
	b, _ := json.Marshal(fields)
	r.CustomFields = string(b)
	storage := v.Storage
	if storage == nil {
		storage = retention.CustomFieldStorage{}
	}
	b, _ = json.Marshal(storage)
	r.FieldStorage = string(b)
	return r
}

// domain is the visit, or an error when its custom fields or their storage
// settings cannot be read (a field read as absent would never be erased).
func (r *visitRow) domain() (retention.Visit, error) {
	v := retention.Visit{ID: r.ID, CustomerID: strVal(r.CustomerID), StartedAt: fromMicros(r.StartedAt), EndedAt: fromMicrosPtr(r.EndedAt),
		StatsPending: r.StatsPending == 1}
	visitor := retention.PersonalData{FirstName: r.VisitorFirstName, LastName: r.VisitorLastName, Email: r.VisitorEmail, Phone: r.VisitorPhone}
	if !visitor.Empty() {
		v.Visitor = &visitor
	}
	var fields []customFieldJSON
	if err := json.Unmarshal([]byte(r.CustomFields), &fields); err != nil {
		return retention.Visit{}, decodeError("visit", r.ID, "custom fields", err)
	}
	for _, f := range fields {
		v.CustomFields = append(v.CustomFields, retention.CustomFieldValue{Field: f.Field, Value: f.Value})
	}
	v.Storage = retention.CustomFieldStorage{}
	if err := json.Unmarshal([]byte(r.FieldStorage), &v.Storage); err != nil {
		return retention.Visit{}, decodeError("visit", r.ID, "field storage", err)
	}
	return v, nil
}

type holdRow struct {
	bun.BaseModel `bun:"table:legal_holds"`

	ID         string `bun:"id,pk"`
	CustomerID string `bun:"customer_id"`
	Reason     string `bun:"reason"`
	PlacedAt   int64  `bun:"placed_at"`
	Until      *int64 `bun:"until"`
	ReleasedAt *int64 `bun:"released_at"`
}

func holdFromDomain(h retention.LegalHold) *holdRow {
	return &holdRow{ID: h.ID, CustomerID: h.CustomerID, Reason: h.Reason, PlacedAt: toMicros(h.PlacedAt),
		Until: toMicrosPtr(h.Until), ReleasedAt: toMicrosPtr(h.ReleasedAt)}
}

func (r *holdRow) domain() retention.LegalHold {
	return retention.LegalHold{ID: r.ID, CustomerID: r.CustomerID, Reason: r.Reason, PlacedAt: fromMicros(r.PlacedAt),
		Until: fromMicrosPtr(r.Until), ReleasedAt: fromMicrosPtr(r.ReleasedAt)}
}
