package store_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// statementCounter counts the statements the store runs whose text
// contains match (every statement when match is empty).
type statementCounter struct {
	match string
	n     atomic.Int64
}

func (c *statementCounter) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if strings.Contains(e.Query, c.match) {
		c.n.Add(1)
	}
	return ctx
}

func (c *statementCounter) AfterQuery(context.Context, *bun.QueryEvent) {}

// cacheTTL is the caches' time to live in these tests: short enough to
// wait out.
const cacheTTL = 300 * time.Millisecond

// cachingPair is a Service that caches for cacheTTL, as a server does, and
// one on the same database that stands for another replica or the CLI,
// both acting as an admin named actor.
func cachingPair(s *store.Store, actor string) (context.Context, *retention.Service, *retention.Service) {
	ctx := retention.WithActor(context.Background(), retention.Actor{Name: actor, Role: retention.RoleAdmin})
	return ctx, retention.NewService(s, retention.WithCacheTTL(cacheTTL)), retention.NewService(s)
}

// sleepPastTTL waits until what was cached before since has expired.
func sleepPastTTL(since time.Time) { time.Sleep(cacheTTL - time.Since(since) + 50*time.Millisecond) }

// TestPreferencesCache: readers' masks come from preferences cached for the
// TTL; a change made through the same Service applies to the next read,
// one made by another replica (another Service on the same database) once
// the TTL has passed.
func TestPreferencesCache(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, here, elsewhere := cachingPair(s, "admin")
		c, err := here.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Ada")}})
		if err != nil {
			t.Fatal(err)
		}
		reads := &statementCounter{match: `"settings"`}
		s.AddQueryHook(reads)
		shown := func() bool {
			t.Helper()
			got, err := here.Customer(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.FirstName != nil
		}
		if !shown() {
			t.Fatal("first name hidden by default preferences")
		}
		reads.n.Store(0)
		for range 3 {
			shown()
		}
		if n := reads.n.Load(); n != 0 {
			t.Fatalf("cached preferences still read %d times", n)
		}

		off, on := false, true
		// Another replica turns collection off: applies here within the TTL.
		changed := time.Now()
		if _, err := elsewhere.UpdateFieldPreferences(ctx, &off, nil, true); err != nil {
			t.Fatal(err)
		}
		sleepPastTTL(changed)
		if shown() {
			t.Fatal("collection turned off by another replica still shows data after the TTL")
		}
		// Turned on here: applies to the very next read.
		if _, err := here.UpdateFieldPreferences(ctx, &on, nil, true); err != nil {
			t.Fatal(err)
		}
		if !shown() {
			t.Fatal("collection turned on here still hides data")
		}
		if _, err := here.UpdateFieldPreferences(ctx, &off, nil, true); err != nil {
			t.Fatal(err)
		}
		if shown() {
			t.Fatal("collection turned off here still shows data")
		}
		page, err := here.SearchCustomers(ctx, "", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, pc := range page.Customers {
			if pc.FirstName != nil {
				t.Fatalf("search shows data with collection off: %+v", pc)
			}
		}
	})
}

// TestRulesCache: the policies and data policy readers see (a customer's
// policy and deletion reason) are cached for the TTL; a change made here
// (a policy created or changed, the data policy) applies to the next read,
// one made by another replica once the TTL has passed.
func TestRulesCache(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, here, elsewhere := cachingPair(s, "admin")
		days := func(name string) int {
			t.Helper()
			ps, _, err := here.ReadRules(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.Name == name {
					return p.RetentionDays
				}
			}
			return -1
		}
		start := days(retention.PolicyDefault)
		counter := &statementCounter{}
		s.AddQueryHook(counter)
		days(retention.PolicyDefault)
		if n := counter.n.Load(); n != 0 {
			t.Fatalf("cached rules still ran %d statements", n)
		}
		if _, err := here.CreatePolicy(ctx, "tax", 3650, "ten years"); err != nil {
			t.Fatal(err)
		}
		if days("tax") != 3650 {
			t.Fatal("a policy created here is missing from the next read")
		}
		n := start + 1
		if _, err := here.UpdatePolicy(ctx, retention.PolicyDefault, &n, nil); err != nil {
			t.Fatal(err)
		}
		if days(retention.PolicyDefault) != n {
			t.Fatal("a policy changed here is stale on the next read")
		}
		changed := time.Now()
		m := n + 1
		if _, err := elsewhere.UpdatePolicy(ctx, retention.PolicyDefault, &m, nil); err != nil {
			t.Fatal(err)
		}
		sleepPastTTL(changed)
		if days(retention.PolicyDefault) != m {
			t.Fatal("a policy changed by another replica is stale after the TTL")
		}
		want := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 30, AnonymiseCustomerData: true, RemoveCDRs: true}
		if _, err := here.UpdateDataPolicy(ctx, want); err != nil {
			t.Fatal(err)
		}
		if _, got, err := here.ReadRules(ctx); err != nil || got.RelinquishAfterDays != 30 || !got.RelinquishDeletedData {
			t.Fatalf("the data policy changed here is stale: %+v %v", got, err)
		}
	})
}
