package retention_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * retention.Day }

func at(d time.Duration) *time.Time { t := t0.Add(d); return &t }

func policies() retention.PolicySet {
	set := retention.NewPolicySet(retention.BuiltInPolicies())
	set["long"] = retention.Policy{Name: "long", RetentionDays: 365}
	return set
}

func TestComputeSchedule(t *testing.T) {
	on := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 10, AnonymiseCustomerData: true}
	off := retention.DefaultDataPolicy()
	cases := []struct {
		name       string
		customer   retention.Customer
		dp         retention.DataPolicy
		wantPolicy string
		wantErase  *time.Time
		wantAnon   *time.Time
		wantAction retention.ActionKind
	}{
		{name: "no links: default 30 days from creation",
			customer: retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, LatestKind: retention.EventCreated}},
			dp:       off, wantPolicy: "default", wantErase: at(days(30)), wantAction: retention.ActionErase},
		{name: "visits only: visit_days",
			customer: retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, Visits: 2}},
			dp:       off, wantPolicy: "visit_days", wantErase: at(days(30)), wantAction: retention.ActionErase},
		{name: "appointments only: appointment_days",
			customer: retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, Appointments: 1}},
			dp:       off, wantPolicy: "appointment_days", wantErase: at(days(90)), wantAction: retention.ActionErase},
		{name: "both: whichever expires later",
			customer: retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, Appointments: 1, Visits: 1}},
			dp:       off, wantPolicy: "appointment_days", wantErase: at(days(90)), wantAction: retention.ActionErase},
		{name: "future appointment end is the clock",
			customer: retention.Customer{Timeline: retention.Timeline{LatestEnd: t0.Add(days(400)), Appointments: 1}},
			dp:       off, wantPolicy: "appointment_days", wantErase: at(days(490)), wantAction: retention.ActionErase},
		{name: "open visit: no deletion time",
			customer: retention.Customer{Timeline: retention.Timeline{LatestEnd: t0, Visits: 1, OpenVisits: 1}},
			dp:       on, wantPolicy: "visit_days"},
		{name: "explicit policy overrides the automatic one",
			customer: retention.Customer{PolicyName: "long", Timeline: retention.Timeline{LatestEnd: t0, Appointments: 1}},
			dp:       off, wantPolicy: "long", wantErase: at(days(365)), wantAction: retention.ActionErase},
		{name: "direct: erase at the end of the latest event",
			customer: retention.Customer{PolicyName: "direct", Timeline: retention.Timeline{LatestEnd: t0.Add(days(5))}},
			dp:       off, wantPolicy: "direct", wantErase: at(days(5)), wantAction: retention.ActionErase},
		{name: "cancelled with data policy on: anonymise first",
			customer: retention.Customer{Status: retention.StatusCancelled, StatusChangedAt: at(0),
				Timeline: retention.Timeline{LatestEnd: t0, Appointments: 1}},
			dp: on, wantPolicy: "appointment_days", wantErase: at(days(90)), wantAnon: at(days(10)), wantAction: retention.ActionAnonymise},
		{name: "anonymise never before the end of the latest event",
			customer: retention.Customer{Status: retention.StatusDeleted, StatusChangedAt: at(0),
				Timeline: retention.Timeline{LatestEnd: t0.Add(days(20)), Appointments: 1}},
			dp: on, wantPolicy: "appointment_days", wantErase: at(days(110)), wantAnon: at(days(20)), wantAction: retention.ActionAnonymise},
		{name: "erase first when it expires earlier",
			customer: retention.Customer{Status: retention.StatusCancelled, StatusChangedAt: at(0), PolicyName: "direct",
				Timeline: retention.Timeline{LatestEnd: t0}},
			dp: on, wantPolicy: "direct", wantErase: at(0), wantAnon: at(days(10)), wantAction: retention.ActionErase},
		{name: "active customer: data policy does not apply",
			customer: retention.Customer{Status: retention.StatusActive, StatusChangedAt: at(0), Timeline: retention.Timeline{LatestEnd: t0}},
			dp:       on, wantPolicy: "default", wantErase: at(days(30)), wantAction: retention.ActionErase},
		{name: "data policy off: no anonymise time",
			customer: retention.Customer{Status: retention.StatusCancelled, StatusChangedAt: at(0), Timeline: retention.Timeline{LatestEnd: t0}},
			dp:       off, wantPolicy: "default", wantErase: at(days(30)), wantAction: retention.ActionErase},
		{name: "neither anonymise nor remove CDRs: no anonymise time",
			customer: retention.Customer{Status: retention.StatusCancelled, StatusChangedAt: at(0), Timeline: retention.Timeline{LatestEnd: t0}},
			dp:       retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 1}, wantPolicy: "default", wantErase: at(days(30)), wantAction: retention.ActionErase},
		{name: "every category of the data policy relinquished: only the erase remains",
			customer: retention.Customer{Status: retention.StatusCancelled, StatusChangedAt: at(0), AnonymisedAt: at(days(10)), Timeline: retention.Timeline{LatestEnd: t0},
				Relinquished: retention.Relinquished{}.With(on.Categories(), t0.Add(days(10)))},
			dp: on, wantPolicy: "default", wantErase: at(days(30)), wantAction: retention.ActionErase},
		{name: "anonymised, then removeCDRs turned on: due again for cdr",
			customer: retention.Customer{Status: retention.StatusCancelled, StatusChangedAt: at(0), AnonymisedAt: at(days(10)), Timeline: retention.Timeline{LatestEnd: t0},
				Relinquished: retention.Relinquished{}.With(retention.DataPolicy{RelinquishDeletedData: true, AnonymiseCustomerData: true}.Categories(), t0.Add(days(10)))},
			dp:         retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 10, AnonymiseCustomerData: true, RemoveCDRs: true},
			wantPolicy: "default", wantErase: at(days(30)), wantAnon: at(days(10)), wantAction: retention.ActionAnonymise},
		{name: "CDRs removed, then anonymise turned on: due again for contact",
			customer: retention.Customer{Status: retention.StatusCancelled, StatusChangedAt: at(0), Timeline: retention.Timeline{LatestEnd: t0},
				Relinquished: retention.Relinquished{}.With([]string{retention.CategoryCDR}, t0.Add(days(10)))},
			dp:         retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 10, AnonymiseCustomerData: true, RemoveCDRs: true},
			wantPolicy: "default", wantErase: at(days(30)), wantAnon: at(days(10)), wantAction: retention.ActionAnonymise},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := retention.ComputeSchedule(&tc.customer, policies(), tc.dp)
			if s.Policy.Name != tc.wantPolicy {
				t.Errorf("policy = %s, want %s", s.Policy.Name, tc.wantPolicy)
			}
			eqTime(t, "erase", s.EraseAt, tc.wantErase)
			eqTime(t, "anonymise", s.AnonymiseAt, tc.wantAnon)
			want := tc.wantErase
			if tc.wantAction == retention.ActionAnonymise {
				want = tc.wantAnon
			}
			eqTime(t, "deletion", s.DeletionTime, want)
			if s.Action != tc.wantAction {
				t.Errorf("action = %q, want %q", s.Action, tc.wantAction)
			}
		})
	}
}

func eqTime(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, got, want)
	case !got.Equal(*want):
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func TestDeletionReason(t *testing.T) {
	now := t0
	c := retention.Customer{Timeline: retention.Timeline{LatestEnd: t0.Add(days(7)), LatestKind: retention.EventAppointment, Appointments: 1}}
	if r := retention.DeletionReason(&c, policies(), retention.DefaultDataPolicy(), now); !strings.Contains(r, "appointment_days") || !strings.Contains(r, "future appointment") {
		t.Errorf("reason %q should name the policy and the future appointment", r)
	}
	held := c
	held.HeldUntil = &retention.HoldForever
	if r := retention.DeletionReason(&held, policies(), retention.DefaultDataPolicy(), now); !strings.Contains(r, "legal hold") {
		t.Errorf("reason %q should name the hold", r)
	}
	open := c
	open.Timeline.OpenVisits = 1
	if r := retention.DeletionReason(&open, policies(), retention.DefaultDataPolicy(), now); !strings.Contains(r, "visit is open") {
		t.Errorf("reason %q should name the open visit", r)
	}
	cancelled := retention.Customer{Status: retention.StatusCancelled, StatusChangedAt: at(0), Timeline: retention.Timeline{LatestEnd: t0}}
	dp := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 3, RemoveCDRs: true}
	if r := retention.DeletionReason(&cancelled, policies(), dp, now); !strings.Contains(r, "data policy") || !strings.Contains(r, "CANCELLED") {
		t.Errorf("reason %q should name the data policy rule", r)
	}
}

func TestTimelineObserveKeepsLatest(t *testing.T) {
	var tl retention.Timeline
	tl.Observe(retention.EventCreated, t0)
	tl.Observe(retention.EventStatusChange, t0.Add(-days(3)))
	if !tl.LatestEnd.Equal(t0) || tl.LatestKind != retention.EventCreated {
		t.Fatalf("an earlier event moved the clock: %+v", tl)
	}
	tl.Observe(retention.EventAppointment, t0.Add(days(3)))
	if !tl.LatestEnd.Equal(t0.Add(days(3))) || tl.LatestKind != retention.EventAppointment {
		t.Fatalf("a later event did not move the clock: %+v", tl)
	}
}

func TestValidation(t *testing.T) {
	for _, d := range []int{-1, 3651} {
		if err := retention.ValidateRetentionDays("retentionDays", d); retention.ErrorCode(err) != retention.CodeBadUserInput {
			t.Errorf("days %d: got %v", d, err)
		}
	}
	for _, d := range []int{0, 30, 3650} {
		if err := retention.ValidateRetentionDays("retentionDays", d); err != nil {
			t.Errorf("days %d: %v", d, err)
		}
	}
	for _, name := range []string{"", "Default", "a b", "x'--", strings.Repeat("a", 64)} {
		if err := retention.ValidatePolicyName(name); retention.ErrorCode(err) != retention.CodeBadUserInput {
			t.Errorf("policy name %q accepted", name)
		}
	}
	bad := []retention.PersonalData{
		{Email: ptr("not-an-email")}, {Email: ptr("a@b")}, {Email: ptr("Anna <a@b.com>")},
		{Phone: ptr("call me")}, {Phone: ptr("12")}, {FirstName: ptr(strings.Repeat("x", 1025))},
		{LastName: ptr("a\x00b")},
	}
	for _, in := range bad {
		if _, err := retention.NormalizePersonalData("", in); retention.ErrorCode(err) != retention.CodeBadUserInput {
			t.Errorf("%+v accepted", in)
		}
	}
	good, err := retention.NormalizePersonalData("", retention.PersonalData{FirstName: ptr("  Zoë "), Email: ptr("zoe@example.org"), Phone: ptr("+44 (20) 7946-0958"), LastName: ptr(" ")})
	if err != nil || *good.FirstName != "Zoë" || good.LastName != nil {
		t.Errorf("normalise: %+v %v", good, err)
	}
}

func TestFieldPreferences(t *testing.T) {
	p := retention.DefaultFieldPreferences()
	p.Modes[retention.FieldEmail] = retention.ModeRequired
	p.Modes[retention.FieldPhone] = retention.ModeHidden
	err := p.CheckCustomerInput(retention.PersonalData{FirstName: ptr("A")})
	if e, ok := err.(*retention.Error); !ok || e.Field != "email" {
		t.Errorf("missing required email: %v", err)
	}
	err = p.CheckCustomerInput(retention.PersonalData{Email: ptr("a@b.co"), Phone: ptr("123")})
	if e, ok := err.(*retention.Error); !ok || e.Field != "phone" {
		t.Errorf("hidden phone given: %v", err)
	}
	masked := p.Mask(retention.PersonalData{Email: ptr("a@b.co"), Phone: ptr("123")})
	if masked.Phone != nil || masked.Email == nil {
		t.Errorf("mask: %+v", masked)
	}
	p.CollectionEnabled = false
	if err := p.CheckCustomerInput(retention.PersonalData{FirstName: ptr("A")}); retention.ErrorCode(err) != retention.CodeBadUserInput {
		t.Errorf("collection disabled accepted a name")
	}
	if err := p.CheckCustomerInput(retention.PersonalData{}); err != nil {
		t.Errorf("collection disabled refused an empty customer: %v", err)
	}
}

func TestExportFileName(t *testing.T) {
	cases := []struct {
		c    retention.Customer
		want string
	}{
		{retention.Customer{ID: "cus_1", PersonalData: retention.PersonalData{FirstName: ptr("Zoë"), LastName: ptr("O'Brien")}}, "Zoe_OBrien.json"},
		{retention.Customer{ID: "cus_1", PersonalData: retention.PersonalData{FirstName: ptr("../../etc"), LastName: ptr("passwd")}}, "etc_passwd.json"},
		{retention.Customer{ID: "cus_1"}, "cus_1.json"},
		{retention.Customer{ID: "cus_2", PersonalData: retention.PersonalData{FirstName: ptr("李")}}, "cus_2.json"},
	}
	for _, tc := range cases {
		if got := retention.ExportFileName(&tc.c); got != tc.want {
			t.Errorf("file name = %q, want %q", got, tc.want)
		}
	}
}

func ptr(s string) *string { return &s }
