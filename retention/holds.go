package retention

import (
	"context"
	"strings"
	"time"
)

// PlaceLegalHold blocks every erasure and anonymisation of a customer until
// the hold is released or its end passes. Not an event: no clock changes.
// Errors: BAD_USER_INPUT, NOT_FOUND.
func (s *Service) PlaceLegalHold(ctx context.Context, customerID, reason string, until *time.Time) (LegalHold, error) {
	if err := validateText("reason", reason); err != nil {
		return LegalHold{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return LegalHold{}, FieldErrorf("reason", "a legal hold needs a reason")
	}
	now := s.Now()
	if until != nil {
		if err := CheckRange("until", *until); err != nil {
			return LegalHold{}, err
		}
		if !until.After(now) {
			return LegalHold{}, FieldErrorf("until", "until %s has already passed", FormatTime(*until))
		}
		u := until.UTC()
		until = &u
	}
	h := LegalHold{ID: NewID("hold_"), CustomerID: customerID, Reason: reason, PlacedAt: now, Until: until}
	_, err := s.updateCustomer(ctx, customerID, AuditLegalHoldPlace, func(tx Tx, c *Customer) (map[string]any, error) {
		if err := tx.InsertLegalHold(ctx, h); err != nil {
			return nil, err
		}
		// The reason is free text that may name people: the hold keeps it,
		// the audit log does not.
		details := map[string]any{"holdId": h.ID}
		if h.Until != nil {
			details["until"] = FormatTime(*h.Until)
		}
		return details, s.refreshHold(ctx, tx, c)
	})
	return h, err
}

// ReleaseLegalHold ends a hold now. Releasing a released hold changes
// nothing. Errors: NOT_FOUND.
func (s *Service) ReleaseLegalHold(ctx context.Context, id string) (string, error) {
	err := s.store.Update(ctx, func(tx Tx) error {
		h, err := tx.LegalHold(ctx, id)
		if err != nil {
			return err
		}
		if h.ReleasedAt != nil {
			return nil
		}
		now := s.Now()
		h.ReleasedAt = &now
		if err := tx.SaveLegalHold(ctx, *h); err != nil {
			return err
		}
		c, err := tx.Customer(ctx, h.CustomerID)
		if err != nil {
			return err
		}
		if err := s.refreshHold(ctx, tx, c); err != nil {
			return err
		}
		if err := tx.SaveCustomer(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditLegalHoldRelease, c.ID, map[string]any{"holdId": h.ID})
	})
	return id, err
}

// refreshHold derives c.HeldUntil from its active holds.
func (s *Service) refreshHold(ctx context.Context, r Reader, c *Customer) error {
	holds, err := r.LegalHolds(ctx, []string{c.ID})
	if err != nil {
		return err
	}
	now := s.Now()
	var until *time.Time
	for _, h := range holds[c.ID] {
		if !h.Active(now) {
			continue
		}
		end := HoldForever
		if h.Until != nil {
			end = *h.Until
		}
		if until == nil || end.After(*until) {
			e := end
			until = &e
		}
	}
	c.HeldUntil = until
	return nil
}

// LegalHolds lists the holds of customers, released ones included.
func (s *Service) LegalHolds(ctx context.Context, customerIDs []string) (map[string][]LegalHold, error) {
	return s.store.LegalHolds(ctx, customerIDs)
}
