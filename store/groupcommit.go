package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
)

// Group commit (SQLite). Every commit waits for the write-ahead log to
// reach the disk (synchronous FULL: an erasure reported done survives a
// power cut), and that wait, not the statements, is most of a short write
// transaction's time. So the write transactions queued in this process
// share one database transaction and one commit: each runs inside its own
// savepoint, and one that fails is rolled back to it alone, with its own
// error, as if it had run by itself. A caller is answered only once the
// shared commit is durable, so what a caller is told is exactly what is on
// disk; the transactions run one after another in the order they asked,
// as they did one per commit.
//
// One of the waiting callers leads: it runs batches until its own
// transaction is done, then hands the lead to the first one still queued.
// A batch stops taking more work after groupCommitMax transactions or
// groupCommitBudget, so that no caller waits long behind a large group.
//
// Interactive work first: the writes of a context marked
// retention.Background (a sweep's) wait in a queue of their own, and a
// batch takes one only when no request's write is queued. A batch that
// holds a request's write takes no background one after it, so that the
// request is answered at the next commit rather than after the sweep's
// next transaction. A background write that has waited backgroundMaxWait
// goes next all the same: a sweep under a steady stream of requests still
// moves, and still renews its lease.
const (
	groupCommitMax    = 64
	groupCommitBudget = 20 * time.Millisecond
	backgroundMaxWait = time.Second
)

// writeReq is one caller's write transaction.
type writeReq struct {
	ctx  context.Context
	fn   func(tx retention.Tx) error
	err  error
	done chan struct{}
	// taken: a leader has taken it from the queue (it will run it and
	// close done); lead: it was handed the lead (leadCh is closed).
	taken, lead bool
	leadCh      chan struct{}
	// panicked holds what fn panicked with, raised again in the caller's
	// goroutine: a leader runs others' transactions and must not die of
	// theirs with the queue in its hands.
	panicked any
	// background: its context is retention.Background; queued is when it
	// asked.
	background bool
	queued     time.Time
}

// call runs r's fn, turning a panic into an error (see panicked).
func (r *writeReq) call(tx retention.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked = p
			err = fmt.Errorf("store: write transaction panicked: %v", p)
		}
	}()
	return r.fn(tx)
}

// result is what the caller gets once r is done.
func (r *writeReq) result() error {
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// writeQueue orders this process's SQLite write transactions.
type writeQueue struct {
	mu sync.Mutex
	// queue holds the requests' writes, background the sweeps', each in
	// the order they asked.
	queue, background []*writeReq
	leading           bool
	// maxWait replaces backgroundMaxWait when set (tests).
	maxWait time.Duration
	// budget and max replace groupCommitBudget and groupCommitMax when
	// set (tests, benchmarks).
	budget time.Duration
	max    int
}

// groupUpdate runs fn in a write transaction shared with the others queued
// at the same time (see above).
func (s *Store) groupUpdate(ctx context.Context, fn func(tx retention.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &s.writes
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{}), leadCh: make(chan struct{}),
		background: retention.IsBackground(ctx), queued: time.Now()}
	w.mu.Lock()
	if req.background {
		w.background = append(w.background, req)
	} else {
		w.queue = append(w.queue, req)
	}
	lead := !w.leading
	w.leading = true
	w.mu.Unlock()
	if lead {
		s.lead(req)
		return req.result()
	}
	select {
	case <-req.done:
		return req.result()
	case <-req.leadCh:
		s.lead(req)
		return req.result()
	case <-ctx.Done():
	}
	w.mu.Lock()
	switch {
	case req.lead:
		// Handed the lead as it gave up: others wait for a leader.
		w.mu.Unlock()
		s.lead(req)
		return req.result()
	case !req.taken:
		mine := func(r *writeReq) bool { return r == req }
		w.queue, w.background = slices.DeleteFunc(w.queue, mine), slices.DeleteFunc(w.background, mine)
		w.mu.Unlock()
		return ctx.Err()
	}
	w.mu.Unlock()
	<-req.done // running now: its outcome is what happened
	return req.result()
}

// lead runs batches until me is done, then hands the lead on.
func (s *Store) lead(me *writeReq) {
	for {
		select {
		case <-me.done:
			w := &s.writes
			w.mu.Lock()
			if next := w.next(false); next != nil {
				next.lead = true
				close(next.leadCh)
			} else {
				w.leading = false
			}
			w.mu.Unlock()
			return
		default:
		}
		s.runBatch()
	}
}

// next is the transaction to run next, or nil: a request's, unless a
// background one has waited too long; a background one only when no
// request's waits, and never when interactiveOnly. w.mu is held.
func (w *writeQueue) next(interactiveOnly bool) *writeReq {
	var bg *writeReq
	if len(w.background) > 0 && !interactiveOnly {
		bg = w.background[0]
	}
	if bg != nil && time.Since(bg.queued) >= cmp.Or(w.maxWait, backgroundMaxWait) {
		return bg
	}
	if len(w.queue) > 0 {
		return w.queue[0]
	}
	return bg
}

// take removes the next queued transaction (see next), or returns nil.
func (w *writeQueue) take(interactiveOnly bool) *writeReq {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.next(interactiveOnly)
	if r == nil {
		return nil
	}
	if r.background {
		w.background = w.background[1:]
	} else {
		w.queue = w.queue[1:]
	}
	r.taken = true
	return r
}

// waiting reports whether any transaction is queued.
func (w *writeQueue) waiting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)+len(w.background) > 0
}

func finish(r *writeReq, err error) {
	r.err = err
	close(r.done)
}

// runBatch runs queued transactions in one database transaction, each in
// a savepoint, and commits them together. Whatever goes wrong with the
// shared transaction itself (it cannot begin, a failure rolled all of it
// back, the commit fails) is answered by running each of its callers'
// transactions again on its own, with the usual retries: nothing was
// committed, so nothing is done twice.
func (s *Store) runBatch() {
	first := s.writes.take(false)
	if first == nil {
		return
	}
	if !s.writes.waiting() {
		// Nobody to share the commit with: no savepoint needed. Those
		// that queue meanwhile form the next group.
		s.runAlone(first)
		return
	}
	// The shared transaction must not end with one caller's context.
	bg := context.Background()
	tx, err := s.db.BeginTx(bg, nil)
	if err != nil {
		s.runAlone(first)
		return
	}
	q := &queries{idb: tx, dialect: s.dialect, keys: s.keys, inTx: true, stmts: s.boundStmts()}
	defer s.prepareBound(bg)
	start, budget, most := time.Now(), cmp.Or(s.writes.budget, groupCommitBudget), cmp.Or(s.writes.max, groupCommitMax)
	var ok []*writeReq   // ran without error: answered at the commit
	var redo []*writeReq // to run again alone after the batch
	var ran []*writeReq  // ok and redo in the order they were taken
	broken := false
	// interactive: the batch holds a request's write, answered at its
	// commit; no background write may join it after that.
	interactive := false
	for r := first; r != nil; {
		interactive = interactive || !r.background
		if err := r.ctx.Err(); err != nil {
			finish(r, err)
		} else if len(ok) == 0 {
			// Nothing in the transaction yet that must survive r: r runs
			// without a savepoint, and a failure rolls the whole
			// transaction back, which is rolling r back. A savepoint
			// makes SQLite copy every page r changes into a sub-journal
			// first (the sweep's batches change thousands).
			if err := r.call(q); err != nil {
				_ = tx.Rollback()
				if retryable(err) && r.panicked == nil {
					s.runAlone(r)
				} else {
					finish(r, err)
				}
				return
			}
			ok = append(ok, r)
		} else {
			switch runSaved(bg, tx, q, r) {
			case savedOK:
				ok = append(ok, r)
			case savedRedo:
				redo = append(redo, r)
			case savedBroken:
				redo, broken = append(redo, r), true
			}
		}
		if !isDone(r) {
			ran = append(ran, r)
		}
		if broken || len(ran) >= most || time.Since(start) >= budget {
			break
		}
		r = s.writes.take(interactive)
	}
	s.endBatch(tx, ok, ran, redo, broken)
}

// endBatch commits the shared transaction and answers its callers, or,
// when it broke or its commit failed, runs them again alone.
func (s *Store) endBatch(tx bun.Tx, ok, ran, redo []*writeReq, broken bool) {
	if broken {
		_ = tx.Rollback()
		redo = ran
	} else if err := tx.Commit(); err != nil {
		_ = tx.Rollback()
		if !retryable(err) {
			for _, r := range ok {
				finish(r, err)
			}
		}
		redo = slices.DeleteFunc(ran, isDone)
	} else {
		for _, r := range ok {
			finish(r, nil)
		}
	}
	for _, r := range redo {
		s.runAlone(r)
	}
}

// What became of a transaction run in a savepoint of a shared one.
const (
	savedOK       = iota // ran: answered at the commit
	savedRedo            // failed in a way worth retrying: run again alone after the batch
	savedBroken          // the shared transaction is lost: everything runs again alone
	savedFinished        // answered with its own error
)

// runSaved runs r in a savepoint of the shared transaction tx.
func runSaved(ctx context.Context, tx bun.Tx, q *queries, r *writeReq) int {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT lethe_write"); err != nil {
		return savedBroken
	}
	err := r.call(q)
	if err == nil {
		if _, err := tx.ExecContext(ctx, "RELEASE lethe_write"); err != nil {
			return savedBroken
		}
		return savedOK
	}
	if rollbackTo(ctx, tx) != nil {
		// The failure took the whole transaction with it (an
		// interrupted statement, a full disk): run again, alone.
		return savedBroken
	}
	if retryable(err) && r.panicked == nil {
		return savedRedo
	}
	finish(r, err)
	return savedFinished
}

func isDone(r *writeReq) bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func rollbackTo(ctx context.Context, tx bun.Tx) error {
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO lethe_write"); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE lethe_write")
	return err
}

// runAlone runs one caller's transaction by itself, with retries.
func (s *Store) runAlone(r *writeReq) {
	r.panicked = nil // only the outcome of this run counts
	finish(r, s.runTx(r.ctx, false, r.call))
}
