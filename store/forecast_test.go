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

func TestForecast(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		create := func(name string, last time.Time) *retention.Customer {
			t.Helper()
			c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp(name)}, LastInteractionAt: &last})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		create("fresh", now)                          // erased in 30 days: week 4
		create("overdue", now.Add(-40*retention.Day)) // due 10 days ago
		cancelled := create("cancelled", now.Add(-20*retention.Day))
		if _, err := svc.SetCustomerStatus(ctx, cancelled.ID, retention.StatusCancelled, ptr(now.Add(-5*retention.Day))); err != nil {
			t.Fatal(err)
		}
		// Anonymised 10 days after the cancellation (week 0), before its
		// erase 30 days after it.
		if _, err := svc.UpdateDataPolicy(ctx, retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 10, AnonymiseCustomerData: true}); err != nil {
			t.Fatal(err)
		}
		held := create("held", now)
		if _, err := svc.PlaceLegalHold(ctx, held.ID, "audit", ptr(now.Add(100*retention.Day))); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PlaceLegalHold(ctx, create("held forever", now).ID, "court order", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DeleteCustomer(ctx, create("erased", now.Add(-1*retention.Day)).ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreatePolicy(ctx, "tax_records", 3650, "ten years"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetCustomerPolicy(ctx, create("tax", now).ID, "tax_records"); err != nil {
			t.Fatal(err)
		}

		f, err := svc.Forecast(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !f.From.Equal(now) || len(f.Weeks) != retention.DefaultForecastWeeks || !f.Weeks[1].Start.Equal(now.Add(retention.Week)) {
			t.Fatalf("forecast frame: from %v, %d weeks", f.From, len(f.Weeks))
		}
		if f.Overdue != (retention.ForecastCount{Erase: 1}) {
			t.Errorf("overdue %+v, want one erase", f.Overdue)
		}
		want := map[int]retention.ForecastCount{0: {Anonymise: 1}, 4: {Erase: 1}, 14: {Erase: 1}}
		for i, w := range f.Weeks {
			if w.ForecastCount != want[i] {
				t.Errorf("week %d: %+v, want %+v", i, w.ForecastCount, want[i])
			}
		}

		weeks := 0
		_, err = svc.Forecast(ctx, &weeks)
		mustCode(t, err, retention.CodeBadUserInput)
		weeks = retention.MaxForecastWeeks + 1
		_, err = svc.Forecast(ctx, &weeks)
		mustCode(t, err, retention.CodeBadUserInput)

		// A preview forecasts with the proposed settings, and saves none:
		// fresh and held (its hold ends first) move to day 200, overdue to
		// day 160.
		days := 200
		run, err := relinquish.NewEngine(s, nil, retention.WithClock(func() time.Time { return now })).
			PreviewPolicyUpdate(ctx, "default", &days, nil, nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		if run.Forecast == nil || run.Forecast.Weeks[28].Erase != 2 || run.Forecast.Weeks[22].Erase != 1 || run.Forecast.Weeks[4].Erase != 0 || run.Forecast.Overdue.Erase != 0 {
			t.Fatalf("preview forecast: %+v", run.Forecast)
		}
		if f, _ := svc.Forecast(ctx, nil); f.Weeks[4].Erase != 1 {
			t.Fatalf("the preview changed the rules in force: %+v", f.Weeks[4])
		}

		plan, err := s.ExplainRanges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s plan:\n%s", s.Dialect(), plan)
		if s.Dialect() == store.SQLite {
			for _, want := range []string{"COVERING INDEX customers_due ", "COVERING INDEX customers_due_status", "INDEX customers_due "} {
				if !strings.Contains(plan, want) {
					t.Errorf("the ranges' plans do not use %s:\n%s", want, plan)
				}
			}
			if strings.Contains(plan, "SCAN customers") || strings.Contains(plan, "TEMP B-TREE FOR ORDER") {
				t.Errorf("a range scans the table or sorts:\n%s", plan)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }
