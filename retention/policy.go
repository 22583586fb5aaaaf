package retention

import (
	"regexp"
	"sort"
)

// Names of the built-in retention policies.
const (
	PolicyDefault     = "default"
	PolicyVisit       = "visit_days"
	PolicyAppointment = "appointment_days"
	PolicyDirect      = "direct"
)

// MaxRetentionDays bounds every period: ten years is the longest any
// retention rule Lethe was designed for asks of it.
const MaxRetentionDays = 3650

// Policy says how many days after the end of a customer's latest event the
// customer's personal data is erased.
type Policy struct {
	Name          string
	Description   string
	RetentionDays int
	DefaultDays   int
	BuiltIn       bool
	// Version increments on every change, so journal entries and evidence
	// can say which version of a policy an action was taken under.
	Version int
}

// BuiltInPolicies returns the policies every installation starts with,
// at their default days. They can be edited but never deleted.
func BuiltInPolicies() []Policy {
	return []Policy{
		{Name: PolicyDefault, RetentionDays: 30, DefaultDays: 30, BuiltIn: true, Version: 1,
			Description: "Customers linked to no visit and no appointment."},
		{Name: PolicyVisit, RetentionDays: 30, DefaultDays: 30, BuiltIn: true, Version: 1,
			Description: "Customers linked to visits."},
		{Name: PolicyAppointment, RetentionDays: 90, DefaultDays: 90, BuiltIn: true, Version: 1,
			Description: "Customers linked to appointments (with visits too: whichever expires later)."},
		{Name: PolicyDirect, RetentionDays: 0, DefaultDays: 0, BuiltIn: true, Version: 1,
			Description: "Never chosen automatically: erase as soon as no event remains ahead."},
	}
}

var policyNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ValidatePolicyName checks the name of a new custom policy.
func ValidatePolicyName(name string) error {
	if !policyNamePattern.MatchString(name) {
		return FieldErrorf("name", "policy name %q is invalid: use 1-63 lower-case letters, digits or underscores, starting with a letter", Truncate(name, 70))
	}
	return nil
}

// ValidateRetentionDays checks a retention period.
func ValidateRetentionDays(field string, days int) error {
	if days < 0 || days > MaxRetentionDays {
		return FieldErrorf(field, "%s must be between 0 and %d days, got %d", field, MaxRetentionDays, days)
	}
	return nil
}

// ValidateDescription checks a policy description.
func ValidateDescription(desc string) error {
	return validateText("description", desc)
}

// PolicySet is the policies in force, by name.
type PolicySet map[string]Policy

// NewPolicySet indexes policies by name.
func NewPolicySet(policies []Policy) PolicySet {
	set := make(PolicySet, len(policies))
	for _, p := range policies {
		set[p.Name] = p
	}
	return set
}

// Sorted lists the built-in policies first, then custom ones by name.
func (s PolicySet) Sorted() []Policy {
	out := make([]Policy, 0, len(s))
	for _, p := range s {
		out = append(out, p)
	}
	order := map[string]int{PolicyDefault: 0, PolicyVisit: 1, PolicyAppointment: 2, PolicyDirect: 3}
	sort.Slice(out, func(i, j int) bool {
		oi, iok := order[out[i].Name]
		oj, jok := order[out[j].Name]
		switch {
		case iok && jok:
			return oi < oj
		case iok != jok:
			return iok
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// AutomaticPolicy picks the policy of a customer with no explicit policy:
// by what the customer is linked to; with both visits and appointments the
// one that expires later (the clock is the same, so the longer period).
func (s PolicySet) AutomaticPolicy(hasVisits, hasAppointments bool) Policy {
	switch {
	case hasVisits && hasAppointments:
		v, a := s[PolicyVisit], s[PolicyAppointment]
		if v.RetentionDays > a.RetentionDays {
			return v
		}
		return a
	case hasAppointments:
		return s[PolicyAppointment]
	case hasVisits:
		return s[PolicyVisit]
	}
	return s[PolicyDefault]
}
