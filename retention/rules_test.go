package retention_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// The rules of DESIGN.md, "What the product does" and "What relinquishing
// does", one table each, every case named after the rule it checks. They
// run on the pure functions that are the rules' one definition
// (ComputeSchedule, DeletionReason, the data policy's categories, the
// collection preferences); the store's ranges are checked against
// ComputeSchedule by store/cutoffs_property_test.go and the use cases end
// to end by the store and top-level tests.

// ruleCase is one rule: a customer (or settings) as of now, and what must
// hold of it.
type ruleCase struct {
	rule  string
	check func(t *testing.T)
}

func runRules(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.rule, c.check)
	}
}

// schedule is ComputeSchedule with the built-in policies (and "long").
func schedule(c retention.Customer, dp retention.DataPolicy) retention.Schedule {
	return retention.ComputeSchedule(&c, policies(), dp)
}

// wantTime fails unless got is want (both nil, or equal).
func wantTime(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	if (got == nil) != (want == nil) || (got != nil && !got.Equal(*want)) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func dataPolicyOn(afterDays int) retention.DataPolicy {
	return retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: afterDays, AnonymiseCustomerData: true}
}

func cancelledAt(d time.Duration, latestEnd time.Time) retention.Customer {
	return retention.Customer{Status: retention.StatusCancelled, StatusChangedAt: at(d),
		Timeline: retention.Timeline{LatestEnd: latestEnd, LatestKind: retention.EventStatusChange}}
}

func TestWhatTheProductDoes(t *testing.T) {
	off := retention.DefaultDataPolicy()
	runRules(t, []ruleCase{
		{"default applies to a customer linked to no visit and no appointment, 30 days", func(t *testing.T) {
			s := schedule(retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, LatestKind: retention.EventCreated}}, off)
			if s.Policy.Name != retention.PolicyDefault || s.Policy.RetentionDays != 30 {
				t.Fatalf("policy %+v", s.Policy)
			}
			wantTime(t, "erase time", s.EraseAt, at(days(30)))
		}},
		{"visit_days applies to a customer linked to visits, 30 days", func(t *testing.T) {
			s := schedule(retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, Visits: 1}}, off)
			if s.Policy.Name != retention.PolicyVisit {
				t.Fatalf("policy %s", s.Policy.Name)
			}
			wantTime(t, "erase time", s.EraseAt, at(days(30)))
		}},
		{"appointment_days applies to a customer linked to appointments, 90 days", func(t *testing.T) {
			s := schedule(retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, Appointments: 2}}, off)
			if s.Policy.Name != retention.PolicyAppointment {
				t.Fatalf("policy %s", s.Policy.Name)
			}
			wantTime(t, "erase time", s.EraseAt, at(days(90)))
		}},
		{"linked to both visits and appointments: whichever expires later", func(t *testing.T) {
			set := policies()
			v := set[retention.PolicyVisit]
			v.RetentionDays = 200 // now visit_days expires later
			set[retention.PolicyVisit] = v
			c := retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, Visits: 1, Appointments: 1}}
			if s := retention.ComputeSchedule(&c, set, off); s.Policy.Name != retention.PolicyVisit {
				t.Fatalf("with visit_days 200 > appointment_days 90: %s", s.Policy.Name)
			}
			if s := schedule(c, off); s.Policy.Name != retention.PolicyAppointment {
				t.Fatalf("with the defaults: %s", s.Policy.Name)
			}
		}},
		{"direct is never chosen automatically", func(t *testing.T) {
			for _, links := range []retention.Timeline{{}, {Visits: 1}, {Appointments: 1}, {Visits: 1, Appointments: 1}} {
				links.LatestEnd = t0
				if s := schedule(retention.Customer{Timeline: links}, off); s.Policy.Name == retention.PolicyDirect {
					t.Fatalf("direct chosen for %+v", links)
				}
			}
		}},
		{"direct set on a customer erases as soon as no event remains ahead", func(t *testing.T) {
			s := schedule(retention.Customer{PolicyName: retention.PolicyDirect, Timeline: retention.Timeline{LatestEnd: t0.Add(days(3)), Appointments: 1}}, off)
			wantTime(t, "erase time", s.EraseAt, at(days(3)))
		}},
		{"a policy assigned to a customer overrides the automatic one", func(t *testing.T) {
			s := schedule(retention.Customer{PolicyName: "long", Timeline: retention.Timeline{LatestEnd: t0, Visits: 1}}, off)
			if s.Policy.Name != "long" {
				t.Fatalf("policy %s", s.Policy.Name)
			}
			wantTime(t, "erase time", s.EraseAt, at(days(365)))
		}},
		{"a period of 0 to 3650 days is accepted, anything else is BAD_USER_INPUT", func(t *testing.T) {
			for _, d := range []int{0, 1, 3650} {
				if err := retention.ValidateRetentionDays("retentionDays", d); err != nil {
					t.Fatalf("%d days refused: %v", d, err)
				}
			}
			for _, d := range []int{-1, 3651, 100000} {
				if err := retention.ValidateRetentionDays("retentionDays", d); retention.ErrorCode(err) != retention.CodeBadUserInput {
					t.Fatalf("%d days: %v, want BAD_USER_INPUT", d, err)
				}
			}
		}},
		{"the built-in policies have their default days", func(t *testing.T) {
			want := map[string]int{retention.PolicyDefault: 30, retention.PolicyVisit: 30, retention.PolicyAppointment: 90, retention.PolicyDirect: 0}
			for _, p := range retention.BuiltInPolicies() {
				if d, ok := want[p.Name]; !ok || p.RetentionDays != d || p.DefaultDays != d || !p.BuiltIn {
					t.Fatalf("built-in %+v", p)
				}
				delete(want, p.Name)
			}
			if len(want) > 0 {
				t.Fatalf("missing built-in policies: %v", want)
			}
		}},
		{"erase time is the end of the latest event, a future appointment with its end, plus the policy's days", func(t *testing.T) {
			var tl retention.Timeline
			tl.Observe(retention.EventCreated, t0)
			tl.Observe(retention.EventAppointment, t0.Add(days(40)+time.Hour)) // booked ahead, ends an hour after it starts
			tl.Observe(retention.EventVisit, t0.Add(days(2)))
			tl.Appointments, tl.Visits = 1, 1
			s := schedule(retention.Customer{Timeline: tl}, off)
			wantTime(t, "erase time", s.EraseAt, at(days(40+90)+time.Hour))
		}},
		{"while a visit is open there is no erase time", func(t *testing.T) {
			s := schedule(retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, Visits: 1, OpenVisits: 1}}, dataPolicyOn(0))
			if s.EraseAt != nil || s.AnonymiseAt != nil || s.DeletionTime != nil {
				t.Fatalf("open visit: %+v", s)
			}
		}},
		{"anonymise time is the status change plus relinquishAfterDays", func(t *testing.T) {
			s := schedule(cancelledAt(0, t0), dataPolicyOn(10))
			wantTime(t, "anonymise time", s.AnonymiseAt, at(days(10)))
		}},
		{"anonymise time is never before the end of the customer's latest event", func(t *testing.T) {
			s := schedule(cancelledAt(0, t0.Add(days(20))), dataPolicyOn(10))
			wantTime(t, "anonymise time", s.AnonymiseAt, at(days(20)))
		}},
		{"anonymise time applies only to CANCELLED or DELETED customers with the data policy on", func(t *testing.T) {
			active := cancelledAt(0, t0)
			active.Status = retention.StatusActive
			if s := schedule(active, dataPolicyOn(10)); s.AnonymiseAt != nil {
				t.Fatalf("active customer anonymised at %v", s.AnonymiseAt)
			}
			if s := schedule(cancelledAt(0, t0), off); s.AnonymiseAt != nil {
				t.Fatalf("data policy off, anonymised at %v", s.AnonymiseAt)
			}
			deleted := cancelledAt(0, t0)
			deleted.Status = retention.StatusDeleted
			if s := schedule(deleted, dataPolicyOn(10)); s.AnonymiseAt == nil {
				t.Fatal("a DELETED customer is not anonymised")
			}
		}},
		{"deletionTime is the earlier of erase and anonymise time", func(t *testing.T) {
			s := schedule(cancelledAt(0, t0), dataPolicyOn(10))
			wantTime(t, "deletion time", s.DeletionTime, at(days(10)))
			if s.Action != retention.ActionAnonymise {
				t.Fatalf("action %s", s.Action)
			}
			s = schedule(cancelledAt(0, t0), dataPolicyOn(60))
			wantTime(t, "deletion time", s.DeletionTime, at(days(30)))
			if s.Action != retention.ActionErase {
				t.Fatalf("action %s", s.Action)
			}
		}},
		{"deletionReason says which rule and which event set the deletion time", func(t *testing.T) {
			c := retention.Customer{Timeline: retention.Timeline{LatestEnd: t0.Add(days(10)), LatestKind: retention.EventAppointment, Appointments: 1}}
			r := retention.DeletionReason(&c, policies(), off, t0)
			for _, want := range []string{"appointment_days", "automatic", "90 days", "a future appointment ending"} {
				if !strings.Contains(r, want) {
					t.Fatalf("reason %q lacks %q", r, want)
				}
			}
			cc := cancelledAt(0, t0)
			if r := retention.DeletionReason(&cc, policies(), dataPolicyOn(10), t0); !strings.Contains(r, "data policy") || !strings.Contains(r, "CANCELLED") {
				t.Fatalf("reason %q", r)
			}
		}},
		{"a customer under an active legal hold has no deletionTime", func(t *testing.T) {
			until := t0.Add(days(100))
			c := retention.Customer{HeldUntil: &until, Timeline: retention.Timeline{LatestEnd: t0}}
			if !c.Held(t0) || c.Held(until) {
				t.Fatalf("held at t0 %v, at its end %v", c.Held(t0), c.Held(until))
			}
			if r := retention.DeletionReason(&c, policies(), off, t0); !strings.HasPrefix(r, "no deletion time: under a legal hold") {
				t.Fatalf("reason %q", r)
			}
		}},
		{"lastInteractionAt never goes backwards: an older event does not move the clock", func(t *testing.T) {
			var tl retention.Timeline
			tl.Observe(retention.EventVisit, t0)
			tl.Observe(retention.EventStatusChange, t0.Add(-days(5)))
			if !tl.LatestEnd.Equal(t0) || tl.LatestKind != retention.EventVisit {
				t.Fatalf("timeline %+v", tl)
			}
		}},
		{"hidden fields are not collected, stored or displayed", func(t *testing.T) {
			prefs := retention.DefaultFieldPreferences()
			prefs.Modes[retention.FieldPhone] = retention.ModeHidden
			phone, name := "+44 7700 900000", "Ada"
			if err := prefs.CheckCustomerInput(retention.PersonalData{FirstName: &name, Phone: &phone}); retention.ErrorCode(err) != retention.CodeBadUserInput {
				t.Fatalf("a HIDDEN phone was accepted: %v", err)
			}
			if m := prefs.Mask(retention.PersonalData{FirstName: &name, Phone: &phone}); m.Phone != nil || m.FirstName == nil {
				t.Fatalf("masked %+v", m)
			}
		}},
		{"a required field must be given", func(t *testing.T) {
			prefs := retention.DefaultFieldPreferences()
			prefs.Modes[retention.FieldEmail] = retention.ModeRequired
			if err := prefs.CheckCustomerInput(retention.PersonalData{}); retention.ErrorCode(err) != retention.CodeBadUserInput {
				t.Fatalf("a missing REQUIRED email was accepted: %v", err)
			}
		}},
		{"collection disabled altogether refuses every field", func(t *testing.T) {
			prefs := retention.DefaultFieldPreferences()
			prefs.CollectionEnabled = false
			name := "Ada"
			if err := prefs.CheckCustomerInput(retention.PersonalData{FirstName: &name}); err == nil {
				t.Fatal("a name was accepted with collection disabled")
			}
		}},
		{"the data policy's default is relinquishing off, 90 days, anonymise on, remove CDRs off", func(t *testing.T) {
			want := retention.DataPolicy{RelinquishDeletedData: false, RelinquishAfterDays: 90, AnonymiseCustomerData: true, RemoveCDRs: false}
			if d := retention.DefaultDataPolicy(); d != want || !d.UsesDefault() {
				t.Fatalf("default %+v", d)
			}
		}},
	})
}

func TestWhatRelinquishingDoes(t *testing.T) {
	runRules(t, []ruleCase{
		{"erase leaves a tombstone: only the id, the time and what was done", func(t *testing.T) {
			name, email := "Ada", "ada@example.com"
			until := t0.Add(days(3))
			c := retention.Customer{ID: "cus_1", PersonalData: retention.PersonalData{FirstName: &name, Email: &email}, HeldUntil: &until}
			retention.Erase(&c, t0, retention.EraseCategories([]string{"cdr"}))
			if !c.PersonalData.Empty() || c.ErasedAt == nil || !c.ErasedAt.Equal(t0) || c.ID != "cus_1" || c.HeldUntil != nil {
				t.Fatalf("tombstone %+v", c)
			}
			if !c.Relinquished.Has(retention.CategoryContact) || !c.Relinquished.Has(retention.CategoryCDR) {
				t.Fatalf("relinquished %v", c.Relinquished)
			}
		}},
		{"an erased customer has no deletion time any more", func(t *testing.T) {
			c := retention.Customer{ErasedAt: at(0), Timeline: retention.Timeline{LatestEnd: t0}}
			if s := schedule(c, dataPolicyOn(0)); s.DeletionTime != nil {
				t.Fatalf("erased customer due at %v", s.DeletionTime)
			}
		}},
		{"erasing relinquishes every category Lethe knows and every connector declares", func(t *testing.T) {
			got := retention.EraseCategories([]string{"newsletter"}, []string{retention.CategoryInvoice})
			for _, want := range []string{retention.CategoryContact, retention.CategoryCustomFields, retention.CategoryInvoice, "newsletter"} {
				if !slices.Contains(got, want) {
					t.Fatalf("erase categories %v lack %s", got, want)
				}
			}
		}},
		{"anonymising removes names, phones and emails and sets anonymisedAt", func(t *testing.T) {
			name, phone := "Ada", "+44 7700 900000"
			c := retention.Customer{PersonalData: retention.PersonalData{FirstName: &name, Phone: &phone}}
			retention.Relinquish(&c, t0, dataPolicyOn(10).Categories())
			if !c.PersonalData.Empty() || c.AnonymisedAt == nil || c.ErasedAt != nil {
				t.Fatalf("anonymised %+v", c)
			}
		}},
		{"anonymisedAt means contact data was anonymised, nothing else: removing CDRs keeps contact data", func(t *testing.T) {
			name := "Ada"
			c := retention.Customer{PersonalData: retention.PersonalData{FirstName: &name}}
			cdrOnly := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 10, RemoveCDRs: true}
			retention.Relinquish(&c, t0, cdrOnly.Categories())
			if c.AnonymisedAt != nil || c.FirstName == nil || !c.Relinquished.Has(retention.CategoryCDR) {
				t.Fatalf("after removing CDRs: %+v", c)
			}
		}},
		{"the data policy asks for categories: anonymise for contact data, remove CDRs for cdr", func(t *testing.T) {
			both := retention.DataPolicy{RelinquishDeletedData: true, AnonymiseCustomerData: true, RemoveCDRs: true}
			got := both.Categories()
			for _, want := range []string{retention.CategoryContact, retention.CategoryCDR} {
				if !slices.Contains(got, want) {
					t.Fatalf("categories %v lack %s", got, want)
				}
			}
			if off := retention.DefaultDataPolicy(); len(off.Categories()) != 0 {
				t.Fatalf("relinquishing off asks for %v", off.Categories())
			}
		}},
		{"a data policy change that adds a category makes customers relinquished in part due again", func(t *testing.T) {
			c := cancelledAt(0, t0)
			cdrOnly := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 10, RemoveCDRs: true}
			retention.Relinquish(&c, t0.Add(days(10)), cdrOnly.Categories())
			if s := schedule(c, cdrOnly); s.AnonymiseAt != nil {
				t.Fatalf("nothing missing, yet due at %v", s.AnonymiseAt)
			}
			widened := cdrOnly
			widened.AnonymiseCustomerData = true
			if s := schedule(c, widened); s.AnonymiseAt == nil || s.Action != retention.ActionAnonymise {
				t.Fatalf("after anonymise was turned on: %+v", s)
			}
			if missing := c.Relinquished.Missing(widened.Categories()); slices.Contains(missing, retention.CategoryCDR) || !slices.Contains(missing, retention.CategoryContact) {
				t.Fatalf("missing %v", missing)
			}
		}},
		{"nothing is ever restored: relinquishing again keeps the first time", func(t *testing.T) {
			c := retention.Customer{}
			retention.Relinquish(&c, t0, []string{retention.CategoryCDR})
			retention.Relinquish(&c, t0.Add(days(5)), []string{retention.CategoryCDR, retention.CategoryContact})
			if !c.Relinquished.Has(retention.CategoryCDR) || !c.Relinquished.Has(retention.CategoryContact) {
				t.Fatalf("relinquished %v", c.Relinquished)
			}
			if c.Relinquished[retention.CategoryCDR].Equal(t0.Add(days(5))) {
				t.Fatalf("the cdr time moved: %v", c.Relinquished)
			}
		}},
		{"visit data: only the custom fields set to be stored go to the statistics database", func(t *testing.T) {
			note, branch := "a note", "north"
			end := t0.Add(time.Hour)
			v := retention.Visit{ID: "vis_1", CustomerID: "cus_1", StartedAt: t0, EndedAt: &end,
				CustomFields: []retention.CustomFieldValue{{Field: "custom1", Value: &note}, {Field: "custom2", Value: &branch}},
				Storage:      retention.CustomFieldStorage{"custom1": false, "custom2": true}}
			r := retention.VisitRecordOf(&v)
			if _, ok := r.CustomFields["custom1"]; ok || r.CustomFields["custom2"] != branch || !r.EndedAt.Equal(end) {
				t.Fatalf("visit record %+v", r)
			}
		}},
		{"legal holds block both erase and anonymise until released or ended", func(t *testing.T) {
			until := t0.Add(days(30))
			c := cancelledAt(0, t0)
			c.HeldUntil = &until
			for _, now := range []time.Time{t0, t0.Add(days(29))} {
				if !c.Held(now) {
					t.Fatalf("not held at %v", now)
				}
			}
			if c.Held(until) || c.Held(until.Add(time.Second)) {
				t.Fatal("still held after the hold's end")
			}
			forever := retention.HoldForever
			c.HeldUntil = &forever
			if r := retention.DeletionReason(&c, policies(), dataPolicyOn(10), t0.Add(days(10000))); !strings.Contains(r, "without end date") {
				t.Fatalf("reason %q", r)
			}
		}},
		{"every customer can explain its deletion time: an open visit pushes it out", func(t *testing.T) {
			c := retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, Visits: 1, OpenVisits: 1}}
			if r := retention.DeletionReason(&c, policies(), retention.DefaultDataPolicy(), t0); !strings.Contains(r, "a visit is open") {
				t.Fatalf("reason %q", r)
			}
		}},
	})
}
