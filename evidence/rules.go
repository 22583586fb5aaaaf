package evidence

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// readRules reads the policies and the data policy in force now and
// rewinds the changes recorded in the audit log to know those in force at
// the start and at the end of the period.
func (p *Pack) readRules(ctx context.Context, svc *retention.Service) error {
	policies, err := svc.Policies(ctx)
	if err != nil {
		return err
	}
	dp, err := svc.DataPolicy(ctx)
	if err != nil {
		return err
	}
	var changes []retention.AuditEvent
	for _, action := range []string{retention.AuditPolicyCreate, retention.AuditPolicyUpdate, retention.AuditPolicyRevert, retention.AuditPolicyDelete} {
		ev, err := events(ctx, svc, action, p.From, nil)
		if err != nil {
			return err
		}
		changes = append(changes, ev...)
	}
	slices.SortStableFunc(changes, func(a, b retention.AuditEvent) int { return a.At.Compare(b.At) })
	dpChanges, err := events(ctx, svc, retention.AuditDataPolicyUpdate, p.From, nil)
	if err != nil {
		return err
	}
	p.PoliciesAtStart = policiesAt(policies, changes, p.From)
	p.PoliciesAtEnd = policiesAt(policies, changes, p.To)
	p.DataPolicyAtStart = dataPolicyAt(dp, dpChanges, p.From)
	p.DataPolicyAtEnd = dataPolicyAt(dp, dpChanges, p.To)
	for _, e := range changes {
		if inPeriod(p, e.At) {
			p.PolicyChanges = append(p.PolicyChanges, change(e))
		}
	}
	for _, e := range dpChanges {
		if inPeriod(p, e.At) {
			p.DataPolicyChanges = append(p.DataPolicyChanges, change(e))
		}
	}
	return nil
}

// policiesAt undoes, newest first, every change made at or after t.
func policiesAt(now []retention.Policy, changes []retention.AuditEvent, t time.Time) []PolicyRow {
	rows := map[string]*PolicyRow{}
	for _, p := range now {
		rows[p.Name] = &PolicyRow{Name: p.Name, Days: p.RetentionDays, Description: p.Description, BuiltIn: p.BuiltIn}
	}
	for i := len(changes) - 1; i >= 0; i-- {
		e := changes[i]
		if e.At.Before(t) {
			break
		}
		if e.Action == retention.AuditPolicyDelete {
			// Undone: the policy as it was deleted (its details say how).
			days, _ := e.Details["retentionDays"].(float64)
			desc, _ := e.Details["description"].(string)
			rows[e.Subject] = &PolicyRow{Name: e.Subject, Days: int(days), Description: desc}
			continue
		}
		row := rows[e.Subject]
		if row == nil {
			continue
		}
		if e.Action == retention.AuditPolicyCreate {
			delete(rows, e.Subject)
			continue
		}
		if old, ok := oldValue(e.Details, "retentionDays").(float64); ok {
			row.Days = int(old)
		}
		if old, ok := oldValue(e.Details, "description").(string); ok {
			row.Description = old
		}
	}
	out := make([]PolicyRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b PolicyRow) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func oldValue(details map[string]any, key string) any {
	if on, ok := details[key].(map[string]any); ok {
		return on["old"]
	}
	return nil
}

// dataPolicyAt undoes, newest first, every data policy change made at or
// after t.
func dataPolicyAt(now retention.DataPolicy, changes []retention.AuditEvent, t time.Time) retention.DataPolicy {
	dp := now
	for i := len(changes) - 1; i >= 0; i-- {
		if changes[i].At.Before(t) {
			break
		}
		old, ok := changes[i].Details["old"].(map[string]any)
		if !ok {
			continue
		}
		dp.RelinquishDeletedData, _ = old["relinquishDeletedData"].(bool)
		dp.AnonymiseCustomerData, _ = old["anonymiseCustomerData"].(bool)
		dp.RemoveCDRs, _ = old["removeCDRs"].(bool)
		if d, ok := old["relinquishAfterDays"].(float64); ok {
			dp.RelinquishAfterDays = int(d)
		}
	}
	return dp
}

// RetentionRow is one line of the records-of-processing retention table
// (GDPR Art. 30(1)(f): "the envisaged time limits for erasure of the
// different categories of data").
type RetentionRow struct {
	Category string
	// HeldBy: "Lethe" and the connectors that declare the category.
	HeldBy []string
	// Erasure is when every customer's data of the category is erased.
	Erasure string
	// Earlier is when it goes earlier for CANCELLED or DELETED customers
	// (the data policy), or "" when the data policy does not touch it.
	Earlier string
}

// coreHeld are the categories Lethe itself keeps: contact data on the
// customer, custom fields on open visits.
var coreHeld = map[string]bool{retention.CategoryContact: true, retention.CategoryCustomFields: true}

// RetentionTable derives the table from what the engine acts on: the
// categories an erasure relinquishes (retention.EraseCategories), the
// policies' days, and the categories the data policy relinquishes early
// (retention.DataPolicy.Categories).
func RetentionTable(policies []PolicyRow, dp retention.DataPolicy, conns []ConnectorRow) []RetentionRow {
	var declared [][]string
	for _, c := range conns {
		declared = append(declared, c.Categories)
	}
	erasure := erasureRule(policies)
	early := dp.Categories()
	var out []RetentionRow
	for _, cat := range retention.EraseCategories(declared...) {
		row := RetentionRow{Category: cat, Erasure: erasure}
		if coreHeld[cat] {
			row.HeldBy = append(row.HeldBy, "Lethe")
			row.Erasure += "; a walk-in visitor's, when the visit ends"
		}
		for _, c := range conns {
			if slices.Contains(c.Categories, cat) {
				row.HeldBy = append(row.HeldBy, c.Name)
			}
		}
		if slices.Contains(early, cat) {
			row.Earlier = fmt.Sprintf("%s %d days after the customer became CANCELLED or DELETED (never before the end of its latest event)",
				earlyVerb(cat), dp.RelinquishAfterDays)
		}
		out = append(out, row)
	}
	return out
}

func earlyVerb(cat string) string {
	switch cat {
	case retention.CategoryCDR:
		return "deleted"
	case retention.CategoryInvoice:
		return "replaced by blank PDFs"
	case retention.CategoryCustomFields:
		return "dropped"
	}
	return "anonymised (names, phones, emails removed)"
}

// erasureRule says the erase time of every category: the customer's
// policy's days after the end of its latest event.
func erasureRule(policies []PolicyRow) string {
	parts := make([]string, 0, len(policies))
	for _, p := range policies {
		parts = append(parts, fmt.Sprintf("%s %d days", p.Name, p.Days))
	}
	return "erased with the customer, the policy's days after the end of the customer's latest event (" + strings.Join(parts, ", ") +
		"); never while a legal hold is active"
}
