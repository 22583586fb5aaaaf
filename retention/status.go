package retention

import (
	"context"
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
	events, err := r.AuditLog(ctx, AuditQuery{First: maxStatusHistory, Subject: c.ID, Action: AuditCustomerStatus})
	if err != nil {
		return nil, err
	}
	seen := map[statusChange]bool{}
	var out []statusChange
	add := func(s Status, at time.Time) {
		ch := statusChange{s, at.UTC()}
		if s.Valid() && !seen[ch] {
			seen[ch] = true
			out = append(out, ch)
		}
	}
	for _, e := range events {
		at := e.At
		if v, ok := e.Details["at"].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				at = t
			}
		}
		if imported, ok := e.Details["imported"].(string); ok {
			add(Status(imported), at)
			continue
		}
		if st, ok := e.Details["status"].(map[string]any); ok {
			if n, _ := st["new"].(string); n != "" && n != st["old"] {
				add(Status(n), at)
			}
		}
	}
	if c.StatusChangedAt != nil {
		add(c.Status, *c.StatusChangedAt)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
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
