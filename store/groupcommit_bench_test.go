package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// BenchmarkGroupCommit: 64 clients create customers at once on SQLite
// (every statement of the real use case, its audit event included), with
// one commit per write (the baseline, as before group commit) and with
// group commit, in the same run:
//
//	go test -run '^$' -bench BenchmarkGroupCommit -benchtime 2000x ./store
func BenchmarkGroupCommit(b *testing.B) {
	for _, mode := range []struct {
		name string
		max  int
	}{{"one-commit-per-write", 1}, {"group-commit", 0}} {
		b.Run(mode.name, func(b *testing.B) {
			s, err := Open(context.Background(), Config{DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			s.writes.max = mode.max
			svc := retention.NewService(s)
			const clients = 64
			var mu sync.Mutex
			var lat []time.Duration
			next := make(chan int)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range clients {
				wg.Go(func() {
					for i := range next {
						t0 := time.Now()
						name := fmt.Sprint("Load", i)
						if _, err := svc.CreateCustomer(context.Background(), retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: &name}}); err != nil {
							b.Error(err)
						}
						d := time.Since(t0)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				})
			}
			for i := range b.N {
				next <- i
			}
			close(next)
			wg.Wait()
			took := time.Since(start)
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/took.Seconds(), "writes/s")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
