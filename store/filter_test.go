package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestCustomerFilters lists customers by status, overdue and under hold, with
// and without search words, on both databases: pages and counts hold
// exactly the customers the filter accepts.
func TestCustomerFilters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := now
		svc := retention.NewService(s, retention.WithClock(func() time.Time { return clock }))
		ids := map[string]string{}
		for _, name := range []string{"old", "oldheld", "cancelled", "fresh"} {
			past := now.Add(-60 * retention.Day)
			at := &past
			if name == "fresh" {
				at = nil
			}
			c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Filter"), LastName: sp(name)}, LastInteractionAt: at})
			if err != nil {
				t.Fatal(err)
			}
			ids[c.ID] = name
		}
		byName := map[string]string{}
		for id, n := range ids {
			byName[n] = id
		}
		if _, err := svc.PlaceLegalHold(ctx, byName["oldheld"], "litigation", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetCustomerStatus(ctx, byName["cancelled"], retention.StatusCancelled, nil); err != nil {
			t.Fatal(err)
		}
		list := func(search string, f retention.CustomerFilter) []string {
			t.Helper()
			two := 2
			var out []string
			var after *string
			total := -1
			for {
				page, err := svc.SearchFiltered(ctx, search, f, &two, after, true)
				if err != nil {
					t.Fatal(err)
				}
				if total < 0 {
					total = page.TotalCount
				}
				for _, c := range page.Customers {
					out = append(out, ids[c.ID])
				}
				if !page.HasNextPage {
					break
				}
				after = &page.Cursors[len(page.Cursors)-1]
			}
			slices.Sort(out)
			if total != len(out) {
				t.Errorf("search %q %+v: totalCount %d, pages hold %d", search, f, total, len(out))
			}
			return out
		}
		for _, search := range []string{"", "filter", "filter o"} {
			for _, tc := range []struct {
				f    retention.CustomerFilter
				want []string
			}{
				{retention.CustomerFilter{Overdue: true}, []string{"old"}},
				{retention.CustomerFilter{UnderHold: true}, []string{"oldheld"}},
				{retention.CustomerFilter{Status: retention.StatusCancelled}, []string{"cancelled"}},
				{retention.CustomerFilter{Status: retention.StatusActive}, []string{"fresh", "old", "oldheld"}},
				{retention.CustomerFilter{Status: retention.StatusActive, Overdue: true}, []string{"old"}},
			} {
				want := tc.want
				if search == "filter o" {
					want = slices.DeleteFunc(slices.Clone(want), func(n string) bool { return n[0] != 'o' })
				}
				if got := list(search, tc.f); !slices.Equal(got, want) {
					t.Errorf("search %q %+v: %v, want %v", search, tc.f, got, want)
				}
			}
		}
		// The data policy's rule counts too: relinquishing cancelled
		// customers at once makes "cancelled" overdue (anonymise first).
		if _, err := svc.UpdateDataPolicy(ctx, retention.DataPolicy{RelinquishDeletedData: true, AnonymiseCustomerData: true}); err != nil {
			t.Fatal(err)
		}
		if got := list("", retention.CustomerFilter{Overdue: true}); !slices.Equal(got, []string{"cancelled", "old"}) {
			t.Errorf("overdue under the data policy: %v, want [cancelled old]", got)
		}
		_, err := svc.SearchFiltered(ctx, "", retention.CustomerFilter{Status: "ARCHIVED"}, nil, nil, false)
		mustCode(t, err, retention.CodeBadUserInput)
	})
}
