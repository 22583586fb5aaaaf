package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

var now = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

func newService(s *store.Store) *retention.Service {
	svc := retention.NewService(s, retention.WithClock(func() time.Time { return now }))
	relinquish.Connect(svc)
	return svc
}

func sp(s string) *string { return &s }

func mustCode(t *testing.T, err error, want retention.Code) {
	t.Helper()
	if got := retention.ErrorCode(err); err == nil || got != want {
		t.Fatalf("error %v (code %s), want code %s", err, got, want)
	}
}

// schedule is c's schedule under the rules in force.
func schedule(t *testing.T, svc *retention.Service, c *retention.Customer) retention.Schedule {
	t.Helper()
	ps, dp, err := svc.ReadRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return retention.ComputeSchedule(c, retention.NewPolicySet(ps), dp)
}

func TestPolicies(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		ps, err := svc.Policies(ctx)
		if err != nil || len(ps) != 4 || ps[0].Name != "default" || ps[3].Name != "direct" {
			t.Fatalf("built-ins: %+v %v", ps, err)
		}
		c, _ := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Ada")}})
		if !svc.DeletionTime(c).Equal(now.Add(30 * retention.Day)) {
			t.Fatalf("deletion time %v", svc.DeletionTime(c))
		}
		days := 45
		p, err := svc.UpdatePolicy(ctx, "default", &days, sp("new text"))
		if err != nil || p.RetentionDays != 45 || p.Description != "new text" || p.Version != 2 {
			t.Fatalf("update: %+v %v", p, err)
		}
		got, _ := svc.Customer(ctx, c.ID)
		if !svc.DeletionTime(got).Equal(now.Add(45 * retention.Day)) {
			t.Fatalf("policy change not applied retrospectively: %v", svc.DeletionTime(got))
		}
		bad := -1
		_, err = svc.UpdatePolicy(ctx, "default", &bad, nil)
		mustCode(t, err, retention.CodeBadUserInput)
		bad = 3651
		_, err = svc.UpdatePolicy(ctx, "default", &bad, nil)
		mustCode(t, err, retention.CodeBadUserInput)
		_, err = svc.UpdatePolicy(ctx, "nope", &days, nil)
		mustCode(t, err, retention.CodeNotFound)
		if p, _ := svc.Policy(ctx, "default"); p.RetentionDays != 45 {
			t.Fatalf("a refused update wrote: %+v", p)
		}
		p, err = svc.RevertPolicy(ctx, "default")
		if err != nil || p.RetentionDays != 30 {
			t.Fatalf("revert: %+v %v", p, err)
		}
		if _, err := svc.CreatePolicy(ctx, "tax_records", 3650, "Ten years for tax law"); err != nil {
			t.Fatal(err)
		}
		_, err = svc.CreatePolicy(ctx, "tax_records", 10, "again")
		mustCode(t, err, retention.CodeBadUserInput)
		_, err = svc.CreatePolicy(ctx, "Bad Name", 10, "x")
		mustCode(t, err, retention.CodeBadUserInput)
		c, err = svc.SetCustomerPolicy(ctx, c.ID, "tax_records")
		if err != nil || !svc.DeletionTime(c).Equal(now.Add(3650*retention.Day)) {
			t.Fatalf("assign policy: %v %v", c, err)
		}
		_, err = svc.SetCustomerPolicy(ctx, c.ID, "missing")
		mustCode(t, err, retention.CodeBadUserInput)
	})
}

func TestCustomersAndPreferences(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		_, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{Email: sp("nope")}})
		mustCode(t, err, retention.CodeBadUserInput)
		future := now.Add(time.Hour)
		_, err = svc.CreateCustomer(ctx, retention.CustomerInput{LastInteractionAt: &future})
		mustCode(t, err, retention.CodeBadUserInput)
		past := now.Add(-10 * retention.Day)
		c, err := svc.CreateCustomer(ctx, retention.CustomerInput{LastInteractionAt: &past, PersonalData: retention.PersonalData{
			FirstName: sp("Grace"), LastName: sp("Hopper"), Email: sp("grace@navy.example"), Phone: sp("+1 555 0100")}})
		if err != nil {
			t.Fatal(err)
		}
		if !svc.DeletionTime(c).Equal(past.Add(30 * retention.Day)) {
			t.Fatalf("imported last interaction not used: %v", svc.DeletionTime(c))
		}
		last, _ := svc.LastInteraction(ctx, c)
		if !last.Equal(past) {
			t.Fatalf("last interaction %v", last)
		}

		email := retention.FieldEmail
		change := map[retention.Field]retention.FieldMode{email: retention.ModeRequired, retention.FieldPhone: retention.ModeHidden}
		preview, err := svc.FieldPreferencesPreview(ctx, change)
		if err != nil || len(preview) != 2 || preview[1].Field != retention.FieldPhone || preview[1].Values != 1 || preview[0].Values != 0 {
			t.Fatalf("preview: %+v %v", preview, err)
		}
		// Purging stored phones needs a confirmation; refused, nothing changes.
		_, err = svc.UpdateFieldPreferences(ctx, nil, change, false)
		mustCode(t, err, retention.CodeConfirmationRequired)
		if e := err.(*retention.Error); e.Details["total"] != 1 {
			t.Fatalf("confirmation details: %+v", e.Details)
		}
		if p, _ := svc.FieldPreferences(ctx); p.Modes[retention.FieldPhone] != retention.ModeOptional {
			t.Fatalf("a refused change was saved: %+v", p)
		}
		_, err = svc.FieldPreferencesPreview(ctx, map[retention.Field]retention.FieldMode{"SHOE_SIZE": retention.ModeHidden})
		mustCode(t, err, retention.CodeBadUserInput)
		_, err = svc.UpdateFieldPreferences(ctx, nil, change, true)
		if err != nil {
			t.Fatal(err)
		}
		// Hidden means not stored: the value is gone, not only masked.
		if stored, _ := s.Customer(ctx, c.ID); stored.Phone != nil || stored.Email == nil {
			t.Fatalf("hidden phone still stored: %+v", stored.PersonalData)
		}
		// Nor findable or readable through the search terms, while the terms
		// of the values kept stay.
		var terms []string
		if err := s.DB().NewRaw("SELECT term FROM customer_terms WHERE customer_id = ?", c.ID).Scan(ctx, &terms); err != nil {
			t.Fatal(err)
		}
		var words string
		if err := s.DB().NewRaw("SELECT search_words FROM customers WHERE id = ?", c.ID).Scan(ctx, &words); err != nil {
			t.Fatal(err)
		}
		if joined := strings.Join(terms, " "); strings.Contains(joined, "0100") || strings.Contains(words, "0100") ||
			!strings.Contains(joined, "hopper") || !strings.Contains(words, "hopper") {
			t.Fatalf("after purging the phone, terms %q and search_words %q", terms, words)
		}
		// Nothing left to purge: confirm or not, it is fine.
		if _, err := svc.UpdateFieldPreferences(ctx, nil, change, false); err != nil {
			t.Fatalf("nothing to purge, no confirmation needed: %v", err)
		}
		_, err = svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("No Email")}})
		mustCode(t, err, retention.CodeBadUserInput)
		_, err = svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{Email: sp("x@y.example"), Phone: sp("123456")}})
		if e, ok := err.(*retention.Error); !ok || e.Field != "phone" {
			t.Fatalf("hidden phone: %v", err)
		}
		got, _ := svc.Customer(ctx, c.ID)
		if got.Phone != nil || got.Email == nil {
			t.Fatalf("hidden field shown: %+v", got.PersonalData)
		}
		page, _ := svc.SearchCustomers(ctx, "555", nil, nil)
		if page.TotalCount != 0 {
			t.Fatalf("search matched a hidden phone")
		}
		off := false
		if _, err := svc.UpdateFieldPreferences(ctx, &off, nil, false); err != nil {
			t.Fatal(err)
		}
		_, err = svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{Email: sp("x@y.example")}})
		mustCode(t, err, retention.CodeBadUserInput)
		if _, err := svc.CreateCustomer(ctx, retention.CustomerInput{}); err != nil {
			t.Fatalf("collection disabled, empty customer: %v", err)
		}
	})
}

func TestSearch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		people := [][4]string{
			{"Anna", "Smith", "anna@example.org", "+44 20 7946 0001"},
			{"Annabel", "Jones", "aj@example.org", "020 7946 0002"},
			{"Bob", "Annan", "bob@example.org", "+1 (555) 0100"},
			{"Carl", "100%_sure\\", "o'neil%_x@example.org", "555-0101"},
			// U+10FFFF right after a typed prefix ("dee") must still match.
			{"Dee\U0010FFFFa", "Quinn", "dq@example.org", "0113 496 0000"},
		}
		for _, p := range people {
			if _, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{
				FirstName: sp(p[0]), LastName: sp(p[1]), Email: sp(p[2]), Phone: sp(p[3])}}); err != nil {
				t.Fatal(err)
			}
		}
		count := func(q string) int {
			t.Helper()
			page, err := svc.SearchCustomers(ctx, q, nil, nil)
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			return page.TotalCount
		}
		for q, want := range map[string]int{"ann": 3, "ANNA": 3, "anna smith": 1, "smi": 1, "bob@": 1, "020 7946": 2, "+44 20": 2,
			"%": 0, "_": 0, "100%_": 1, "100%": 1, "100%_sure\\": 1, "o'n": 1, "'": 0, "\\": 0, "zzz": 0, "": 5, "555": 1,
			"dee": 1, "dee\U0010FFFF": 1, "dee\U0010FFFFa quinn": 1, "\U0010FFFF": 0} {
			if got := count(q); got != want {
				t.Errorf("search %q: %d matches, want %d", q, got, want)
			}
		}
		one := 1
		var seen []string
		var after *string
		for {
			page, err := svc.SearchCustomers(ctx, "", &one, after)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Customers) == 0 {
				break
			}
			seen = append(seen, page.Customers[0].ID)
			if !page.HasNextPage {
				break
			}
			after = &page.Cursors[0]
		}
		if len(seen) != len(people) {
			t.Fatalf("paging saw %d customers", len(seen))
		}
		for _, f := range []int{-1, 101} {
			_, err := svc.SearchCustomers(ctx, "", &f, nil)
			mustCode(t, err, retention.CodeBadUserInput)
		}
		bad := "not-a-cursor"
		_, err := svc.SearchCustomers(ctx, "", nil, &bad)
		mustCode(t, err, retention.CodeBadUserInput)
		_, err = svc.SearchCustomers(ctx, strings.Repeat("a", 1025), nil, nil)
		mustCode(t, err, retention.CodeBadUserInput)

		plan, err := s.ExplainSearch(ctx, retention.SearchQuery{Text: "anna smith", Fields: retention.AllFields})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s plan:\n%s", s.Dialect(), plan)
		if s.Dialect() == store.SQLite {
			if !strings.Contains(plan, "customer_terms") {
				t.Errorf("search plan does not read the term index:\n%s", plan)
			}
			if strings.Contains(plan, "SCAN customers\n") || strings.HasSuffix(plan, "SCAN customers") {
				t.Errorf("search plan scans the table:\n%s", plan)
			}
		}
	})
}

func TestAppointmentsVisitsAndDelete(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		c, _ := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Linus")}})
		_, err := svc.BookAppointment(ctx, c.ID, now.Add(time.Hour), now)
		mustCode(t, err, retention.CodeBadUserInput)
		_, err = svc.BookAppointment(ctx, "cus_missing", now, now.Add(time.Hour))
		mustCode(t, err, retention.CodeNotFound)
		if _, err := svc.BookAppointment(ctx, c.ID, now.Add(5*retention.Day), now.Add(5*retention.Day+time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, _ := svc.Customer(ctx, c.ID)
		if want := now.Add(95*retention.Day + time.Hour); !svc.DeletionTime(got).Equal(want) {
			t.Fatalf("future appointment: deletion %v want %v", svc.DeletionTime(got), want)
		}
		_, err = svc.DeleteCustomer(ctx, c.ID)
		mustCode(t, err, retention.CodeFutureAppointment)

		v, err := svc.StartVisit(ctx, retention.VisitInput{CustomerID: &c.ID, CustomFields: []retention.CustomFieldValue{{Field: "custom1", Value: sp("x")}}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Customer(ctx, c.ID)
		if svc.DeletionTime(got) != nil {
			t.Fatalf("open visit should defer deletion: %v", svc.DeletionTime(got))
		}
		if _, err := svc.EndVisit(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
		_, err = svc.EndVisit(ctx, v.ID)
		mustCode(t, err, retention.CodeBadUserInput)

		// A walk-in visitor's data is erased when the visit ends, and the visit
		// keeps the storage settings in force when it started.
		walkIn, err := svc.StartVisit(ctx, retention.VisitInput{Visitor: &retention.PersonalData{FirstName: sp("Walk"), Phone: sp("0123 456")},
			CustomFields: []retention.CustomFieldValue{{Field: "custom2", Value: sp("y")}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateCustomFieldStorage(ctx, map[string]bool{"custom2": false}); err != nil {
			t.Fatal(err)
		}
		ended, err := svc.EndVisit(ctx, walkIn.ID)
		if err != nil || ended.Visitor != nil {
			t.Fatalf("visitor kept: %+v %v", ended, err)
		}
		stored, _ := svc.Visit(ctx, walkIn.ID)
		if stored.Visitor != nil || !stored.Storage["custom2"] {
			t.Fatalf("stored visit: visitor %+v storage %v", stored.Visitor, stored.Storage)
		}
		if rec := retention.VisitRecordOf(walkIn); rec.CustomFields["custom2"] != "y" {
			t.Fatalf("visit record lost a field stored at start: %v", rec.CustomFields)
		}
		// Delivered (no connector records visits here): Lethe's copy of the
		// custom fields is gone, only the statistics store's copy remains.
		if len(stored.CustomFields) != 0 || stored.StatsPending {
			t.Fatalf("ended, delivered walk-in visit keeps custom fields: %+v", stored.CustomFields)
		}
		later, _ := svc.StartVisit(ctx, retention.VisitInput{CustomFields: []retention.CustomFieldValue{{Field: "custom2", Value: sp("z")}}})
		if later.Storage["custom2"] || len(retention.VisitRecordOf(later).CustomFields) != 0 {
			t.Fatalf("new visit ignores the new storage setting: %v", later.Storage)
		}
		_, err = svc.UpdateCustomFieldStorage(ctx, map[string]bool{"custom9": true})
		mustCode(t, err, retention.CodeBadUserInput)

		d, _ := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Gone")}})
		if _, err := svc.BookAppointment(ctx, d.ID, now.Add(-2*retention.Day), now.Add(-retention.Day)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DeleteCustomer(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Customer(ctx, d.ID)
		mustCode(t, err, retention.CodeNotFound)
		if id, err := svc.DeleteCustomer(ctx, d.ID); err != nil || id != d.ID {
			t.Fatalf("repeated delete: %v %v", id, err)
		}
		tomb, _ := s.Customer(ctx, d.ID)
		if tomb.ErasedAt == nil || tomb.FirstName != nil {
			t.Fatalf("tombstone keeps data: %+v", tomb)
		}
		appts, _ := s.Appointments(ctx, []string{d.ID})
		if len(appts[d.ID]) != 0 {
			t.Fatalf("appointments kept after erase")
		}
	})
}

func TestStatusAndDataPolicy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		c, _ := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Ken")}})
		when := now.Add(-100 * retention.Day)
		future := now.Add(time.Minute)
		_, err := svc.SetCustomerStatus(ctx, c.ID, retention.StatusCancelled, &future)
		mustCode(t, err, retention.CodeBadUserInput)
		_, err = svc.SetCustomerStatus(ctx, c.ID, "PAUSED", nil)
		mustCode(t, err, retention.CodeBadUserInput)
		c, err = svc.SetCustomerStatus(ctx, c.ID, retention.StatusCancelled, &when)
		if err != nil || c.Status != retention.StatusCancelled || !c.StatusChangedAt.Equal(when) {
			t.Fatalf("status: %+v %v", c, err)
		}
		dp := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 5, AnonymiseCustomerData: true}
		if _, err := svc.UpdateDataPolicy(ctx, dp); err != nil {
			t.Fatal(err)
		}
		got, _ := svc.Customer(ctx, c.ID)
		// Created now, so the latest event is now: anonymising waits for it.
		if sched := schedule(t, svc, got); !svc.DeletionTime(got).Equal(now) || !sched.AnonymiseAt.Equal(now) {
			t.Fatalf("anonymise time %v / %v", svc.DeletionTime(got), sched.AnonymiseAt)
		}
		_, err = svc.UpdateDataPolicy(ctx, retention.DataPolicy{RelinquishAfterDays: 3651})
		mustCode(t, err, retention.CodeBadUserInput)
		if cur, _ := svc.DataPolicy(ctx); cur != dp {
			t.Fatalf("refused data policy was written: %+v", cur)
		}
		def, _ := svc.UseDefaultDataPolicy(ctx)
		if !def.UsesDefault() {
			t.Fatal("use default")
		}
		got, _ = svc.Customer(ctx, c.ID)
		if schedule(t, svc, got).AnonymiseAt != nil {
			t.Fatalf("anonymise time kept after the data policy was turned off")
		}
	})
}

func TestLegalHold(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		c, _ := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Held")}})
		h, err := svc.PlaceLegalHold(ctx, c.ID, "litigation 2026-17", nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := svc.Customer(ctx, c.ID)
		if svc.DeletionTime(got) != nil {
			t.Fatal("deletion time shown under hold")
		}
		_, err = svc.DeleteCustomer(ctx, c.ID)
		mustCode(t, err, retention.CodeLegalHold)
		_, err = svc.PlaceLegalHold(ctx, c.ID, " ", nil)
		mustCode(t, err, retention.CodeBadUserInput)
		if _, err := svc.ReleaseLegalHold(ctx, h.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Customer(ctx, c.ID)
		if svc.DeletionTime(got) == nil {
			t.Fatal("deletion time not back after release")
		}
		_, err = svc.ReleaseLegalHold(ctx, "hold_missing")
		mustCode(t, err, retention.CodeNotFound)
	})
}
