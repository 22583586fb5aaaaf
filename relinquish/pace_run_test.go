package relinquish_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// slowedStore is a real store that reports the requests' writes slowed
// down (50 ms against 1 ms idle), and makes each of a sweep's writes 20 ms
// slower, so that a small run lasts long enough for its pacer to act.
type slowedStore struct {
	*store.Store
	background atomic.Int32
}

func (s *slowedStore) WriteLatency() (time.Duration, time.Duration) {
	return 50 * time.Millisecond, time.Millisecond
}

func (s *slowedStore) Update(ctx context.Context, fn func(tx retention.Tx) error) error {
	if retention.IsBackground(ctx) {
		s.background.Add(1)
		time.Sleep(20 * time.Millisecond)
	}
	return s.Store.Update(ctx, fn)
}

// paceMetrics records the pace and the waits a run reports.
type paceMetrics struct {
	retention.NopMetrics
	mu        sync.Mutex
	paces     []float64
	throttled time.Duration
}

func (m *paceMetrics) SweepPace(perSecond float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.paces = append(m.paces, perSecond)
}

func (m *paceMetrics) SweepThrottled(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.throttled += d
}

// TestSweepSlowsDownForTheAPI: a sweep whose store reports the requests'
// writes slowed down writes as background work, paces itself below the
// speed it had (with no cap set), says so in the metrics, and counts the
// waits in the run's ThrottledSeconds, stored; it still relinquishes
// everyone.
func TestSweepSlowsDownForTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		quiet := retention.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
		createOverdue(t, retention.NewService(s, quiet), 60)
		slowed, m := &slowedStore{Store: s}, &paceMetrics{}
		run, err := relinquish.NewEngine(slowed, nil, quiet, retention.WithBatchSize(5), retention.WithMetrics(m)).Run(ctx, retention.RunOptions{})
		if err != nil || run.CustomersDone != 60 {
			t.Fatalf("run: %+v %v", run, err)
		}
		if slowed.background.Load() == 0 {
			t.Fatal("the sweep's writes were not marked as background work")
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		paced := 0.0
		for _, p := range m.paces {
			paced = max(paced, p)
		}
		if paced == 0 || run.ThrottledSeconds <= 0 || m.throttled <= 0 {
			t.Fatalf("no pace: metrics %v, waited %v; the run %.3f s", m.paces, m.throttled, run.ThrottledSeconds)
		}
		stored, err := s.Run(ctx, run.ID)
		if err != nil || stored.ThrottledSeconds != run.ThrottledSeconds {
			t.Fatalf("stored run waited %v, the run %.3f s (%v)", stored.ThrottledSeconds, run.ThrottledSeconds, err)
		}
	})
}
