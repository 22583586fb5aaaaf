package relinquish

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// A sweep's batches are rows (retention.Batch): the run's starter journals
// each page of due customers together with its batch, and every replica
// that runs sweeps claims batches, one at a time, each with its own term
// and fencing epoch (retention.Claim). The starter's own workers claim too,
// so on SQLite, where no other process joins, the one process claims every
// batch: one code path.

// claimPoll is how long an idle worker waits before it looks for a
// claimable batch again. With other replicas (Engine.Shared) the starter's
// workers are not woken by the batches it plans: they poll like the other
// replicas' (joinPoll), so that a new batch goes to whichever replica looks
// first, not always to the starter.
const claimPoll = joinPoll

// wake tells the starter's own workers that a batch was planned, unless
// other replicas share the run (Engine.Shared).
func (e *Engine) wake(w *workers) {
	if !e.Shared {
		w.wake()
	}
}

// insertBatch records entries, just journalled in tx, as the run's next
// batch.
func (e *Engine) insertBatch(ctx context.Context, tx retention.Tx, r *runState, entries []retention.JournalEntry) error {
	if len(entries) == 0 {
		return nil
	}
	r.mu.Lock()
	r.seq++
	seq := r.seq
	r.mu.Unlock()
	ids := make([]string, len(entries))
	for i, en := range entries {
		ids[i] = en.ID
	}
	return tx.InsertBatch(ctx, retention.Batch{ID: retention.NewID("bat_"), RunID: r.run.ID, Seq: seq, EntryIDs: ids})
}

// workers are the run starter's own claimers: Engine.InFlight of them
// claim the run's batches while it is planned and until none is left open.
type workers struct {
	cancel  context.CancelFunc
	ready   chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	planned bool
	err     error
}

func (e *Engine) startWorkers(ctx context.Context, r *runState) *workers {
	ctx, cancel := context.WithCancel(ctx)
	w := &workers{cancel: cancel, ready: make(chan struct{}, 1)}
	e.starting.Add(1)
	var running sync.WaitGroup
	for range max(1, e.InFlight) {
		running.Add(1)
		w.wg.Go(func() {
			defer running.Done()
			if err := e.work(ctx, r, w); err != nil {
				w.mu.Lock()
				w.err = errors.Join(w.err, err)
				w.mu.Unlock()
				cancel()
			}
		})
	}
	go func() {
		running.Wait()
		e.starting.Add(-1)
	}()
	return w
}

// wake tells an idle worker to look again.
func (w *workers) wake() {
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

func (w *workers) failed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err != nil
}

func (w *workers) donePlanning() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.planned
}

// finish says planning is over and waits until every batch of the run is
// finished (by any replica) or a worker failed.
func (w *workers) finish() error {
	w.mu.Lock()
	w.planned = true
	w.mu.Unlock()
	w.wake()
	w.wg.Wait()
	w.cancel()
	return w.err
}

// abort stops the workers (planning failed) and waits for them.
func (w *workers) abort() error {
	w.cancel()
	w.wg.Wait()
	return w.err
}

// work claims and executes the batches of r's run until planning is over
// and no batch of the run is open. A batch whose claim was lost (this
// process was cut off past its term) is another replica's now: the worker
// goes on with the next.
func (e *Engine) work(ctx context.Context, r *runState, w *workers) error {
	for ctx.Err() == nil {
		c, ok, err := e.claimNext(ctx, r.run.ID)
		if err != nil {
			return err
		}
		if ok {
			if err := e.runClaim(ctx, c, r.snapshot(), r); err != nil && !errors.Is(err, retention.ErrClaimLost) {
				return err
			}
			continue
		}
		if w.donePlanning() {
			open, err := e.store.OpenBatches(ctx, r.run.ID)
			if err != nil || open == 0 {
				return err
			}
		}
		t := time.NewTimer(claimPoll)
		select {
		case <-ctx.Done():
		case <-w.ready:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// claimNext claims the next claimable batch of runID (of any run when "").
func (e *Engine) claimNext(ctx context.Context, runID string) (retention.Claim, bool, error) {
	var c retention.Claim
	var ok bool
	err := e.store.Update(ctx, func(tx retention.Tx) error {
		now := e.nowUTC()
		var err error
		c, ok, err = tx.ClaimBatch(ctx, runID, e.holder, now, now.Add(e.LeaseTTL))
		return err
	})
	return c, ok && err == nil, err
}

// runClaim executes one claimed batch of run: its entries still open are
// dispatched and finalized under the claim, which a heartbeat renews; the
// transaction that closes them marks the batch done and adds to the run's
// counters. parent is the run's own state when this process runs it.
func (e *Engine) runClaim(ctx context.Context, c retention.Claim, run retention.Run, parent *runState) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r := &runState{e: e, run: run, claim: &c, parent: parent}
	stopHeartbeat := e.heartbeat(ctx, r, stop)
	defer stopHeartbeat()
	entries, err := e.store.OpenEntriesByID(ctx, c.EntryIDs)
	if err == nil {
		err = e.dispatchBatch(ctx, r, entries, nil)
	}
	if cause := context.Cause(ctx); errors.Is(cause, retention.ErrClaimLost) || errors.Is(err, retention.ErrClaimLost) {
		e.log.Warn("claim on a sweep batch lost to another replica; its work stopped", "run", run.ID, "batch", c.ID, "epoch", c.Epoch)
		return retention.ErrClaimLost
	}
	return err
}

// Join claims and executes batches of any run that has claimable ones,
// InFlight at a time, until none is left: how a replica that did not start
// a run shares its work. It returns how many batches it finished.
//
// A replica that runs a run of its own does not join (its own workers
// claim that run's batches, InFlight at a time), so that every replica
// works the same number of batches at once.
func (e *Engine) Join(ctx context.Context) (int, error) {
	if e.starting.Load() > 0 {
		return 0, nil
	}
	ctx = retention.Background(ctx) // the requests' writes go first here too
	if ok, err := e.store.AnyClaimable(ctx, e.nowUTC()); err != nil || !ok {
		return 0, err
	}
	var mu sync.Mutex
	var done int
	var errs error
	runs := map[string]retention.Run{}
	var wg sync.WaitGroup
	for range max(1, e.InFlight) {
		wg.Go(func() {
			for ctx.Err() == nil {
				c, ok, err := e.claimNext(ctx, "")
				if err == nil && ok {
					err = e.joinClaim(ctx, c, &mu, runs)
				}
				if err == nil && !ok && e.joinedRunning(ctx, &mu, runs) {
					// The run's starter may be planning the next batch:
					// stay as ready for it as the starter's own workers.
					sleepCtx(ctx, joinPoll)
					continue
				}
				mu.Lock()
				switch {
				case err == nil && ok:
					done++
				case err != nil && !errors.Is(err, retention.ErrClaimLost):
					errs = errors.Join(errs, err)
				}
				mu.Unlock()
				if !ok || (err != nil && !errors.Is(err, retention.ErrClaimLost)) {
					return
				}
			}
		})
	}
	wg.Wait()
	return done, errs
}

// joinPoll is how often a joiner with nothing to claim looks again while a
// run it joined still runs.
const joinPoll = 100 * time.Millisecond

// joinedRunning reports whether a run Join took batches of is still
// running.
func (e *Engine) joinedRunning(ctx context.Context, mu *sync.Mutex, runs map[string]retention.Run) bool {
	mu.Lock()
	ids := make([]string, 0, len(runs))
	for id := range runs {
		ids = append(ids, id)
	}
	mu.Unlock()
	for _, id := range ids {
		if run, err := e.store.Run(ctx, id); err == nil && run.Status == retention.RunRunning {
			return true
		}
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// joinClaim executes a batch claimed by Join, reading its run once.
func (e *Engine) joinClaim(ctx context.Context, c retention.Claim, mu *sync.Mutex, runs map[string]retention.Run) error {
	mu.Lock()
	run, ok := runs[c.RunID]
	mu.Unlock()
	if !ok {
		stored, err := e.store.Run(ctx, c.RunID)
		if err != nil {
			return err
		}
		run = *stored
		mu.Lock()
		runs[c.RunID] = run
		mu.Unlock()
	}
	return e.runClaim(ctx, c, run, nil)
}

// settleShared closes a shared run's batches when it stops on an error (a
// later run adopts their entries), and takes the run's finished counters
// from the database, where every replica's batches added theirs.
func (e *Engine) settleShared(ctx context.Context, r *runState, err error) {
	if err != nil && !errors.Is(err, retention.ErrLeaseLost) {
		if aerr := e.fenced(ctx, r, func(tx retention.Tx) error { return tx.AbandonBatches(ctx, r.run.ID) }); aerr != nil {
			e.log.Warn("open batches of a failed run left to the next run", "run", r.run.ID, "err", aerr)
		}
	}
	stored, serr := e.store.Run(ctx, r.run.ID)
	if serr != nil {
		e.log.Warn("run counters not read back; the run shows this replica's", "run", r.run.ID, "err", serr)
		return
	}
	r.add(func(run *retention.Run) {
		run.CustomersDone, run.CustomersFailed, run.CustomersSkipped = stored.CustomersDone, stored.CustomersFailed, stored.CustomersSkipped
	})
}

// saveRun stores the run; a shared run's finished counters are the
// batches' to add to, never overwritten.
func (e *Engine) saveRun(ctx context.Context, tx retention.Tx, r *runState, run retention.Run) error {
	if r.shared {
		return tx.SaveRunShared(ctx, run)
	}
	return tx.SaveRun(ctx, run)
}

// countBatch adds a claimed batch's finished counters to its run, in the
// transaction that finishes them.
func countBatch(ctx context.Context, tx retention.Tx, r *runState, done, failed, skipped int) error {
	if r.claim == nil {
		return nil
	}
	return tx.AddRunCounts(ctx, r.run.ID, done, failed, skipped)
}

// BatchesByReplica counts a run's finished batches per replica.
func (e *Engine) BatchesByReplica(ctx context.Context, runID string) ([]retention.ReplicaBatches, error) {
	return e.store.BatchesByReplica(ctx, runID)
}

// planAhead is how many unclaimed batches the planner keeps ready: enough
// that every replica's workers find one when they look, few enough that a
// backlog sweep is not journalled all at once ahead of its dispatch (the
// journal writes would compete with the API's for nothing).
const planAhead = 8

// stayAhead waits while planAhead batches of the run wait for a claim.
func (e *Engine) stayAhead(ctx context.Context, r *runState, w *workers) error {
	for !w.failed() {
		n, err := e.store.UnclaimedBatches(ctx, r.run.ID)
		if err != nil || n < planAhead {
			return err
		}
		sleepCtx(ctx, joinPoll/2)
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
	}
	return nil
}
