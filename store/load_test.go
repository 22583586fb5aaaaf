package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestNoBusyUnderLoad runs 64 clients at once against one store (a few
// seconds), each doing a fixed round of searches, reads, customer creation,
// bookings, status changes and exports: every call must succeed (no
// SQLITE_BUSY, "database is locked", or serialization failure may reach a
// caller). The rounds are counted, not timed: speed belongs to make bench.
func TestNoBusyUnderLoad(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		var ids []string
		for i := range 200 {
			c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{
				FirstName: sp(fmt.Sprintf("Load%d", i)), LastName: sp("Tester"), Phone: sp(fmt.Sprintf("07700 9%05d", i))}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		const clients = 64
		const rounds = 12 // operations per client, two of each kind
		var ops, writes atomic.Int64
		var mu sync.Mutex
		var failures []string
		var wg sync.WaitGroup
		for w := range clients {
			wg.Go(func() {
				for i := range rounds {
					id := ids[(w*31+i)%len(ids)]
					var err error
					switch (w + i) % 6 {
					case 0:
						_, err = svc.SearchCustomers(ctx, fmt.Sprintf("load%d", i%20), nil, nil)
					case 1:
						_, err = svc.Customer(ctx, id)
					case 2:
						_, err = svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp(fmt.Sprintf("New%d-%d", w, i))}})
						writes.Add(1)
					case 3:
						start := now.Add(time.Duration(w*1000+i+1) * time.Hour)
						_, err = svc.BookAppointment(ctx, id, start, start.Add(time.Hour))
						writes.Add(1)
					case 4:
						status := retention.StatusActive
						if i%2 == 0 {
							status = retention.StatusCancelled
						}
						_, err = svc.SetCustomerStatus(ctx, id, status, nil)
						writes.Add(1)
					case 5:
						_, err = svc.ExportCustomer(ctx, id)
						writes.Add(1)
					}
					ops.Add(1)
					if err != nil {
						mu.Lock()
						failures = append(failures, err.Error())
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		t.Logf("%s: %d operations (%d writes) by %d clients", s.Dialect(), ops.Load(), writes.Load(), clients)
		if len(failures) > 0 {
			t.Fatalf("%d of %d operations failed, first: %s", len(failures), ops.Load(), strings.Join(failures[:min(3, len(failures))], "; "))
		}
		if ops.Load() != clients*rounds || writes.Load() != clients*rounds*4/6 {
			t.Fatalf("%d operations, %d writes: want %d and %d", ops.Load(), writes.Load(), clients*rounds, clients*rounds*4/6)
		}
	})
}
