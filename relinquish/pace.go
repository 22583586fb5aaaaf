package relinquish

import (
	"context"
	"log/slog"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// WriteLatency is what a Store may also report (store.Store does): the
// mean time of the requests' write transactions over the last second (0:
// none) and their moving average while no sweep wrote (0: not seen yet).
type WriteLatency interface {
	WriteLatency() (now, idle time.Duration)
}

// A sweep paces itself by what the requests it shares the database with
// observe (additive increase, multiplicative decrease, as TCP does with a
// network): while the requests' writes take more than paceTarget times
// their idle time (the goal: the API within 2× of its idle latency), it
// halves its pace, at most every paceCutEvery, down to paceMinRate (a sweep
// never stops: erasures are due); while they do
// not, it adds back a twentieth of the speed it had before it first slowed
// down, until it has all of it again and goes unpaced. A paced run plans
// smaller pages, so that each of its write transactions, which a request
// may have to wait for, is short. The operator's cap (MaxRate) holds
// throughout. With nothing else running the sweep is never slowed.
const (
	paceTarget      = 2.0
	paceAdjustEvery = 250 * time.Millisecond
	// paceCutEvery spaces the slow-downs: the latency reported covers the
	// last second or two, so it still shows what a slow-down has already
	// answered.
	paceCutEvery = 2 * time.Second
	paceMinRate  = 50.0
	paceRecover  = 0.05
	// pageTime is the pace's time a paced page takes at least (so its size
	// follows the pace), paceMinPage the smallest page.
	pageTime    = 200 * time.Millisecond
	paceMinPage = 25
)

// pacer is one run's pace.
type pacer struct {
	maxRate float64      // the operator's cap, customers/s; 0: none
	latency WriteLatency // nil: the cap alone
	log     *slog.Logger
	now     func() time.Time
	started time.Time
	planned int // customers planned so far
	// rate is the pace the requests' latency set, customers/s; 0: none.
	// unpaced is the speed the run had before it first slowed down.
	rate, unpaced float64
	adjusted, cut time.Time
	// last is when the last page started.
	last time.Time
}

func (e *Engine) newPacer() *pacer {
	wl, _ := e.store.(WriteLatency)
	now := time.Now()
	return &pacer{maxRate: float64(e.MaxRate), latency: wl, log: e.log, now: time.Now, started: now, adjusted: now, last: now}
}

// adjust sets the pace by the requests' write latency, at most every
// paceAdjustEvery.
func (p *pacer) adjust(now time.Time) {
	if p.latency == nil || now.Sub(p.adjusted) < paceAdjustEvery {
		return
	}
	p.adjusted = now
	if p.planned == 0 {
		return // no speed of its own to slow down from yet
	}
	recent, idle := p.latency.WriteLatency()
	switch {
	case recent > 0 && (idle == 0 || float64(recent) > paceTarget*float64(idle)):
		if now.Sub(p.cut) < paceCutEvery {
			return
		}
		p.cut = now
		if p.rate == 0 {
			p.unpaced = max(paceMinRate, float64(p.planned)/now.Sub(p.started).Seconds())
			p.rate = p.unpaced
		}
		p.rate = max(paceMinRate, p.rate/2)
		p.log.Debug("sweep slowed down for the API", "perSecond", p.rate, "apiWrite", recent, "apiWriteIdle", idle)
	case p.rate > 0:
		p.rate += paceRecover * p.unpaced
		if p.rate >= p.unpaced {
			p.rate = 0
			p.log.Info("sweep unpaced again: the API's writes are back near their idle time", "apiWrite", recent, "apiWriteIdle", idle)
		}
	}
}

// pace is the customers per second in force; 0: unpaced.
func (p *pacer) pace() float64 {
	switch {
	case p.rate == 0:
		return p.maxRate
	case p.maxRate == 0:
		return p.rate
	}
	return min(p.rate, p.maxRate)
}

// pageSize is how many customers the next page plans.
func (p *pacer) pageSize(batch int) int {
	if p.rate == 0 {
		return batch
	}
	return max(min(batch, paceMinPage), min(batch, int(p.rate*pageTime.Seconds())))
}

// before is called before each page with the customers the page before
// planned; it says how long to wait before planning the next one.
func (p *pacer) before(n int) time.Duration {
	now := p.now()
	p.planned += n
	p.adjust(now)
	rate := p.pace()
	wait := time.Duration(0)
	if rate > 0 {
		wait = max(0, p.last.Add(time.Duration(float64(n)/rate*float64(time.Second))).Sub(now))
	}
	p.last = now.Add(wait)
	return wait
}

// pace waits before the next page for the run's pace; the wait adds to the
// run's ThrottledSeconds and the pace in force shows in the metrics.
func (e *Engine) pace(ctx context.Context, r *runState, p *pacer, n int) error {
	wait := p.before(n)
	if m, ok := e.metrics.(retention.PaceMetrics); ok {
		m.SweepPace(p.pace())
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
	}
	r.add(func(run *retention.Run) { run.ThrottledSeconds += wait.Seconds() })
	if m, ok := e.metrics.(retention.ThrottleMetrics); ok {
		m.SweepThrottled(wait)
	}
	return nil
}
