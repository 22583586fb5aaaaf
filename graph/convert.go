package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/lethe-privacy/lethe/graph/model"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
)

// Translations between the domain and the GraphQL models.

func policyModel(p retention.Policy) *model.RetentionPolicy {
	return &model.RetentionPolicy{ID: policyIDPrefix + p.Name, Name: p.Name, Description: p.Description, RetentionDays: p.RetentionDays,
		DefaultDays: p.DefaultDays, BuiltIn: p.BuiltIn, Version: p.Version}
}

func dataPolicyModel(d retention.DataPolicy) *model.DataPolicy {
	return &model.DataPolicy{ID: dataPolicyID, RelinquishDeletedData: d.RelinquishDeletedData, RelinquishAfterDays: d.RelinquishAfterDays,
		AnonymiseCustomerData: d.AnonymiseCustomerData, RemoveCDRs: d.RemoveCDRs, UsesDefault: d.UsesDefault()}
}

func (r *Resolver) customerModel(c *retention.Customer) *model.Customer {
	return &model.Customer{ID: c.ID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
		Status: model.CustomerStatus(c.Status), StatusChangedAt: c.StatusChangedAt, RetentionPolicyAssigned: c.PolicyName != "",
		DeletionTime: r.Service.DeletionTime(c), AnonymisedAt: c.AnonymisedAt, CreatedAt: c.CreatedAt, Domain: c}
}

func appointmentModel(a retention.Appointment) model.Appointment {
	return model.Appointment{ID: a.ID, StartsAt: a.StartsAt, EndsAt: a.EndsAt, CustomerID: a.CustomerID}
}

func visitModel(v *retention.Visit) *model.Visit {
	m := &model.Visit{ID: v.ID, StartedAt: v.StartedAt, EndedAt: v.EndedAt, CustomerID: v.CustomerID, CustomFields: []model.CustomFieldValue{}}
	if v.Visitor != nil {
		m.Visitor = &model.Visitor{FirstName: v.Visitor.FirstName, LastName: v.Visitor.LastName, Email: v.Visitor.Email, Phone: v.Visitor.Phone}
	}
	for _, f := range v.CustomFields {
		m.CustomFields = append(m.CustomFields, model.CustomFieldValue{Field: f.Field, Value: f.Value})
	}
	return m
}

func holdModel(h retention.LegalHold, r *Resolver) *model.LegalHold {
	return &model.LegalHold{ID: h.ID, Reason: h.Reason, PlacedAt: h.PlacedAt, Until: h.Until, ReleasedAt: h.ReleasedAt,
		Active: h.Active(r.Service.Now())}
}

func fieldPreferencesModel(p retention.FieldPreferences) *model.FieldPreferences {
	out := &model.FieldPreferences{ID: fieldPreferencesID, CollectionEnabled: p.CollectionEnabled}
	for _, f := range retention.AllFields {
		out.Fields = append(out.Fields, model.FieldPreference{Field: model.CustomerField(f), Mode: model.FieldMode(p.Mode(f))})
	}
	return out
}

func customFieldStorageModel(s retention.CustomFieldStorage, labels map[string]string) []model.CustomFieldStorage {
	out := make([]model.CustomFieldStorage, 0, len(retention.CustomFields))
	for _, f := range retention.CustomFields {
		m := model.CustomFieldStorage{Field: f, StoreInStatDatabase: s[f]}
		if l, ok := labels[f]; ok {
			m.Label = &l
		}
		out = append(out, m)
	}
	return out
}

// customFields is every custom field's storage setting and label.
func (r *Resolver) customFields(ctx context.Context, s retention.CustomFieldStorage) ([]model.CustomFieldStorage, error) {
	labels, err := r.Service.CustomFieldLabels(ctx)
	if err != nil {
		return nil, err
	}
	return customFieldStorageModel(s, labels), nil
}

func personalData(first, last, email, phone *string) retention.PersonalData {
	return retention.PersonalData{FirstName: first, LastName: last, Email: email, Phone: phone}
}

// customerByID answers null for unknown and erased customers.
func (r *Resolver) customerByID(ctx context.Context, id string) (*model.Customer, error) {
	c, err := r.Service.Customer(ctx, id)
	if retention.ErrorCode(err) == retention.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.customerModel(c), nil
}

// progressInterval is how often a progress subscription looks at its run.
const progressInterval = 250 * time.Millisecond

// previewOptions leaves a preview's forecast out when the request does not
// select it: most of a preview's cost, for an answer nobody reads.
func previewOptions(ctx context.Context) []relinquish.PreviewOption {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == "forecast" {
			return nil
		}
	}
	return []relinquish.PreviewOption{relinquish.WithoutForecast()}
}

func runModel(r retention.Run) *model.RetentionRun {
	m := &model.RetentionRun{ID: r.ID, DryRun: r.DryRun, Status: model.RunStatus(r.Status), StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, AsOf: r.AsOf, Trigger: r.Trigger, Actor: r.Actor, CustomersPlanned: r.CustomersPlanned,
		CustomersDone: r.CustomersDone, CustomersFailed: r.CustomersFailed, CustomersSkipped: r.CustomersSkipped,
		ActionsPlanned: r.ActionsPlanned, AddedByChange: r.AddedByChange, RemovedByChange: r.RemovedByChange,
		ThrottledSeconds: r.ThrottledSeconds}
	if r.Error != "" {
		m.Error = &r.Error
	}
	if r.Forecast != nil {
		m.Forecast = forecastModel(*r.Forecast)
	}
	return m
}

// actorName names who calls, for runs started through the API.
func actorName(ctx context.Context) string {
	if a, ok := retention.ActorFrom(ctx); ok {
		return a.Name
	}
	return retention.ActorSystem
}

// selects reports whether the current field's selection asks for any of
// names (through fragments too), so that a resolver skips work nobody reads.
func selects(ctx context.Context, names ...string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if slices.Contains(names, f.Name) {
			return true
		}
	}
	return false
}

func receiptModel(rec *retention.Receipt) *model.ErasureReceipt {
	out := &model.ErasureReceipt{CustomerID: rec.CustomerID, ErasedAt: rec.ErasedAt, AnonymisedAt: rec.AnonymisedAt,
		Categories: []model.RelinquishedCategory{}, Entries: []model.ReceiptEntry{}}
	for _, c := range rec.Categories {
		out.Categories = append(out.Categories, model.RelinquishedCategory{Category: c.Category, RelinquishedAt: c.At})
	}
	for _, e := range rec.Entries {
		me := model.ReceiptEntry{Kind: string(e.Kind), At: e.At, Trigger: e.Trigger, By: e.By, Policy: e.Policy,
			PolicyVersion: e.PolicyVersion, Categories: e.Categories, Connectors: []model.ReceiptConnector{}}
		for _, c := range e.Connectors {
			me.Connectors = append(me.Connectors, model.ReceiptConnector{Connector: c.Connector, Operation: c.Operation,
				Outcome: string(c.Outcome), Records: c.Records, ResidueCheck: c.Residue})
		}
		out.Entries = append(out.Entries, me)
	}
	return out
}

// fieldModes turns the input into modes; a field given twice with
// different modes is refused rather than one of them silently winning.
func fieldModes(fields []model.FieldPreferenceInput) (map[retention.Field]retention.FieldMode, error) {
	modes := map[retention.Field]retention.FieldMode{}
	for i, f := range fields {
		field, mode := retention.Field(f.Field), retention.FieldMode(f.Mode)
		if prev, seen := modes[field]; seen && prev != mode {
			return nil, retention.FieldErrorf(fmt.Sprintf("fields[%d]", i), "field %s is given twice, as %s and as %s; give each field once", f.Field, prev, mode)
		}
		modes[field] = mode
	}
	return modes, nil
}

func forecastModel(f retention.Forecast) *model.RetentionForecast {
	m := &model.RetentionForecast{From: f.From, Overdue: &model.ForecastCount{Erase: f.Overdue.Erase, Anonymise: f.Overdue.Anonymise},
		Weeks: make([]model.ForecastWeek, len(f.Weeks))}
	for i, w := range f.Weeks {
		m.Weeks[i] = model.ForecastWeek{Start: w.Start, Erase: w.Erase, Anonymise: w.Anonymise}
	}
	return m
}

func auditModel(e retention.AuditEvent) *model.AuditEvent {
	m := &model.AuditEvent{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Sentence: e.Sentence()}
	if e.Subject != "" {
		m.Subject = &e.Subject
	}
	if len(e.Details) > 0 {
		if b, err := json.Marshal(e.Details); err == nil {
			m.Details = model.JSON(b)
		}
	}
	return m
}

// deref is the string or "" for an absent optional argument.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// pageInfo of a connection page of n edges: startCursor is the first
// edge's, endCursor the last's.
func pageInfo(hasNext bool, n int, cursor func(i int) string) *model.PageInfo {
	p := &model.PageInfo{HasNextPage: hasNext}
	if n > 0 {
		first, last := cursor(0), cursor(n-1)
		p.StartCursor, p.EndCursor = &first, &last
	}
	return p
}

// actionModel is one action of a run: the plan's line, with the
// connector's answer once there is one.
func actionModel(a retention.PlannedAction) *model.RetentionAction {
	m := &model.RetentionAction{CustomerID: a.CustomerID, Connector: a.Connector, Action: a.Action}
	if a.Outcome != "" {
		outcome, records := string(a.Outcome), a.Records
		m.Outcome, m.Records = &outcome, &records
	}
	return m
}

// models converts a list read with err for the API.
func models[A, B any](in []A, err error, model func(A) *B) ([]B, error) {
	if err != nil {
		return nil, err
	}
	out := make([]B, len(in))
	for i, a := range in {
		out[i] = *model(a)
	}
	return out, nil
}

// orNull converts one thing read with err for the API; a thing that does
// not exist is null, not an error.
func orNull[A, B any](v A, err error, model func(A) *B) (*B, error) {
	if retention.ErrorCode(err) == retention.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return model(v), nil
}
