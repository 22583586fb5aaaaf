package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// BenchmarkPolicyChangeUnderWrites changes the default policy over
// LETHE_BENCH_CUSTOMERS customers (default 100,000) while 8 clients write
// (book appointments), on SQLite and on PostgreSQL. It reports how long the
// change took to commit, how long until every schedule was recomputed, and
// the slowest and p99 write during it, against the p99 write measured just
// before it in the same run (the baseline).
//
//	LETHE_TEST_POSTGRES_DSN=postgres://… go test -run '^$' -bench BenchmarkPolicyChangeUnderWrites -benchtime 1x ./store
func BenchmarkPolicyChangeUnderWrites(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("LETHE_BENCH_CUSTOMERS")); err == nil && v > 0 {
		n = v
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var s *store.Store
			if dialect == "sqlite" {
				s = storetest.MustOpenSQLite(b)
			} else {
				s = storetest.MustOpenPostgres(b)
			}
			ctx := context.Background()
			ps, _ := s.Policies(ctx)
			policies := retention.NewPolicySet(ps)
			dp, _ := s.DataPolicy(ctx)
			past := time.Now().Add(-10 * retention.Day).UTC().Truncate(time.Microsecond)
			var ids []string
			for start := 0; start < n; start += 20_000 {
				var batch []*retention.Customer
				for i := start; i < min(start+20_000, n); i++ {
					c := &retention.Customer{ID: fmt.Sprintf("cus_bench_%08d", i), Status: retention.StatusActive, CreatedAt: past, TouchedAt: past,
						PersonalData: retention.PersonalData{FirstName: sp(fmt.Sprint("B", i))}}
					c.Timeline.Observe(retention.EventImported, past)
					retention.ComputeSchedule(c, policies, dp).Apply(c)
					batch = append(batch, c)
					if i%50 == 0 {
						ids = append(ids, c.ID)
					}
				}
				if err := s.ImportCustomers(ctx, batch, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
			svc := retention.NewService(s, retention.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			for range b.N {
				measure := func(during func()) []time.Duration {
					var mu sync.Mutex
					var lat []time.Duration
					done := make(chan struct{})
					var wg sync.WaitGroup
					for w := range 8 {
						wg.Go(func() {
							for i := 0; ; i++ {
								select {
								case <-done:
									return
								default:
								}
								at := time.Now().Add(time.Duration(24+i) * time.Hour)
								t0 := time.Now()
								if _, err := svc.BookAppointment(ctx, ids[(w*97+i)%len(ids)], at, at.Add(time.Hour)); err != nil {
									b.Error(err)
									return
								}
								mu.Lock()
								lat = append(lat, time.Since(t0))
								mu.Unlock()
							}
						})
					}
					during()
					close(done)
					wg.Wait()
					slices.Sort(lat)
					return lat
				}
				base := measure(func() { time.Sleep(2 * time.Second) })
				var commit, total time.Duration
				during := measure(func() {
					days := 7
					t0 := time.Now()
					err := s.UpdateRules(ctx, func(tx retention.Tx) error {
						p, err := tx.Policy(ctx, retention.PolicyDefault)
						if err != nil {
							return err
						}
						p.RetentionDays, p.Version = days, p.Version+1
						return tx.SavePolicy(ctx, p)
					})
					commit = time.Since(t0)
					if err == nil {
						err = s.FinishRecomputes(ctx)
					}
					total = time.Since(t0)
					if err != nil {
						b.Fatal(err)
					}
				})
				p99 := func(l []time.Duration) time.Duration { return l[len(l)*99/100] }
				b.Logf("%s, %d customers: change committed in %s, every schedule recomputed in %s; writes during it: %d, p99 %s, slowest %s; baseline before it: p99 %s (%.1f×)",
					dialect, n, commit.Round(time.Millisecond), total.Round(time.Millisecond), len(during), p99(during).Round(time.Millisecond),
					during[len(during)-1].Round(time.Millisecond), p99(base).Round(time.Millisecond), float64(p99(during))/float64(p99(base)))
				b.ReportMetric(float64(total.Milliseconds()), "recompute-ms")
				b.ReportMetric(float64(during[len(during)-1].Milliseconds()), "slowest-write-ms")
			}
		})
	}
}
