package retention

import (
	"context"
	"slices"
	"sort"
	"time"
)

// statusChange is one recorded status change.
type statusChange struct {
	Status Status
	At     time.Time
}

// maxStatusHistory bounds the status changes read for one customer.
const maxStatusHistory = 10000

// statusHistory is every status change recorded for c, in time order: the
// audit log keeps each one (current or imported as history), and c's
// current status is one too (customers loaded in bulk have no audit event).
func statusHistory(ctx context.Context, r Reader, c *Customer) ([]statusChange, error) {
	recorded, err := recordedStatusChanges(ctx, r, []string{c.ID})
	if err != nil {
		return nil, err
	}
	out := recorded[c.ID]
	if c.StatusChangedAt != nil {
		out = addStatusChange(out, c.Status, *c.StatusChangedAt)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// StatusChangeTimes is, for each customer of ids, when the status changes
// recorded in the audit log happened, read in one query (a page of
// customers asks for all of them at once).
func (s *Service) StatusChangeTimes(ctx context.Context, ids []string) (map[string][]time.Time, error) {
	recorded, err := recordedStatusChanges(ctx, s.store, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]time.Time, len(recorded))
	for id, changes := range recorded {
		for _, ch := range changes {
			out[id] = append(out[id], ch.At)
		}
	}
	return out, nil
}

// recordedStatusChanges is the status changes the audit log holds for
// each customer of ids, unordered and without duplicates.
func recordedStatusChanges(ctx context.Context, r Reader, ids []string) (map[string][]statusChange, error) {
	out := map[string][]statusChange{}
	if len(ids) == 0 {
		return out, nil
	}
	q := AuditQuery{First: maxStatusHistory * len(ids), Action: AuditCustomerStatus}
	if len(ids) == 1 {
		q.Subject = ids[0]
	} else {
		q.Subjects = ids
	}
	events, err := r.AuditLog(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		at := e.At
		if v, ok := e.Details["at"].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				at = t
			}
		}
		if imported, ok := e.Details["imported"].(string); ok {
			out[e.Subject] = addStatusChange(out[e.Subject], Status(imported), at)
			continue
		}
		if st, ok := e.Details["status"].(map[string]any); ok {
			if n, _ := st["new"].(string); n != "" && n != st["old"] {
				out[e.Subject] = addStatusChange(out[e.Subject], Status(n), at)
			}
		}
	}
	return out, nil
}

// addStatusChange appends a valid change that history does not hold yet.
func addStatusChange(history []statusChange, s Status, at time.Time) []statusChange {
	ch := statusChange{s, at.UTC()}
	if !s.Valid() || slices.Contains(history, ch) {
		return history
	}
	return append(history, ch)
}

// currentStatus is the status of the latest change in time, and since when
// the customer has been in it: the first of the changes to that status that
// follow the last change to another one (a change to the status the
// customer already had then is no change). ok is false without changes.
func currentStatus(history []statusChange) (Status, time.Time, bool) {
	if len(history) == 0 {
		return "", time.Time{}, false
	}
	last := history[len(history)-1]
	since := last.At
	for i := len(history) - 2; i >= 0 && history[i].Status == last.Status; i-- {
		since = history[i].At
	}
	return last.Status, since, true
}
