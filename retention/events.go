package retention

import (
	"context"
	"time"
)

// BookAppointment books an appointment, past (imports) or future; its end
// moves the customer's clock. Errors: BAD_USER_INPUT, NOT_FOUND.
func (s *Service) BookAppointment(ctx context.Context, customerID string, startsAt, endsAt time.Time) (Appointment, error) {
	if err := CheckRange("startsAt", startsAt); err != nil {
		return Appointment{}, err
	}
	if err := CheckRange("endsAt", endsAt); err != nil {
		return Appointment{}, err
	}
	if !endsAt.After(startsAt) {
		return Appointment{}, FieldErrorf("endsAt", "endsAt must be after startsAt")
	}
	if endsAt.Sub(startsAt) > 31*Day {
		return Appointment{}, FieldErrorf("endsAt", "an appointment may last at most 31 days")
	}
	a := Appointment{ID: NewID("apt_"), CustomerID: customerID, StartsAt: startsAt.UTC(), EndsAt: endsAt.UTC()}
	_, err := s.updateCustomer(ctx, customerID, AuditAppointmentBook, func(tx Tx, c *Customer) (map[string]any, error) {
		c.Timeline.Appointments++
		c.Timeline.Observe(EventAppointment, a.EndsAt)
		details := map[string]any{"appointmentId": a.ID, "startsAt": FormatTime(a.StartsAt), "endsAt": FormatTime(a.EndsAt)}
		return details, tx.InsertAppointment(ctx, a)
	})
	return a, err
}

// Appointments lists the appointments of customers, by customer id.
func (s *Service) Appointments(ctx context.Context, customerIDs []string) (map[string][]Appointment, error) {
	return s.store.Appointments(ctx, customerIDs)
}

// Visits lists the visits of customers, by customer id.
func (s *Service) Visits(ctx context.Context, customerIDs []string) (map[string][]Visit, error) {
	return s.store.Visits(ctx, customerIDs)
}

// Visit returns one visit. Errors: NOT_FOUND.
func (s *Service) Visit(ctx context.Context, id string) (*Visit, error) {
	return s.store.Visit(ctx, id)
}

// VisitInput starts a visit: of a known customer, or of a walk-in visitor
// whose data is stored on the visit until it ends.
type VisitInput struct {
	CustomerID   *string
	Visitor      *PersonalData
	CustomFields []CustomFieldValue
}

// StartVisit opens a visit. While it is open the customer has no deletion
// time. Errors: BAD_USER_INPUT, NOT_FOUND.
func (s *Service) StartVisit(ctx context.Context, in VisitInput) (*Visit, error) {
	if in.CustomerID != nil && in.Visitor != nil {
		return nil, FieldErrorf("visitor", "give either customerId or visitor, not both: a known customer's data is kept on the customer")
	}
	if err := ValidateCustomFieldValues(in.CustomFields); err != nil {
		return nil, err
	}
	v := &Visit{ID: NewID("vis_"), StartedAt: s.Now(), CustomFields: in.CustomFields}
	if in.Visitor != nil {
		data, err := NormalizePersonalData("visitor.", *in.Visitor)
		if err != nil {
			return nil, err
		}
		if !data.Empty() {
			v.Visitor = &data
		}
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		storage, err := tx.CustomFieldStorage(ctx)
		if err != nil {
			return err
		}
		v.Storage = storage
		if v.Visitor != nil {
			prefs, err := tx.FieldPreferences(ctx)
			if err != nil {
				return err
			}
			if err := prefs.CheckVisitorInput(*v.Visitor); err != nil {
				return err
			}
		}
		if in.CustomerID != nil {
			c, err := s.liveCustomer(ctx, tx, *in.CustomerID)
			if err != nil {
				return err
			}
			v.CustomerID = c.ID
			c.Timeline.Visits++
			c.Timeline.OpenVisits++
			c.Timeline.Observe(EventVisit, v.StartedAt)
			if err := tx.SaveCustomer(ctx, c); err != nil {
				return err
			}
		}
		if err := tx.InsertVisit(ctx, *v); err != nil {
			return err
		}
		// A walk-in's visit is its own subject; only field names are kept.
		details := map[string]any{"visitId": v.ID, "customFields": customFieldNames(v.CustomFields)}
		subject := v.CustomerID
		if subject == "" {
			subject = v.ID
			visitor := []string{}
			if v.Visitor != nil {
				for _, f := range AllFields {
					if v.Visitor.Get(f) != nil {
						visitor = append(visitor, f.InputName())
					}
				}
			}
			details["visitorFields"] = visitor
		}
		return s.audit(ctx, tx, AuditVisitStart, subject, details)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// EndVisit closes a visit: the visitor data stored on it is erased at once,
// the customer's clock restarts from now, and the visit goes to connectors
// that record visits, with only the custom fields whose storage was on when
// it started. Errors: BAD_USER_INPUT (already ended), NOT_FOUND.
func (s *Service) EndVisit(ctx context.Context, id string) (*Visit, error) {
	var v *Visit
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		v, err = tx.Visit(ctx, id)
		if err != nil {
			return err
		}
		if v.EndedAt != nil {
			return FieldErrorf("id", "visit %s already ended at %s", id, FormatTime(*v.EndedAt))
		}
		now := s.Now()
		v.EndedAt, v.Visitor, v.StatsPending = &now, nil, true
		if v.CustomerID != "" {
			c, err := tx.Customer(ctx, v.CustomerID)
			if err != nil {
				return err
			}
			if c.ErasedAt == nil {
				if c.Timeline.OpenVisits > 0 {
					c.Timeline.OpenVisits--
				}
				c.Timeline.Observe(EventVisit, now)
				if err := tx.SaveCustomer(ctx, c); err != nil {
					return err
				}
			}
		}
		if err := tx.SaveVisit(ctx, *v); err != nil {
			return err
		}
		subject := v.CustomerID
		if subject == "" {
			subject = v.ID
		}
		return s.audit(ctx, tx, AuditVisitEnd, subject, map[string]any{"visitId": v.ID})
	})
	if err != nil {
		return nil, err
	}
	// Delivered now when the connectors answer, else by DeliverPendingVisits.
	if n, err := s.deliverVisits(ctx, []Visit{*v}); err != nil {
		s.log.WarnContext(ctx, "ended visit not yet recorded by every connector; retried later", "visit", v.ID, "err", err)
	} else if n == 1 {
		v.StatsPending = false
	}
	return v, nil
}

// VisitRecordOf is what connectors that record visits receive of v.
func VisitRecordOf(v *Visit) VisitRecord {
	r := VisitRecord{VisitID: v.ID, CustomerID: v.CustomerID, StartedAt: v.StartedAt, CustomFields: map[string]string{}}
	if v.EndedAt != nil {
		r.EndedAt = *v.EndedAt
	}
	for _, f := range v.CustomFields {
		if v.Storage[f.Field] && f.Value != nil {
			r.CustomFields[f.Field] = *f.Value
		}
	}
	return r
}

// deliverVisits sends ended visits to every connector that records visits
// and clears their pending mark when all of them have them. Connectors
// ignore a visit id they have seen, so a retry is harmless.
func (s *Service) deliverVisits(ctx context.Context, visits []Visit) (int, error) {
	// A customer a sweep is relinquishing gets no new statistics: the
	// sweep may already have deleted theirs. Their visits wait, and go out
	// without a customer once the sweep has unlinked them.
	var customerIDs []string
	for _, v := range visits {
		if v.CustomerID != "" {
			customerIDs = append(customerIDs, v.CustomerID)
		}
	}
	busy, err := s.store.CustomersWithOpenEntries(ctx, customerIDs)
	if err != nil {
		return 0, err
	}
	var records []VisitRecord
	var ids []string
	for i := range visits {
		if !busy[visits[i].CustomerID] {
			records, ids = append(records, VisitRecordOf(&visits[i])), append(ids, visits[i].ID)
		}
	}
	if len(records) == 0 {
		return 0, nil
	}
	if s.connectors != nil {
		for _, st := range s.connectors.Connectors(ctx) {
			if !HasString(st.Info.Capabilities, CapabilityRecordVisits) {
				continue
			}
			conn, err := s.connectors.Connector(ctx, st.Info.Name)
			if err == nil {
				err = conn.RecordVisits(ctx, records)
			}
			if err != nil {
				return 0, Errorf(CodeConnectorUnavailable, "connector %s did not record %d visits: %s", st.Info.Name, len(records), ErrorMessage(err))
			}
		}
	}
	return len(ids), s.store.Update(ctx, func(tx Tx) error { return tx.VisitRecordsDelivered(ctx, ids) })
}

// DeliverPendingVisits sends the ended visits that a connector missed
// (it was down when they ended); it returns how many were delivered.
func (s *Service) DeliverPendingVisits(ctx context.Context) (int, error) {
	n, after := 0, ""
	for {
		visits, err := s.store.PendingVisitRecords(ctx, after, 200)
		if err != nil || len(visits) == 0 {
			return n, err
		}
		after = visits[len(visits)-1].ID
		delivered, err := s.deliverVisits(ctx, visits)
		n += delivered
		if err != nil {
			return n, err
		}
	}
}

func customFieldNames(values []CustomFieldValue) []string {
	out := []string{}
	for _, f := range values {
		out = append(out, f.Field)
	}
	return out
}

func HasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
