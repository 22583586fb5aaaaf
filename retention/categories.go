package retention

import (
	"sort"
	"time"
)

// CategoryCustomFields is the custom fields of a customer's visits, held by
// Lethe while a visit is open and by connectors that record visits.
const CategoryCustomFields = "custom_fields"

// Relinquished records which data categories of a customer have been
// relinquished, and when each was first. Nothing is ever restored, so a
// category once recorded stays recorded.
type Relinquished map[string]time.Time

// Has reports whether the category was relinquished.
func (r Relinquished) Has(category string) bool {
	_, ok := r[category]
	return ok
}

// Missing lists, in order, the categories not relinquished yet.
func (r Relinquished) Missing(categories []string) []string {
	var out []string
	for _, c := range categories {
		if !r.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

// With returns a copy that also records categories at at; a category
// already recorded keeps its first time.
func (r Relinquished) With(categories []string, at time.Time) Relinquished {
	out := make(Relinquished, len(r)+len(categories))
	for k, v := range r {
		out[k] = v
	}
	for _, c := range categories {
		if _, ok := out[c]; !ok {
			out[c] = at
		}
	}
	return out
}

// Categories lists the recorded categories, sorted.
func (r Relinquished) Categories() []string {
	out := make([]string, 0, len(r))
	for c := range r {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// anonymiseCategories are what anonymising relinquishes: names, phones and
// emails (contact), invoice PDFs (replaced by blank ones) and the custom
// fields of visits (dropped everywhere).
var AnonymiseCategories = []string{CategoryContact, CategoryCustomFields, CategoryInvoice}

// coreCategories are every category Lethe itself knows of; an erasure
// relinquishes them and every category a connector declares.
var coreCategories = []string{CategoryCDR, CategoryContact, CategoryCustomFields, CategoryInvoice, CategoryVisitStats}

// Categories lists the categories the data policy relinquishes of a
// CANCELLED or DELETED customer: the anonymise categories when
// anonymiseCustomerData is set, cdr when removeCDRs is. A customer is due
// for the data policy while any of them is missing, so a change that adds a
// category makes the customers relinquished in part due for the rest.
func (d DataPolicy) Categories() []string {
	if !d.RelinquishDeletedData {
		return nil
	}
	var out []string
	if d.AnonymiseCustomerData {
		out = append(out, AnonymiseCategories...)
	}
	if d.RemoveCDRs {
		out = append(out, CategoryCDR)
	}
	sort.Strings(out)
	return out
}

// EraseCategories is what erasing a customer relinquishes: everything Lethe
// knows of and everything the connectors declare.
func EraseCategories(connectorCategories ...[]string) []string {
	set := map[string]bool{}
	for _, c := range coreCategories {
		set[c] = true
	}
	for _, cats := range connectorCategories {
		for _, c := range cats {
			set[c] = true
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// anonymisesContact reports whether relinquishing these categories
// anonymises contact data (and so sets anonymisedAt).
func AnonymisesContact(categories []string) bool { return HasString(categories, CategoryContact) }
