package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestRangesMatchComputeSchedule is the property that holds the store's
// ranges to the single-customer rule: for random customers (events in any
// order, open visits, holds, per-category relinquished state, assigned and
// automatic policies, statuses, erasures), random policy sets and data
// policies, and random instants (half of them exactly on a customer's erase
// or anonymise time), the due set a dry run reads from the ranges, the
// counts of a preview (customersPlanned, addedByChange, removedByChange) and
// the forecast equal what ComputeSchedule gives customer by customer.
func TestRangesMatchComputeSchedule(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(18, 22))
		base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		svc := retention.NewService(s, retention.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		for _, name := range []string{"short", "long"} {
			if _, err := svc.CreatePolicy(ctx, name, 1+rng.IntN(100), name); err != nil {
				t.Fatal(err)
			}
		}
		ps, err := s.Policies(ctx)
		if err != nil {
			t.Fatal(err)
		}
		customers := seedRandomCustomers(t, s, rng, base, ps, 400)
		for round := range 24 {
			policies, dp := randomRules(t, s, rng, ps)
			at := randomInstant(rng, base, customers, policies, dp)
			eng := relinquish.NewEngine(s, nil, retention.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
				retention.WithClock(func() time.Time { return at }))
			when := fmt.Sprintf("round %d at %s (%v, %+v)", round, at.Format(time.RFC3339Nano), daysOf(policies), dp)

			want := dueSet(customers, policies, dp, at)
			run, err := eng.DryRun(ctx, retention.RunOptions{AsOf: &at, Trigger: "test"})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			actions, err := eng.RunActions(ctx, run.ID, ptr(relinquish.MaxRunActions))
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range actions {
				got[a.CustomerID] = a.Action
			}
			compareDue(t, when+": dry run", want, got, run.CustomersPlanned)

			// A proposed policy change: counts against both rule sets.
			name := ps[rng.IntN(len(ps))].Name
			days := rng.IntN(120)
			proposed := clonePolicies(policies)
			p := proposed[name]
			p.RetentionDays = days
			proposed[name] = p
			preview, err := eng.PreviewPolicyUpdate(ctx, name, &days, nil, &at, "test")
			if err != nil {
				t.Fatal(err)
			}
			checkPreview(t, fmt.Sprintf("%s: preview %s=%d", when, name, days), preview, want, dueSet(customers, proposed, dp, at))

			// A proposed data policy.
			pdp := randomDataPolicy(rng)
			preview, err = eng.PreviewDataPolicy(ctx, pdp, &at, "test")
			if err != nil {
				t.Fatal(err)
			}
			checkPreview(t, fmt.Sprintf("%s: preview %+v", when, pdp), preview, want, dueSet(customers, policies, pdp, at))

			f, err := retention.ForecastUnder(ctx, s, policies, dp, at, 8)
			if err != nil {
				t.Fatal(err)
			}
			if wf := forecastOf(customers, policies, dp, at, 8); !sameForecast(f, wf) {
				t.Fatalf("%s: forecast\n got %+v %+v\nwant %+v %+v", when, f.Overdue, f.Weeks, wf.Overdue, wf.Weeks)
			}
		}
	})
}

// seedRandomCustomers writes n customers in every situation the rules read,
// and returns them as the store reads them back (microsecond times).
func seedRandomCustomers(t *testing.T, s *store.Store, rng *rand.Rand, base time.Time, ps []retention.Policy, n int) []*retention.Customer {
	t.Helper()
	ctx := context.Background()
	anyTime := func(from, to int) time.Time { // days around base, to the microsecond
		span := int64(to-from) * int64(retention.Day/time.Microsecond)
		return base.Add(time.Duration(from)*retention.Day + time.Duration(rng.Int64N(span))*time.Microsecond)
	}
	cats := []string{retention.CategoryCDR, retention.CategoryContact, retention.CategoryCustomFields, retention.CategoryInvoice, retention.CategoryVisitStats, "loyalty"}
	ids := make([]string, n)
	err := s.Update(ctx, func(tx retention.Tx) error {
		for i := range n {
			created := anyTime(-700, -1)
			c := &retention.Customer{ID: fmt.Sprintf("cus_prop%04d", i), Status: retention.StatusActive, CreatedAt: created, TouchedAt: created}
			c.Timeline.Observe(retention.EventCreated, created)
			if rng.IntN(2) == 0 {
				c.Timeline.Visits = 1 + rng.IntN(3)
				c.Timeline.Observe(retention.EventVisit, anyTime(-600, 0))
				if rng.IntN(6) == 0 {
					c.Timeline.OpenVisits = 1
				}
			}
			if rng.IntN(2) == 0 {
				c.Timeline.Appointments = 1 + rng.IntN(2)
				c.Timeline.Observe(retention.EventAppointment, anyTime(-600, 200))
			}
			if k := rng.IntN(4); k > 0 {
				at := anyTime(-650, 0)
				c.Status, c.StatusChangedAt = []retention.Status{retention.StatusActive, retention.StatusCancelled, retention.StatusDeleted}[k-1], &at
				c.Timeline.Observe(retention.EventStatusChange, at)
			}
			for _, cat := range cats {
				if rng.IntN(4) == 0 {
					c.Relinquished = c.Relinquished.With([]string{cat}, anyTime(-100, 0))
				}
			}
			if rng.IntN(3) == 0 {
				c.PolicyName = ps[rng.IntN(len(ps))].Name
			}
			switch rng.IntN(10) {
			case 0:
				u := anyTime(-300, 300)
				c.HeldUntil = &u
			case 1:
				c.HeldUntil = &retention.HoldForever
			case 2:
				e := anyTime(-30, 0)
				c.ErasedAt = &e
			}
			ids[i] = c.ID
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	byID, err := s.CustomersByID(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*retention.Customer, 0, n)
	for _, id := range ids {
		out = append(out, byID[id])
	}
	return out
}

// randomRules saves random days for every policy and a random data policy.
func randomRules(t *testing.T, s *store.Store, rng *rand.Rand, ps []retention.Policy) (retention.PolicySet, retention.DataPolicy) {
	t.Helper()
	ctx := context.Background()
	dp := randomDataPolicy(rng)
	err := s.Update(ctx, func(tx retention.Tx) error {
		for _, p := range ps {
			p.RetentionDays = []int{0, 1, 7, 30, 90, 365}[rng.IntN(6)]
			if err := tx.SavePolicy(ctx, p); err != nil {
				return err
			}
		}
		return tx.SaveDataPolicy(ctx, dp)
	})
	if err != nil {
		t.Fatal(err)
	}
	now, err := s.Policies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return retention.NewPolicySet(now), dp
}

func randomDataPolicy(rng *rand.Rand) retention.DataPolicy {
	return retention.DataPolicy{RelinquishDeletedData: rng.IntN(4) != 0, RelinquishAfterDays: []int{0, 1, 10, 90}[rng.IntN(4)],
		AnonymiseCustomerData: rng.IntN(2) == 0, RemoveCDRs: rng.IntN(2) == 0}
}

// randomInstant is mostly exactly a customer's erase or anonymise time (an
// off-by-one bound shows there: the customer is due at that instant, not a
// microsecond before), else any time around base.
func randomInstant(rng *rand.Rand, base time.Time, customers []*retention.Customer, policies retention.PolicySet, dp retention.DataPolicy) time.Time {
	var erase, anonymise []time.Time
	for _, c := range customers {
		s := retention.ComputeSchedule(c, policies, dp)
		if s.EraseAt != nil {
			erase = append(erase, *s.EraseAt)
		}
		if s.AnonymiseAt != nil {
			anonymise = append(anonymise, *s.AnonymiseAt)
		}
	}
	switch k := rng.IntN(4); {
	case k == 0 && len(erase) > 0:
		return erase[rng.IntN(len(erase))]
	case k <= 2 && len(anonymise) > 0:
		return anonymise[rng.IntN(len(anonymise))]
	}
	return base.Add(time.Duration(rng.Int64N(int64(400*retention.Day))) - 100*retention.Day)
}

// dueSet is the definition: what a sweep at at does, customer by customer.
func dueSet(customers []*retention.Customer, policies retention.PolicySet, dp retention.DataPolicy, at time.Time) map[string]string {
	out := map[string]string{}
	for _, c := range customers {
		if c.ErasedAt != nil || c.Held(at) {
			continue
		}
		s := retention.ComputeSchedule(c, policies, dp)
		switch {
		case s.EraseAt != nil && !s.EraseAt.After(at):
			out[c.ID] = string(retention.ActionErase)
		case s.AnonymiseAt != nil && !s.AnonymiseAt.After(at):
			out[c.ID] = string(retention.ActionAnonymise)
		}
	}
	return out
}

func compareDue(t *testing.T, when string, want, got map[string]string, planned int) {
	t.Helper()
	var diffs []string
	for id, k := range want {
		if got[id] != k {
			diffs = append(diffs, fmt.Sprintf("%s: store %q, rules %q", id, got[id], k))
		}
	}
	for id, k := range got {
		if _, ok := want[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: store %q, rules nothing", id, k))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 || planned != len(want) {
		t.Fatalf("%s: %d planned, %d due by the rules; %d differ: %s", when, planned, len(want), len(diffs), strings.Join(diffs[:min(5, len(diffs))], "; "))
	}
}

func checkPreview(t *testing.T, when string, run retention.Run, before, after map[string]string) {
	t.Helper()
	added, removed := 0, 0
	for id := range after {
		if _, ok := before[id]; !ok {
			added++
		}
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			removed++
		}
	}
	if run.CustomersPlanned != len(after) || run.AddedByChange == nil || *run.AddedByChange != added || *run.RemovedByChange != removed {
		t.Fatalf("%s: planned %d added %v removed %v; the rules: %d, +%d, -%d", when, run.CustomersPlanned, *run.AddedByChange, *run.RemovedByChange, len(after), added, removed)
	}
}

// forecastOf is the forecast, customer by customer.
func forecastOf(customers []*retention.Customer, policies retention.PolicySet, dp retention.DataPolicy, from time.Time, weeks int) retention.Forecast {
	f := retention.Forecast{From: from, Weeks: make([]retention.ForecastWeek, weeks)}
	end := from.Add(time.Duration(weeks) * retention.Week)
	for _, c := range customers {
		if c.ErasedAt != nil {
			continue
		}
		s := retention.ComputeSchedule(c, policies, dp)
		if s.DeletionTime == nil {
			continue
		}
		at := *s.DeletionTime
		if c.HeldUntil != nil && c.HeldUntil.After(at) {
			at = *c.HeldUntil
		}
		var b *retention.ForecastCount
		switch {
		case at.Before(from):
			b = &f.Overdue
		case at.Before(end):
			b = &f.Weeks[int(at.Sub(from)/retention.Week)].ForecastCount
		default:
			continue
		}
		if s.Action == retention.ActionAnonymise {
			b.Anonymise++
		} else {
			b.Erase++
		}
	}
	return f
}

func sameForecast(a, b retention.Forecast) bool {
	if a.Overdue != b.Overdue || len(a.Weeks) != len(b.Weeks) {
		return false
	}
	for i := range a.Weeks {
		if a.Weeks[i].ForecastCount != b.Weeks[i].ForecastCount {
			return false
		}
	}
	return true
}

func clonePolicies(p retention.PolicySet) retention.PolicySet {
	out := make(retention.PolicySet, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

func daysOf(p retention.PolicySet) string {
	var out []string
	for _, x := range p.Sorted() {
		out = append(out, fmt.Sprintf("%s=%d", x.Name, x.RetentionDays))
	}
	return strings.Join(out, " ")
}
