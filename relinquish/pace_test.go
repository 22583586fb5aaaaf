package relinquish

import (
	"log/slog"
	"testing"
	"time"
)

type fakeLatency struct{ now, idle time.Duration }

func (f *fakeLatency) WriteLatency() (time.Duration, time.Duration) { return f.now, f.idle }

// TestPacerFollowsTheRequests: the pacer halves its pace while the
// requests' writes take more than paceTarget times their idle time, plans
// smaller pages meanwhile, and once they are fast again adds speed back
// until it is unpaced; the operator's cap holds throughout.
func TestPacerFollowsTheRequests(t *testing.T) {
	clock := time.Unix(1e9, 0)
	lat := &fakeLatency{now: 3 * time.Millisecond, idle: 3 * time.Millisecond}
	p := &pacer{latency: lat, log: slog.New(slog.DiscardHandler), now: func() time.Time { return clock }, started: clock, adjusted: clock, last: clock}
	step := func(n int) time.Duration {
		clock = clock.Add(paceAdjustEvery)
		return p.before(n)
	}
	// 500 customers per page, every 250 ms: 2,000 per second, unpaced.
	for range 4 {
		if wait := step(500); wait != 0 || p.pace() != 0 || p.pageSize(500) != 500 {
			t.Fatalf("no pressure: waited %v at pace %v", wait, p.pace())
		}
	}
	lat.now = 20 * time.Millisecond // the requests' writes slow down
	step(500)
	if p.pace() != 1000 || p.pageSize(500) != 200 {
		t.Fatalf("first slow-down: pace %v (want half of 2,000/s), page %d", p.pace(), p.pageSize(500))
	}
	for range 7 {
		step(200)
	}
	if p.pace() != 1000 {
		t.Fatalf("slowed down again within %v: pace %v", paceCutEvery, p.pace())
	}
	if wait := step(200); wait <= 0 || p.pace() != 500 {
		t.Fatalf("second slow-down: pace %v, waited %v", p.pace(), wait)
	}
	for range 100 {
		step(p.pageSize(500))
	}
	if p.pace() != paceMinRate || p.pageSize(500) != paceMinPage {
		t.Fatalf("under lasting pressure: pace %v, page %d (want the floor)", p.pace(), p.pageSize(500))
	}
	lat.now = 4 * time.Millisecond // within paceTarget of idle again
	step(p.pageSize(500))
	if p.pace() != paceMinRate+paceRecover*2000 {
		t.Fatalf("recovery: pace %v", p.pace())
	}
	for range 25 {
		step(p.pageSize(500))
	}
	if p.pace() != 0 || p.pageSize(500) != 500 {
		t.Fatalf("after the pressure: pace %v, page %d (want unpaced)", p.pace(), p.pageSize(500))
	}
	// The operator's cap: 100 per second, pages of 50, 500 ms apart.
	p.maxRate = 100
	if wait := p.before(50); p.pace() != 100 || wait != 500*time.Millisecond {
		t.Fatalf("cap: pace %v, waited %v", p.pace(), wait)
	}
}
