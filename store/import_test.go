package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

func importData(n int, tag string) ([]*retention.Customer, []retention.Appointment, []retention.Visit) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var cs []*retention.Customer
	var as []retention.Appointment
	var vs []retention.Visit
	for i := range n {
		first, last := "Zoë", fmt.Sprintf("Import%s%d", tag, i)
		phone := fmt.Sprintf("07700 9%05d", i)
		c := &retention.Customer{ID: fmt.Sprintf("cus_%s_%05d", tag, i), Status: retention.StatusActive, CreatedAt: now, TouchedAt: now,
			PersonalData: retention.PersonalData{FirstName: &first, LastName: &last, Phone: &phone}}
		cs = append(cs, c)
		as = append(as, retention.Appointment{ID: "apt_" + c.ID, CustomerID: c.ID, StartsAt: now, EndsAt: now.Add(time.Hour)})
		ended := now.Add(time.Hour)
		vs = append(vs, retention.Visit{ID: "vis_" + c.ID, CustomerID: c.ID, StartedAt: now, EndedAt: &ended,
			Storage: retention.DefaultCustomFieldStorage()})
	}
	return cs, as, vs
}

// ImportCustomers writes what it is given, searchable, in batches larger
// than one statement; and an import that breaks a constraint half way
// (here an appointment of an unknown customer, a foreign key checked only
// at commit on SQLite) leaves nothing behind.
func TestImportCustomers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cs, as, vs := importData(1203, "ok")
		if err := s.ImportCustomers(ctx, cs, as, vs); err != nil {
			t.Fatal(err)
		}
		ids := []string{cs[0].ID, cs[600].ID, cs[1202].ID}
		got, err := s.CustomersByID(ctx, ids)
		if err != nil || len(got) != 3 || *got[cs[1202].ID].LastName != *cs[1202].LastName {
			t.Fatalf("imported customers read back as %v, %v", got, err)
		}
		appts, _ := s.Appointments(ctx, ids)
		visits, _ := s.Visits(ctx, ids)
		if len(appts[cs[600].ID]) != 1 || len(visits[cs[1202].ID]) != 1 {
			t.Errorf("appointments %v, visits %v", appts, visits)
		}
		page, err := s.SearchCustomers(ctx, retention.SearchQuery{Text: "importok1202 zoe",
			Fields: []retention.Field{retention.FieldFirstName, retention.FieldLastName}, First: 10, Count: true})
		if err != nil || page.TotalCount != 1 || page.Customers[0].ID != cs[1202].ID {
			t.Errorf("search after import: %+v, %v", page, err)
		}
		page, err = s.SearchCustomers(ctx, retention.SearchQuery{Text: "+44 7700 900601", Fields: []retention.Field{retention.FieldPhone}, First: 10})
		if err != nil || len(page.Customers) != 1 || page.Customers[0].ID != cs[601].ID {
			t.Errorf("phone search after import: %+v, %v", page, err)
		}

		bad, badAs, badVs := importData(900, "bad")
		badAs[700].CustomerID = "cus_nobody"
		if err := s.ImportCustomers(ctx, bad, badAs, badVs); err == nil {
			t.Fatal("an import with an appointment of an unknown customer succeeded")
		}
		left, err := s.CustomersByID(ctx, []string{bad[0].ID, bad[899].ID})
		if err != nil || len(left) != 0 {
			t.Errorf("a failed import left customers behind: %v, %v", left, err)
		}
		page, _ = s.SearchCustomers(ctx, retention.SearchQuery{Text: "importbad1", Fields: []retention.Field{retention.FieldLastName}, First: 10, Count: true})
		if page.TotalCount != 0 {
			t.Errorf("a failed import left %d searchable customers", page.TotalCount)
		}
	})
}
