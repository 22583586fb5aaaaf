package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
)

// StaleCustomers lists the customers whose stored anchors (policy group,
// relinquished mask) differ from those their own record gives: nothing
// else the rules read is stored apart from the facts themselves.
func StaleCustomers(t *testing.T, s *store.Store) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := s.DB().QueryContext(ctx, "SELECT id, policy_group, relinquished_mask FROM customers ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	type anchors struct {
		group string
		mask  int
	}
	stored := map[string]anchors{}
	for rows.Next() {
		var id string
		var a anchors
		if err := rows.Scan(&id, &a.group, &a.mask); err != nil {
			t.Fatal(err)
		}
		stored[id] = a
	}
	rows.Close()
	var stale []string
	for id, a := range stored {
		c, err := s.Customer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := (anchors{retention.PolicyGroupOf(c), retention.CategoryMask(c.Relinquished)}); a != want {
			stale = append(stale, fmt.Sprintf("%s stored %+v, record %+v", id, a, want))
		}
	}
	return stale
}
