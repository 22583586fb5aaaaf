package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestDeletePolicyRacesAssignment assigns a custom policy while deleting it,
// many times, on both databases: never do both succeed (a customer assigned
// a deleted policy would be in no policy group's range, never swept).
func TestDeletePolicyRacesAssignment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := retention.NewService(s, retention.WithClock(func() time.Time { return now }))
		c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Race")}})
		if err != nil {
			t.Fatal(err)
		}
		both := 0
		for i := range 30 {
			name := fmt.Sprintf("race_%d", i)
			if _, err := svc.CreatePolicy(ctx, name, 10, "racing"); err != nil {
				t.Fatal(err)
			}
			var assignErr, deleteErr error
			var wg sync.WaitGroup
			wg.Go(func() { _, assignErr = svc.SetCustomerPolicy(ctx, c.ID, name) })
			wg.Go(func() { _, deleteErr = svc.DeletePolicy(ctx, name) })
			wg.Wait()
			switch {
			case assignErr == nil && deleteErr == nil:
				both++
			case assignErr == nil:
				mustCode(t, deleteErr, retention.CodePolicyInUse)
			case deleteErr == nil:
				mustCode(t, assignErr, retention.CodeBadUserInput)
			default:
				t.Fatalf("both failed: %v / %v", assignErr, deleteErr)
			}
			got, err := svc.Customer(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.PolicyName == name {
				if _, err := svc.Policy(ctx, name); err != nil {
					t.Fatalf("round %d: the customer is assigned %s, which is gone: %v", i, name, err)
				}
			}
			if _, err := svc.SetCustomerPolicy(ctx, c.ID, ""); err != nil {
				t.Fatal(err)
			}
		}
		if both > 0 {
			t.Fatalf("%d of 30 rounds both assigned and deleted the policy", both)
		}
	})
}
