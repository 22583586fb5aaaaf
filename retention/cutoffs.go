package retention

import (
	"sort"
	"time"
)

// Rules as queries. A customer stores what happened (the anchors: the end
// of its latest event, whether a visit is open, its policy group, its status
// and since when, its relinquished categories, its hold's end, when it was
// erased) and never when Lethe will act. This file turns the policy set,
// the data policy and an instant into bounds on those anchors, per policy
// group; the store answers with index range scans and range counts and holds
// no rule. ComputeSchedule stays the one definition for a single customer,
// and the property test (store/cutoffs_property_test.go) holds the two
// together.

// autoGroupPrefix marks the automatic groups; policy names start with a
// letter, so no assigned policy's name collides with them.
const autoGroupPrefix = "@"

// PolicyGroupOf is the customer's policy group as the store keeps it: the
// assigned policy's name, or the automatic group its links select.
func PolicyGroupOf(c *Customer) string {
	if c.PolicyName != "" {
		return c.PolicyName
	}
	return automaticGroup(c.Timeline.Visits > 0, c.Timeline.Appointments > 0)
}

func automaticGroup(visits, appointments bool) string {
	switch {
	case visits && appointments:
		return autoGroupPrefix + "both"
	case appointments:
		return autoGroupPrefix + "appointments"
	case visits:
		return autoGroupPrefix + "visits"
	}
	return autoGroupPrefix + "none"
}

// maskCategories are the categories a customer's relinquished mask records,
// one bit each in this order: every category the data policy can ask for is
// among them (DataPolicy.Categories).
var maskCategories = coreCategories

// CategoryMask is the relinquished categories as the store indexes them.
func CategoryMask(r Relinquished) int {
	return maskOf(r.Categories())
}

func maskOf(categories []string) int {
	m := 0
	for i, c := range maskCategories {
		if HasString(categories, c) {
			m |= 1 << i
		}
	}
	return m
}

// missingOf lists the categories of want that mask does not record.
func MissingOf(mask int, want []string) []string {
	var out []string
	for _, c := range want {
		if mask&maskOf([]string{c}) == 0 {
			out = append(out, c)
		}
	}
	return out
}

// GroupCut is one policy group's erase cut-off at an instant: its customers
// without an open visit whose latest event ended at or before EndedBy are due
// for erasure (end + days ≤ T).
type GroupCut struct {
	Group   string
	Policy  Policy
	EndedBy time.Time
}

// DataCut is the data policy's cut-off at an instant: customers in one of
// Statuses since at or before ChangedBy, whose latest event ended at or
// before EndedBy (= T), with no open visit and at least one category of
// Required not relinquished, are due for anonymising.
type DataCut struct {
	Statuses   []Status
	ChangedBy  time.Time
	EndedBy    time.Time
	Categories []string
	// Required is Categories as a mask (CategoryMask).
	Required int
}

// Misses reports whether a customer with this relinquished mask still
// misses one of the cut's categories.
func (d *DataCut) Misses(mask int) bool { return d != nil && mask&d.Required != d.Required }

// Cutoffs are the rules in force at an instant, as bounds on anchors.
type Cutoffs struct {
	At       time.Time
	Policies PolicySet
	Data     DataPolicy
	// Groups are sorted by group key: the order a sweep walks them in.
	Groups []GroupCut
	// Anonymise is nil when the data policy relinquishes nothing.
	Anonymise *DataCut
}

// CutoffsAt turns the rules into cut-offs at t. Times are kept to the
// microsecond, the precision the store keeps anchors at.
func CutoffsAt(policies PolicySet, dp DataPolicy, t time.Time) Cutoffs {
	t = floorMicro(t)
	c := Cutoffs{At: t, Policies: policies, Data: dp}
	add := func(group string, p Policy) {
		c.Groups = append(c.Groups, GroupCut{Group: group, Policy: p, EndedBy: t.Add(-time.Duration(p.RetentionDays) * Day)})
	}
	for _, p := range policies {
		add(p.Name, p)
	}
	for _, v := range []bool{false, true} {
		for _, a := range []bool{false, true} {
			add(automaticGroup(v, a), policies.AutomaticPolicy(v, a))
		}
	}
	sort.Slice(c.Groups, func(i, j int) bool { return c.Groups[i].Group < c.Groups[j].Group })
	if rule := AnonymiseRuleOf(dp); rule.Acts() {
		c.Anonymise = &DataCut{Statuses: rule.Statuses, ChangedBy: t.Add(-time.Duration(rule.AfterDays) * Day), EndedBy: t,
			Categories: rule.Categories, Required: maskOf(rule.Categories)}
	}
	return c
}

// Group returns the cut of a group key, and whether the rules know it.
func (c Cutoffs) Group(key string) (GroupCut, bool) {
	i := sort.Search(len(c.Groups), func(i int) bool { return c.Groups[i].Group >= key })
	if i < len(c.Groups) && c.Groups[i].Group == key {
		return c.Groups[i], true
	}
	return GroupCut{}, false
}

func floorMicro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// justBefore is the latest microsecond strictly before t: "< t" as an
// inclusive bound.
func justBefore(t time.Time) time.Time {
	f := floorMicro(t)
	if f.Equal(t) {
		return f.Add(-time.Microsecond)
	}
	return f
}

// AnchorRange selects the customers of one policy group, neither erased nor
// with an open visit, by bounds on their anchors. Every bound is optional.
type AnchorRange struct {
	Group string
	// EndedAfter < latest event end ≤ EndedBy.
	EndedAfter *time.Time
	EndedBy    *time.Time
	// Statuses, when set: the status is one of them, and changed at or
	// before ChangedBy.
	Statuses  []Status
	ChangedBy *time.Time
	// Missing, when not zero: at least one category of this mask is not
	// relinquished.
	Missing int
}

// DueFilter narrows a range to what a sweep may act on at an instant.
type DueFilter struct {
	// NotHeldAt drops customers under a legal hold at this time.
	NotHeldAt time.Time
	// NoOpenEntry drops customers with an open journal entry (a sweep
	// resumes those through the journal).
	NoOpenEntry bool
}

// AnchorCursor pages through a range in (latest event end, id) order.
type AnchorCursor struct {
	LatestEnd time.Time
	ID        string
}

// MaskCounts counts customers by relinquished mask.
type MaskCounts map[int]int

// Total is the number of customers counted.
func (m MaskCounts) Total() int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// missing counts those that miss a category of every cut given (nil cuts
// miss nothing).
func (m MaskCounts) missing(cuts ...*DataCut) int {
	n := 0
	for mask, v := range m {
		ok := true
		for _, d := range cuts {
			ok = ok && d.Misses(mask)
		}
		if ok {
			n += v
		}
	}
	return n
}

// dueIgnoringHold is what is due for c at t under the rules, holds and the
// journal aside: the single-customer definition (ComputeSchedule) that the
// ranges must agree with.
func dueIgnoringHold(c *Customer, policies PolicySet, dp DataPolicy, t time.Time) (ActionKind, bool) {
	if c.ErasedAt != nil {
		return "", false
	}
	s := ComputeSchedule(c, policies, dp)
	switch {
	case s.EraseAt != nil && !s.EraseAt.After(t):
		return ActionErase, true
	case s.AnonymiseAt != nil && !s.AnonymiseAt.After(t):
		return ActionAnonymise, true
	}
	return "", false
}
