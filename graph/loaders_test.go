package graph_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *statementCounter) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestCustomerPageStatements: a page of customers with every sub-field
// costs the same number of SQL statements for 10 customers as for 100.
func TestCustomerPageStatements(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := retention.NewService(s)
		for i := range 100 {
			c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{
				FirstName: sp(fmt.Sprintf("Page%03d", i)), LastName: sp("Loader")}})
			if err != nil {
				t.Fatal(err)
			}
			ahead := time.Now().Add(time.Duration(24+i) * time.Hour)
			if _, err := svc.BookAppointment(ctx, c.ID, ahead, ahead.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.BookAppointment(ctx, c.ID, ahead.Add(-72*time.Hour), ahead.Add(-71*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.StartVisit(ctx, retention.VisitInput{CustomerID: &c.ID}); err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				if _, err := svc.PlaceLegalHold(ctx, c.ID, "audit", nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		c := newClient(t, s)
		counter := &statementCounter{}
		s.AddQueryHook(counter)
		page := func(first int) (int64, []any) {
			counter.n.Store(0)
			d := c.ok(fmt.Sprintf(`{ customers(search: "page", first: %d) { totalCount edges { node {
				id firstName lastName email phone status statusChangedAt lastInteractionAt createdAt anonymisedAt
				retentionPolicy { name retentionDays } retentionPolicyAssigned deletionTime deletionReason
				legalHolds { id reason active } appointments { id startsAt endsAt } visits { id startedAt endedAt customFields { field value } }
			} } } }`, first), nil)
			return counter.n.Load(), d["customers"].(map[string]any)["edges"].([]any)
		}
		page(1) // the first request records that the token was used; later ones within a minute do not
		n10, edges10 := page(10)
		n100, edges100 := page(100)
		t.Logf("%s: %d statements for 10 customers, %d for 100", s.Dialect(), n10, n100)
		if len(edges10) != 10 || len(edges100) != 100 {
			t.Fatalf("pages of %d and %d customers", len(edges10), len(edges100))
		}
		node := edges100[99].(map[string]any)["node"].(map[string]any)
		if len(node["appointments"].([]any)) != 2 || len(node["visits"].([]any)) != 1 || node["lastInteractionAt"] == nil ||
			node["deletionReason"] == nil {
			t.Fatalf("sub-fields missing: %v", node)
		}
		if n100 != n10 || n100 > 15 {
			t.Fatalf("%d statements for 10 customers, %d for 100: want the same small number", n10, n100)
		}
	})
}
