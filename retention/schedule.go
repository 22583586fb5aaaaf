package retention

import (
	"fmt"
	"strings"
	"time"
)

// Day is the unit of every retention period.
const Day = 24 * time.Hour

// Schedule is when Lethe will act on a customer, and why.
type Schedule struct {
	// Policy is the retention policy in force (explicit or automatic).
	Policy Policy
	// EraseAt is the end of the latest event plus the policy's days; nil
	// while a visit is open.
	EraseAt *time.Time
	// AnonymiseAt is when the data policy anonymises a CANCELLED or DELETED
	// customer; nil when it does not apply.
	AnonymiseAt *time.Time
	// DeletionTime is the earlier of the two: when Lethe next acts. It
	// ignores legal holds, which are applied at read and sweep time (see
	// Customer.HeldUntil) so that a hold's end needs no recomputation.
	DeletionTime *time.Time
	// Action says what happens at DeletionTime: ActionErase or ActionAnonymise.
	Action ActionKind
}

// ActionKind is what relinquishing does to a customer.
type ActionKind string

const (
	ActionErase     ActionKind = "erase"
	ActionAnonymise ActionKind = "anonymise"
)

// EffectivePolicy is the customer's explicit policy, or the automatic one.
func EffectivePolicy(c *Customer, policies PolicySet) Policy {
	if c.PolicyName != "" {
		if p, ok := policies[c.PolicyName]; ok {
			return p
		}
	}
	return policies.AutomaticPolicy(c.Timeline.Visits > 0, c.Timeline.Appointments > 0)
}

// AnonymiseRule is the data policy's rule (CutoffsAt turns it into bounds):
// customers in one of Statuses, with a status change, no open visit, and at
// least one of Categories not yet relinquished, are anonymised AfterDays
// after the status change, never before the end of the latest event.
type AnonymiseRule struct {
	Statuses   []Status
	AfterDays  int
	Categories []string
}

// Acts reports whether the rule applies to anybody.
func (r AnonymiseRule) Acts() bool { return len(r.Statuses) > 0 && len(r.Categories) > 0 }

// AnonymiseRuleOf is the data policy's rule.
func AnonymiseRuleOf(dp DataPolicy) AnonymiseRule {
	cats := dp.Categories()
	if len(cats) == 0 {
		return AnonymiseRule{}
	}
	return AnonymiseRule{Statuses: []Status{StatusCancelled, StatusDeleted}, AfterDays: dp.RelinquishAfterDays, Categories: cats}
}

// At is when the rule anonymises c, or nil.
func (r AnonymiseRule) At(c *Customer) *time.Time {
	if !r.Acts() || c.StatusChangedAt == nil || c.Timeline.OpenVisits > 0 || !hasStatus(r.Statuses, c.Status) ||
		len(c.Relinquished.Missing(r.Categories)) == 0 {
		return nil
	}
	at := c.StatusChangedAt.Add(time.Duration(r.AfterDays) * Day)
	if at.Before(c.Timeline.LatestEnd) {
		at = c.Timeline.LatestEnd
	}
	return &at
}

func hasStatus(list []Status, s Status) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ComputeSchedule applies DESIGN.md's rules to a customer. It is the single
// definition of the rules: nothing stores its result, and the cut-offs the
// store's ranges use (CutoffsAt) are tested against it.
func ComputeSchedule(c *Customer, policies PolicySet, dp DataPolicy) Schedule {
	s := Schedule{Policy: EffectivePolicy(c, policies)}
	if c.ErasedAt != nil || c.Timeline.OpenVisits > 0 {
		return s
	}
	erase := c.Timeline.LatestEnd.Add(time.Duration(s.Policy.RetentionDays) * Day)
	s.EraseAt = &erase
	s.AnonymiseAt = AnonymiseRuleOf(dp).At(c)
	s.DeletionTime, s.Action = s.EraseAt, ActionErase
	if s.AnonymiseAt != nil && s.AnonymiseAt.Before(*s.EraseAt) {
		s.DeletionTime, s.Action = s.AnonymiseAt, ActionAnonymise
	}
	return s
}

// DeletionReason explains a customer's deletion time: which rule, from which
// event, and what pushes it out. now decides which holds and appointments
// still lie ahead.
func DeletionReason(c *Customer, policies PolicySet, dp DataPolicy, now time.Time) string {
	if c.ErasedAt != nil {
		return "erased at " + FormatTime(*c.ErasedAt)
	}
	s := ComputeSchedule(c, policies, dp)
	if c.Held(now) {
		if c.HeldUntil.Equal(HoldForever) {
			return "no deletion time: under a legal hold without end date"
		}
		return "no deletion time: under a legal hold until " + FormatTime(*c.HeldUntil)
	}
	if c.Timeline.OpenVisits > 0 {
		return "no deletion time yet: a visit is open; the clock starts when it ends"
	}
	if s.DeletionTime == nil {
		return "no deletion time"
	}
	event := describeEvent(c, now)
	if s.Action == ActionAnonymise {
		r := fmt.Sprintf("data policy: anonymise %d days after the status changed to %s at %s (relinquishes %s)",
			dp.RelinquishAfterDays, c.Status, FormatTime(*c.StatusChangedAt), strings.Join(c.Relinquished.Missing(dp.Categories()), ", "))
		if c.StatusChangedAt.Add(time.Duration(dp.RelinquishAfterDays) * Day).Before(c.Timeline.LatestEnd) {
			r += ", pushed out to the end of the latest event (" + event + ")"
		}
		return r
	}
	how := "automatic"
	if c.PolicyName != "" {
		how = "assigned"
	}
	return fmt.Sprintf("retention policy %s (%s, %d days) from the end of the latest event: %s",
		s.Policy.Name, how, s.Policy.RetentionDays, event)
}

func describeEvent(c *Customer, now time.Time) string {
	at := c.Timeline.LatestEnd
	switch {
	case c.Timeline.LatestKind == EventAppointment && at.After(now):
		return "a future appointment ending " + FormatTime(at)
	case c.Timeline.LatestKind == EventAppointment:
		return "an appointment ending " + FormatTime(at)
	case c.Timeline.LatestKind == EventVisit:
		return "a visit ending " + FormatTime(at)
	}
	return fmt.Sprintf("%s at %s", c.Timeline.LatestKind, FormatTime(at))
}

func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
