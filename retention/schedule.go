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

// PolicyGroup is a set of customers one retention policy governs, as the
// store selects them in one statement: those assigned the policy, or those
// on the automatic policy with (or without) visits and appointments.
type PolicyGroup struct {
	// Assigned names the explicitly assigned policy; empty selects the
	// customers on the automatic policy with the given links.
	Assigned     string
	Visits       bool
	Appointments bool
	// Days is the governing policy's retention period.
	Days int
}

// AnonymiseRule is the data policy's rule, as the store applies it in bulk:
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

// ScheduleRequest asks the store to rewrite stored schedules in bulk,
// exactly as ComputeSchedule would: the store only turns it into SQL.
type ScheduleRequest struct {
	// Groups whose erase time is rewritten, one statement each.
	Groups []PolicyGroup
	// Anonymise, when set, rewrites the anonymise time of every customer
	// not erased (one statement).
	Anonymise *AnonymiseRule
}

// automaticGroups are the four sets of customers on the automatic policy.
func automaticGroups(policies PolicySet) []PolicyGroup {
	var out []PolicyGroup
	for _, v := range []bool{false, true} {
		for _, a := range []bool{false, true} {
			out = append(out, PolicyGroup{Visits: v, Appointments: a, Days: policies.AutomaticPolicy(v, a).RetentionDays})
		}
	}
	return out
}

// PolicyChangeRequest is the bulk recomputation after a change of the named
// policy: the customers assigned it and, for the automatic policies, every
// automatic group (which policy governs customers with both visits and
// appointments depends on the days of two of them).
func PolicyChangeRequest(name string, policies PolicySet) ScheduleRequest {
	req := ScheduleRequest{Groups: []PolicyGroup{{Assigned: name, Days: policies[name].RetentionDays}}}
	switch name {
	case PolicyDefault, PolicyVisit, PolicyAppointment:
		req.Groups = append(req.Groups, automaticGroups(policies)...)
	}
	return req
}

// DataPolicyChangeRequest is the bulk recomputation after a data policy
// change.
func DataPolicyChangeRequest(dp DataPolicy) ScheduleRequest {
	rule := AnonymiseRuleOf(dp)
	return ScheduleRequest{Anonymise: &rule}
}

// FullRequest recomputes every live customer (after a migration).
func FullRequest(policies PolicySet, dp DataPolicy) ScheduleRequest {
	req := DataPolicyChangeRequest(dp)
	for _, p := range policies.Sorted() {
		req.Groups = append(req.Groups, PolicyGroup{Assigned: p.Name, Days: p.RetentionDays})
	}
	req.Groups = append(req.Groups, automaticGroups(policies)...)
	return req
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
// definition of the rules: the store's bulk recomputation applies the same
// PolicyGroup days and AnonymiseRule, and is tested against it.
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

// Apply stores the schedule's times on the customer.
func (s Schedule) Apply(c *Customer) {
	c.EraseAt, c.AnonymiseAt, c.DeletionTime = s.EraseAt, s.AnonymiseAt, s.DeletionTime
}

// DeletionReason explains a customer's deletion time: which rule, from which
// event, and what pushes it out. now decides which holds and appointments
// still lie ahead.
func DeletionReason(c *Customer, policies PolicySet, dp DataPolicy, now time.Time) string {
	if c.ErasedAt != nil {
		return "erased at " + formatTime(*c.ErasedAt)
	}
	s := ComputeSchedule(c, policies, dp)
	if c.Held(now) {
		if c.HeldUntil.Equal(HoldForever) {
			return "no deletion time: under a legal hold without end date"
		}
		return "no deletion time: under a legal hold until " + formatTime(*c.HeldUntil)
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
			dp.RelinquishAfterDays, c.Status, formatTime(*c.StatusChangedAt), strings.Join(c.Relinquished.Missing(dp.Categories()), ", "))
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
		return "a future appointment ending " + formatTime(at)
	case c.Timeline.LatestKind == EventAppointment:
		return "an appointment ending " + formatTime(at)
	case c.Timeline.LatestKind == EventVisit:
		return "a visit ending " + formatTime(at)
	}
	return fmt.Sprintf("%s at %s", c.Timeline.LatestKind, formatTime(at))
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
