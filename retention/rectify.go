package retention

import "context"

// UpdateCustomer corrects a customer's personal data (the right to
// rectification). Only the fields given change; a field given as "" (or
// blanks) is cleared. Values are checked as on creation; a field that is not
// collected now is refused, and a REQUIRED one cannot be cleared. Fields not
// given are not re-checked: a customer created before a field became
// REQUIRED can still have its name corrected.
//
// An edit that changes something is an event (DESIGN.md: "its creation or
// last edit"): it moves TouchedAt and the latest-event anchor, so the erase
// clock starts again from now. The audit event names the changed fields,
// never their values; the search terms follow the new values (SaveCustomer).
// An anonymised customer is refused: nothing relinquished comes back.
// Giving values equal to the stored ones changes nothing and records nothing.
// Errors: BAD_USER_INPUT naming the field, NOT_FOUND.
func (s *Service) UpdateCustomer(ctx context.Context, id string, in PersonalData) (*Customer, error) {
	given, cleared, err := normalizeCorrection(in)
	if err != nil {
		return nil, err
	}
	if given.Empty() && len(cleared) == 0 {
		return nil, FieldErrorf("input", "give at least one of firstName, lastName, email, phone to change")
	}
	var out *Customer
	err = s.store.Update(ctx, func(tx Tx) error {
		c, err := s.liveCustomer(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.AnonymisedAt != nil {
			// Nothing relinquished is ever restored.
			return FieldErrorf("id", "customer %s was anonymised at %s: its contact data cannot be set again", id, FormatTime(*c.AnonymisedAt))
		}
		prefs, err := tx.FieldPreferences(ctx)
		if err != nil {
			return err
		}
		if err := checkCorrection(prefs, given, cleared); err != nil {
			return err
		}
		changed := applyCorrection(c, given, cleared)
		out = c
		if len(changed) == 0 {
			return nil
		}
		now := s.Now()
		c.TouchedAt = now
		c.Timeline.Observe(EventEdited, now)
		if err := tx.SaveCustomer(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditCustomerUpdate, c.ID, map[string]any{"fields": changed})
	})
	if err != nil {
		return nil, err
	}
	return s.masked(ctx, out)
}

// normalizeCorrection splits a correction into the values to set (checked
// and trimmed as on creation) and the fields to clear (given blank).
func normalizeCorrection(in PersonalData) (PersonalData, []Field, error) {
	given, err := NormalizePersonalData("", in)
	if err != nil {
		return PersonalData{}, nil, err
	}
	var cleared []Field
	for _, f := range AllFields {
		if in.Get(f) != nil && given.Get(f) == nil {
			cleared = append(cleared, f)
		}
	}
	return given, cleared, nil
}

// checkCorrection applies the collection preferences to the fields a
// correction names.
func checkCorrection(prefs FieldPreferences, given PersonalData, cleared []Field) error {
	for _, f := range AllFields {
		if given.Get(f) == nil {
			continue
		}
		if !prefs.CollectionEnabled {
			return FieldErrorf(f.InputName(), "%s is not accepted: personal data collection is disabled", f.InputName())
		}
		if !prefs.Visible(f) {
			return FieldErrorf(f.InputName(), "%s is not collected (HIDDEN in the collection preferences)", f.InputName())
		}
	}
	for _, f := range cleared {
		if prefs.CollectionEnabled && prefs.Mode(f) == ModeRequired {
			return FieldErrorf(f.InputName(), "%s is required by the collection preferences and cannot be cleared", f.InputName())
		}
	}
	return nil
}

// applyCorrection writes the correction into c and returns the input names
// of the fields whose value changed.
func applyCorrection(c *Customer, given PersonalData, cleared []Field) []string {
	changed := []string{}
	for _, f := range AllFields {
		old, v := c.Get(f), given.Get(f)
		switch {
		case v != nil && (old == nil || *old != *v):
			c.Set(f, v)
		case v == nil && old != nil && containsField(cleared, f):
			c.Set(f, nil)
		default:
			continue
		}
		changed = append(changed, f.InputName())
	}
	return changed
}

func containsField(fs []Field, f Field) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}
