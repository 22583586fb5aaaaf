package store

import (
	"sync"
	"time"
)

// What a sweep paces itself by (WriteLatency): how long the write
// transactions of requests take now, against how long they take with no
// sweep writing. Both are measured around the whole write, waiting
// included, on SQLite and on PostgreSQL alike: on SQLite a request's write
// waits for the sweep's in the write queue; on PostgreSQL for row locks,
// connections, the WAL and the CPU the sweep's transactions take.
//
// The samples go into one bucket per second, for the last latencyHistory
// seconds. A bucket is quiet when no background write (retention.Background)
// was in flight during its second. "Idle" is the mean of the quiet buckets;
// a sweep that has run longer than the history has left none, and then the
// fastest bucket stands in (a paced sweep leaves seconds that come close to
// idle).
const latencyHistory = 60

type latencyBucket struct {
	second int64 // Unix second; 0: unused
	sum    time.Duration
	n      int
	busy   bool // a background write was in flight during it
}

type writeLatency struct {
	mu      sync.Mutex
	buckets [latencyHistory]latencyBucket
	// background counts the background writes in flight.
	background int
}

// bucket returns the bucket of second sec, emptied if it held an older
// second. w.mu is held.
func (w *writeLatency) bucket(sec int64) *latencyBucket {
	b := &w.buckets[sec%latencyHistory]
	if b.second != sec {
		*b = latencyBucket{second: sec, busy: w.background > 0}
	}
	return b
}

// begin is called as a write transaction is asked for; the function it
// returns, once it has returned.
func (w *writeLatency) begin(background bool) (end func()) {
	start := time.Now()
	if background {
		w.mu.Lock()
		w.background++
		w.bucket(start.Unix()).busy = true
		w.mu.Unlock()
		return func() {
			w.mu.Lock()
			w.background--
			w.bucket(time.Now().Unix()).busy = true
			w.mu.Unlock()
		}
	}
	return func() {
		now := time.Now()
		w.observe(now, now.Sub(start))
	}
}

// observe records a request's write that ended at now and took d.
func (w *writeLatency) observe(now time.Time, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.bucket(now.Unix())
	b.sum += d
	b.n++
}

// WriteLatency reports the mean time of the requests' write transactions
// over the last second (0 when there were none) and their mean in the quiet
// seconds of the last minute (see above; 0 until any was seen): a sweep
// slows down while the first grows past the second.
func (s *Store) WriteLatency() (now, idle time.Duration) {
	w := &s.latency
	w.mu.Lock()
	defer w.mu.Unlock()
	sec := time.Now().Unix()
	var quietSum, fastest time.Duration
	var quietN int
	for _, b := range w.buckets {
		if b.n == 0 || b.second <= sec-latencyHistory || b.second > sec {
			continue
		}
		mean := b.sum / time.Duration(b.n)
		// The last second just began: the one before it counts too.
		if b.second >= sec-1 {
			now = max(now, mean)
		}
		if !b.busy && b.second < sec {
			quietSum, quietN = quietSum+b.sum, quietN+b.n
		}
		if fastest == 0 || mean < fastest {
			fastest = mean
		}
	}
	if quietN > 0 {
		return now, quietSum / time.Duration(quietN)
	}
	return now, fastest
}
