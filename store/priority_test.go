package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// TestInteractiveWritesGoFirst: while a sweep's write runs, three more of
// the sweep's and then two of requests queue; the requests' run next, in
// the order they asked, and commit without any of the sweep's in their
// transaction; the sweep's follow in theirs, in their order.
func TestInteractiveWritesGoFirst(t *testing.T) {
	s := groupStore(t)
	s.writes.budget = time.Minute
	ctx, bg := context.Background(), retention.Background(context.Background())
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string
	txs := map[string]*sql.Tx{}
	write := func(ctx context.Context, k string, wait chan struct{}) error {
		return s.Update(ctx, func(tx retention.Tx) error {
			if wait != nil {
				<-wait
			}
			mu.Lock()
			order, txs[k] = append(order, k), txOf(tx)
			mu.Unlock()
			return insertKey(ctx, tx, k)
		})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	wg.Go(func() { errs <- write(bg, "sweep0", release) })
	leaderBusy(t, s)
	for i, k := range []string{"sweep1", "sweep2", "sweep3", "request1", "request2"} {
		c := bg
		if k[0] == 'r' {
			c = ctx
		}
		wg.Go(func() { errs <- write(c, k, nil) })
		queued(t, s, i+1)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"sweep0", "request1", "request2", "sweep1", "sweep2", "sweep3"}
	if !slices.Equal(order, want) {
		t.Fatalf("ran %v, want %v", order, want)
	}
	if txs["request1"] != txs["request2"] || txs["request2"] == txs["sweep1"] {
		t.Fatalf("a request's write shared its commit with a sweep's queued after it: %v", txs)
	}
	if got := keys(t, s); len(got) != 6 {
		t.Fatalf("rows: %v", got)
	}
}

// TestBackgroundWritesAreNotStarved: a sweep's write that has waited
// longer than the most it may goes ahead of requests' writes queued after
// it (a sweep under steady traffic still renews its lease).
func TestBackgroundWritesAreNotStarved(t *testing.T) {
	s := groupStore(t)
	s.writes.budget = time.Minute
	s.writes.maxWait = time.Millisecond
	ctx, bg := context.Background(), retention.Background(context.Background())
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string
	write := func(ctx context.Context, k string, wait chan struct{}) {
		if err := s.Update(ctx, func(tx retention.Tx) error {
			if wait != nil {
				<-wait
			}
			mu.Lock()
			order = append(order, k)
			mu.Unlock()
			return insertKey(ctx, tx, k)
		}); err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { write(ctx, "request0", release) })
	leaderBusy(t, s)
	wg.Go(func() { write(bg, "sweep", nil) })
	queued(t, s, 1)
	time.Sleep(5 * time.Millisecond) // past maxWait
	for i := range 3 {
		wg.Go(func() { write(ctx, fmt.Sprint("request", i+1), nil) })
		queued(t, s, i+2)
	}
	close(release)
	wg.Wait()
	if len(order) != 5 || order[1] != "sweep" {
		t.Fatalf("ran %v: the sweep's write, overdue, should run second", order)
	}
}

// TestWriteLatency: "now" is the mean of the requests' writes in the last
// second; "idle" the mean in the seconds no background write was in flight,
// or, when a sweep has written in every second, the fastest second's.
func TestWriteLatency(t *testing.T) {
	s := &Store{}
	w := &s.latency
	sec := time.Now().Unix()
	at := func(ago int64) time.Time { return time.Unix(sec-ago, 0) }
	w.observe(at(10), 2*time.Millisecond)
	w.observe(at(10), 4*time.Millisecond)
	w.observe(at(9), 6*time.Millisecond)
	w.background++ // a sweep writes from here on
	w.observe(at(5), 30*time.Millisecond)
	w.observe(at(1), 40*time.Millisecond)
	w.observe(at(0), 20*time.Millisecond)
	if now, idle := s.WriteLatency(); now != 40*time.Millisecond || idle != 4*time.Millisecond {
		t.Fatalf("now %v (want the last seconds' 40 ms), idle %v (want the quiet seconds' 4 ms)", now, idle)
	}
	w.observe(at(70), time.Millisecond) // older than the history: it takes the place of 10 s ago, and counts for nothing
	w.buckets[(sec-9)%latencyHistory].busy = true
	if now, idle := s.WriteLatency(); now != 40*time.Millisecond || idle != 6*time.Millisecond {
		t.Fatalf("no quiet second: now %v, idle %v (want the fastest second's 6 ms)", now, idle)
	}
	end := w.begin(true)
	end()
	if b := w.buckets[sec%latencyHistory]; !b.busy {
		t.Fatal("a background write did not mark its second busy")
	}
}
