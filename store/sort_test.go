package store_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/searchkey"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestCustomerSort pages through customers in every order, both ways, with
// and without search words and filters, on both databases, in pages of 3:
// the pages hold every matching customer once, in the order of the values
// the API shows (deletion times as DeletionTime derives them under the
// data policy and several policies; names folded as search folds them).
func TestCustomerSort(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := now
		svc := retention.NewService(s, retention.WithClock(func() time.Time { return clock }))
		if _, err := svc.CreatePolicy(ctx, "long", 400, "kept long"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateDataPolicy(ctx, retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 20, AnonymiseCustomerData: true}); err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewSource(24))
		first := []string{"Anna", "Åsa", "Émile", "bob", "Zoë", "Søren"}
		last := []string{"Smith", "smith", "Strauß", "Ødegaard", "O'Brien", "Müller", "Zeta", "adams", "Smith-Jones"}
		for i := 0; i < 48; i++ {
			past := now.Add(-time.Duration(rnd.Intn(200*24)) * time.Hour)
			if i%4 == 0 {
				past = now.Add(-40 * retention.Day) // ties: the order falls back on ids
			}
			in := retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp(first[rnd.Intn(len(first))]), LastName: sp(last[rnd.Intn(len(last))])}, LastInteractionAt: &past}
			if i%7 == 0 {
				in.PersonalData.LastName = nil
			}
			c, err := svc.CreateCustomer(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			sortFixture(t, svc, c.ID, i, rnd)
		}
		all := listIDs(t, svc, "", retention.CustomerFilter{}, retention.CustomerOrder{}, 100)
		if len(all) != 48 {
			t.Fatalf("%d customers listed, want 48", len(all))
		}
		for _, key := range []retention.SortKey{retention.SortByName, retention.SortByDeletionTime, retention.SortByLastInteraction} {
			for _, desc := range []bool{false, true} {
				o := retention.CustomerOrder{Key: key, Desc: desc}
				for _, search := range []string{"", "smith", "s", "anna smith"} {
					for _, f := range []retention.CustomerFilter{{}, {Status: retention.StatusCancelled}, {Overdue: true}, {UnderHold: true}} {
						name := fmt.Sprintf("%s desc=%v search=%q filter=%+v", key, desc, search, f)
						want := listIDs(t, svc, search, f, retention.CustomerOrder{}, 100)
						got := listIDs(t, svc, search, f, o, 3)
						if !slices.Equal(sorted(got), sorted(want)) {
							t.Fatalf("%s: pages hold %v, want %v", name, got, want)
						}
						checkOrder(t, svc, name, got, o)
					}
				}
			}
		}
		// A cursor continues only the order it was made in.
		three := 3
		page, err := svc.SearchSorted(ctx, "", retention.CustomerFilter{}, retention.CustomerOrder{Key: retention.SortByName}, &three, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.SearchSorted(ctx, "", retention.CustomerFilter{}, retention.CustomerOrder{Key: retention.SortByName, Desc: true}, &three, &page.Cursors[2], false)
		mustCode(t, err, retention.CodeBadUserInput)
	})
}

// sortFixture gives the i-th customer what moves its deletion time: a
// status (the data policy), a policy, an appointment ahead, an open visit,
// a legal hold.
func sortFixture(t *testing.T, svc *retention.Service, id string, i int, rnd *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch i % 6 {
	case 1:
		at := now.Add(-time.Duration(rnd.Intn(60*24)) * time.Hour)
		_, err = svc.SetCustomerStatus(ctx, id, retention.StatusCancelled, &at)
	case 2:
		_, err = svc.SetCustomerPolicy(ctx, id, []string{"long", "direct", "appointment_days"}[rnd.Intn(3)])
	case 3:
		start := now.Add(time.Duration(1+rnd.Intn(90*24)) * time.Hour)
		_, err = svc.BookAppointment(ctx, id, start, start.Add(time.Hour))
	case 4:
		if i%4 == 0 {
			_, err = svc.StartVisit(ctx, retention.VisitInput{CustomerID: &id})
		} else {
			_, err = svc.PlaceLegalHold(ctx, id, "audit", nil)
		}
	case 5:
		at := now.Add(-time.Duration(rnd.Intn(60*24)) * time.Hour)
		_, err = svc.SetCustomerStatus(ctx, id, retention.StatusDeleted, &at)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func sorted(ids []string) []string { return slices.Sorted(slices.Values(ids)) }

// listIDs pages through a list, size customers a page.
func listIDs(t *testing.T, svc *retention.Service, search string, f retention.CustomerFilter, o retention.CustomerOrder, size int) []string {
	t.Helper()
	var out []string
	var after *string
	for range 100 {
		page, err := svc.SearchSorted(context.Background(), search, f, o, &size, after, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Customers {
			out = append(out, c.ID)
		}
		if !page.HasNextPage {
			return out
		}
		after = &page.Cursors[len(page.Cursors)-1]
	}
	t.Fatal("more than 100 pages")
	return nil
}

// checkOrder checks that ids are in order o of the values the API shows.
func checkOrder(t *testing.T, svc *retention.Service, name string, ids []string, o retention.CustomerOrder) {
	t.Helper()
	ctx := context.Background()
	type val struct {
		id   string
		none bool // no value: after the others
		text string
		at   time.Time
	}
	vals := make([]val, len(ids))
	for i, id := range ids {
		c, err := svc.Customer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		v := val{id: id}
		switch o.Key {
		case retention.SortByName:
			f, l := "", ""
			if c.FirstName != nil {
				f = searchkey.Fold(*c.FirstName)
			}
			if c.LastName != nil {
				l = searchkey.Fold(*c.LastName)
			}
			v.text = "1" + l + "\x01" + f
			if c.FirstName == nil && c.LastName == nil {
				v.text = "2"
			}
		case retention.SortByLastInteraction:
			v.at = c.Timeline.LatestEnd
		case retention.SortByDeletionTime:
			if d := svc.DeletionTime(c); d != nil {
				v.at = *d
			} else {
				v.none = true
			}
		}
		vals[i] = v
	}
	compare := func(a, b val) int {
		if a.none || b.none {
			if a.none && b.none {
				return cmp.Compare(a.id, b.id) * map[bool]int{false: 1, true: -1}[o.Desc]
			}
			if a.none {
				return 1
			}
			return -1
		}
		c := cmp.Or(cmp.Compare(a.text, b.text), a.at.Compare(b.at), cmp.Compare(a.id, b.id))
		if o.Desc && !a.none && !b.none {
			c = -c
		}
		return c
	}
	for i := 1; i < len(vals); i++ {
		if compare(vals[i-1], vals[i]) >= 0 {
			t.Fatalf("%s: %+v before %+v", name, vals[i-1], vals[i])
		}
	}
}
