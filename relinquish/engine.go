package relinquish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// Engine relinquishes what has expired: it plans from the indexed deletion
// times, journals every action before sending it, dispatches batches to the
// connectors in parallel, and changes the core record only when every
// connector confirmed, in the transaction that closes the journal entry.
type Engine struct {
	store      retention.Store
	connectors retention.ConnectorRegistry
	now        retention.Clock
	log        *slog.Logger
	metrics    retention.Metrics
	ledger     retention.ErasureLedger
	holder     string

	// BatchSize is the number of customers per connector call.
	BatchSize int
	// InFlight bounds the batches being dispatched at once.
	InFlight int
	// MaxAttempts is how often a failing customer is tried before the
	// entry is closed as failed (reported, never dropped silently).
	MaxAttempts int
	// Backoff is the wait before the next attempt after n failed ones.
	Backoff func(n int) time.Duration
	// MaxRate caps the customers per second a run plans and dispatches
	// (0: no cap); see WithSweepMaxRate.
	MaxRate int
	// LeaseTTL is how long the sweep lease lasts without renewal; a
	// crashed sweeper's lease expires after it.
	LeaseTTL time.Duration
	// Progress, when set, is called after every batch with the run so far.
	Progress func(retention.Run)
	// Shared says other replicas may join this engine's runs (PostgreSQL):
	// its own workers then look for the batches it plans at the same pace
	// as the others (joinPoll), so that the run is shared fairly; alone
	// (SQLite) each planned batch wakes them at once.
	Shared bool
	// starting counts the runs of this engine whose workers claim
	// batches now (Join stands aside meanwhile).
	starting atomic.Int64
	// beforeFinalize is a test hook between the connectors' confirmation
	// and the core transaction (crash-safety tests kill the process there).
	beforeFinalize func()
}

// NewEngine returns an engine over the store and connectors.
// The options are the Service's (NewService): tests and tools that need an
// engine alone.
func NewEngine(store retention.Store, connectors retention.ConnectorRegistry, opts ...retention.Option) *Engine {
	return New(retention.NewService(store, opts...).EngineSettings(), connectors)
}

// New returns an engine with the settings of a service (its store, clock,
// logger, metrics, ledger, batch size, pace and lease term) over the
// connectors.
func New(s retention.EngineSettings, connectors retention.ConnectorRegistry) *Engine {
	host, _ := os.Hostname()
	batch, ttl := 500, 30*time.Second
	if s.BatchSize > 0 {
		batch = s.BatchSize
	}
	if s.LeaseTTL > 0 {
		ttl = s.LeaseTTL
	}
	return &Engine{
		store: s.Store, connectors: connectors, now: s.Clock, log: s.Log, metrics: s.Metrics, ledger: s.Ledger,
		holder:    fmt.Sprintf("%s/%d/%s", host, os.Getpid(), retention.NewID("")),
		BatchSize: batch, InFlight: 2, MaxAttempts: 5, LeaseTTL: ttl, MaxRate: s.SweepMaxRate,
		Backoff: func(n int) time.Duration {
			d := time.Minute << min(n, 6)
			return min(d, time.Hour)
		},
	}
}

// Connect builds the engine for the runs svc starts itself (manual
// erasures, HIDDEN purges, resumes after a reload), with svc's settings and
// connectors, and connects it to svc. It returns that engine.
func Connect(svc *retention.Service) *Engine {
	settings := svc.EngineSettings()
	e := New(settings, settings.Connectors)
	svc.SetRelinquisher(e)
	return e
}

func (e *Engine) nowUTC() time.Time { return e.now().UTC().Truncate(time.Microsecond) }

// Validate checks run options. Errors: BAD_USER_INPUT.
func (e *Engine) Validate(opts retention.RunOptions) error {
	if opts.AsOf == nil {
		return nil
	}
	if err := retention.CheckRange("asOf", *opts.AsOf); err != nil {
		return err
	}
	if !opts.DryRun && opts.AsOf.After(e.nowUTC()) {
		return retention.FieldErrorf("asOf", "a real run cannot act as of a future time (%s); use a dry run to see what it would do", retention.FormatTime(*opts.AsOf))
	}
	return nil
}

// Start begins a real run and executes it in the background; the returned
// run is RUNNING. A dry run completes before Start returns.
// Errors: BAD_USER_INPUT, CONFLICT.
func (e *Engine) Start(ctx context.Context, opts retention.RunOptions) (retention.Run, error) {
	return e.run(ctx, opts, func(r *runState) (retention.Run, error) {
		run := r.run
		go func() {
			if _, err := e.execute(context.WithoutCancel(ctx), r); err != nil {
				e.log.Error("retention run failed", "run", run.ID, "err", err)
			}
		}()
		return run, nil
	})
}

// Run executes a run to its end (the CLI, the scheduler, tests).
// Errors: BAD_USER_INPUT, CONFLICT.
func (e *Engine) Run(ctx context.Context, opts retention.RunOptions) (retention.Run, error) {
	return e.run(ctx, opts, func(r *runState) (retention.Run, error) { return e.execute(ctx, r) })
}

// run validates, answers dry runs at once, and hands a begun real run to
// execute.
func (e *Engine) run(ctx context.Context, opts retention.RunOptions, execute func(*runState) (retention.Run, error)) (retention.Run, error) {
	if err := e.Validate(opts); err != nil {
		return retention.Run{}, err
	}
	if opts.DryRun {
		return e.DryRun(ctx, opts)
	}
	run, lease, err := e.begin(ctx, opts)
	if err != nil {
		return retention.Run{}, err
	}
	return execute(&runState{run: run, e: e, lease: lease, purgeOf: opts.PurgeRun, resumeOnly: opts.ResumeOnly})
}

// begin takes the sweep lease, with a new epoch, and records the run.
func (e *Engine) begin(ctx context.Context, opts retention.RunOptions) (retention.Run, retention.Lease, error) {
	now := e.nowUTC()
	run := retention.Run{ID: retention.NewID("run_"), Status: retention.RunRunning, Trigger: opts.Trigger, Actor: opts.Actor, AsOf: now,
		StartedAt: now, HeartbeatAt: now}
	if opts.AsOf != nil {
		run.AsOf = opts.AsOf.UTC()
	}
	takeOver, err := e.deadHolder(ctx)
	if err != nil {
		return retention.Run{}, retention.Lease{}, err
	}
	var lease retention.Lease
	err = e.store.Update(ctx, func(tx retention.Tx) error {
		l, ok, err := tx.AcquireSweepLease(ctx, e.holder, now, now.Add(e.LeaseTTL), takeOver)
		if err != nil {
			return err
		}
		if !ok {
			return retention.ErrSweepRunning
		}
		lease = l
		// The batches earlier runs left open are closed with a new epoch
		// (no claim on them proves anymore): their entries are adopted
		// below, by this run.
		if err := tx.AbandonBatches(ctx, ""); err != nil {
			return err
		}
		if err := tx.InterruptStaleRuns(ctx, "interrupted: the process running it stopped or lost the sweep lease; a later run resumed its open journal entries"); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, runStartEvent(run)); err != nil {
			return err
		}
		return tx.InsertRun(ctx, run)
	})
	return run, lease, err
}

// runStartEvent records who started a run, how, and whether it was dry.
func runStartEvent(run retention.Run) retention.AuditEvent {
	return retention.AuditEvent{ID: retention.NewID("aud_"), At: run.StartedAt, Actor: actorOrScheduler(run.Actor), Action: retention.AuditRunStart, Subject: run.ID,
		Details: map[string]any{"trigger": run.Trigger, "dryRun": run.DryRun, "asOf": retention.FormatTime(run.AsOf)}}
}

// execute plans and dispatches a real run, then closes it. Its writes are
// background work: the store runs the requests' first.
func (e *Engine) execute(ctx context.Context, r *runState) (retention.Run, error) {
	ctx = retention.Background(ctx)
	return e.executeWith(ctx, r, func(ctx context.Context) error { return e.planAndDispatch(ctx, r) })
}

// executeWith does a begun run's work (a sweep's plan and dispatch, or a
// manual erasure's), then closes the run and releases its lease. The run
// stops at once when its lease is lost; it then changes nothing more, not
// even its own run record (the process that took the lease marked it
// interrupted).
func (e *Engine) executeWith(ctx context.Context, r *runState, work func(context.Context) error) (retention.Run, error) {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	stopHeartbeat := e.heartbeat(ctx, r, stop)
	defer stopHeartbeat()
	defer func() {
		release := context.WithoutCancel(ctx)
		if err := e.store.Update(release, func(tx retention.Tx) error { return tx.ReleaseSweepLease(release, r.lease) }); err != nil {
			e.log.Warn("sweep lease not released; it expires by itself", "err", err)
		}
	}()
	err := work(ctx)
	if cause := context.Cause(ctx); errors.Is(cause, retention.ErrLeaseLost) {
		err = retention.ErrLeaseLost
	} else if errors.Is(err, retention.ErrLeaseLost) {
		// A fenced write found the lease taken before the heartbeat did
		// (it says so itself): the operator learns it here.
		e.log.Error("sweep lease lost to another process; stopping this run", "run", r.run.ID, "epoch", r.lease.Epoch)
	}
	if r.shared {
		e.settleShared(context.WithoutCancel(ctx), r, err)
	}
	now := e.nowUTC()
	r.mu.Lock()
	r.run.FinishedAt, r.run.HeartbeatAt = &now, now
	r.run.Status = retention.RunSucceeded
	switch {
	case err != nil:
		r.run.Status, r.run.Error = retention.RunFailed, retention.ErrorMessage(err)
		if retention.ErrorCode(err) == retention.CodeInternal {
			r.run.Error = "internal error: " + err.Error()
		}
	case r.run.CustomersFailed > 0:
		r.run.Status = retention.RunFailed
		r.run.Error = fmt.Sprintf("%d customers could not be relinquished; see failures (they are retried by later sweeps with backoff)", r.run.CustomersFailed)
	}
	final := r.run
	r.mu.Unlock()
	closing := context.WithoutCancel(ctx)
	saveErr := e.fenced(closing, r, func(tx retention.Tx) error { return e.saveRun(closing, tx, r, final) })
	if errors.Is(saveErr, retention.ErrLeaseLost) {
		final.Status, final.Error = retention.RunFailed, retention.ErrLeaseLost.Message
		saveErr = nil
		if err == nil {
			err = retention.ErrLeaseLost
		}
	}
	if final.CustomersDone > 0 {
		// Erased means gone from the files too, not only from the rows.
		if err := e.store.Scrub(closing); err != nil {
			e.log.Warn("database not scrubbed after relinquishing; the next run retries", "err", err)
		}
	}
	e.metrics.SweepRun(final.Status, false, now.Sub(final.StartedAt))
	e.report(final)
	return final, errors.Join(err, saveErr)
}

type runState struct {
	e *Engine
	// lease is the run's title to the sweep lease; its epoch fences every
	// transaction of the run.
	lease retention.Lease
	// purgeOf is the HIDDEN purge run whose entries this run executes
	// (RunOptions.PurgeRun); "" for a sweep.
	purgeOf string
	// resumeOnly: adopt and dispatch open entries, plan nothing
	// (RunOptions.ResumeOnly).
	resumeOnly bool
	// shared: the run's batches are planned as rows that every replica
	// running sweeps claims (a sweep); its finished counters are added to
	// by each batch, in the database.
	shared bool
	// claim is set on the state of one claimed batch: its writes are
	// fenced by the claim, not by the lease (which this replica may not
	// hold). parent is the run's own state when the run is this process's.
	claim  *retention.Claim
	parent *runState
	// seq numbers the run's batches (under mu).
	seq int
	mu  sync.Mutex
	run retention.Run
	// saving orders checkpoints of concurrent batches, so that a stored
	// run never goes back to older counts.
	saving sync.Mutex
	// savedAt is when a checkpoint last stored the run (under saving).
	savedAt time.Time
}

// snapshot is a copy of the run, safe to read while batches update it.
func (r *runState) snapshot() retention.Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.run
}

func (r *runState) add(f func(*retention.Run)) retention.Run {
	if r.parent != nil {
		r.parent.add(f)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.run)
	return r.run
}

func (e *Engine) report(run retention.Run) {
	if e.Progress != nil {
		e.Progress(run)
	}
}

// checkpointEvery is how often a run stores its counters while it goes:
// every batch would cost a durable commit per batch for a figure that only
// shows progress (the run's final counters are always stored).
const checkpointEvery = time.Second

// checkpoint reports progress and, at most every checkpointEvery, stores the
// run's counters and renews the lease; losing the lease (another process
// took it after ours expired) stops the run.
func (e *Engine) checkpoint(ctx context.Context, r *runState) error {
	if r.claim != nil {
		// A batch's counters went to the database with it; the run's own
		// state, when it is this process's, stores the rest.
		if r.parent != nil {
			return e.checkpoint(ctx, r.parent)
		}
		return nil
	}
	r.saving.Lock()
	defer r.saving.Unlock()
	now := e.nowUTC()
	run := r.add(func(run *retention.Run) { run.HeartbeatAt = now })
	var err error
	if time.Since(r.savedAt) >= checkpointEvery {
		err = e.fenced(ctx, r, func(tx retention.Tx) error { return e.saveRun(ctx, tx, r, run) })
		r.savedAt = time.Now()
	}
	e.report(run)
	return err
}

// planAndDispatch resumes the entries earlier runs left open, then plans
// the due customers page by page and dispatches each page as soon as its
// journal entries and actions are committed: nothing is sent before it is
// journalled, and the connectors work on one page while the next is
// planned.
func (e *Engine) planAndDispatch(ctx context.Context, r *runState) error {
	switch {
	case r.purgeOf != "":
		return e.dispatchAdopting(ctx, r, func(after string) ([]retention.JournalEntry, error) {
			return e.store.RunEntries(ctx, r.purgeOf, e.nowUTC(), after, e.BatchSize)
		})
	case r.resumeOnly:
		// Every open entry, its backoff waived: the connectors that failed
		// it were just replaced.
		return e.dispatchAdopting(ctx, r, func(after string) ([]retention.JournalEntry, error) {
			return e.store.RetryableEntries(ctx, retention.LatestTime, after, e.BatchSize)
		})
	}
	var adopted, adoptedActions int
	if err := e.fenced(ctx, r, func(tx retention.Tx) error {
		var err error
		adopted, adoptedActions, err = tx.AdoptOpenEntries(ctx, r.run.ID, r.run.AsOf)
		return err
	}); err != nil {
		return err
	}
	conns := e.connectorInfos(ctx)
	policies, dp, err := e.settings(ctx, e.store)
	if err != nil {
		return err
	}
	r.shared = true
	w := e.startWorkers(ctx, r)
	if adopted > 0 {
		r.add(func(run *retention.Run) { run.CustomersPlanned += adopted; run.ActionsPlanned += adoptedActions })
		e.log.Info("resuming open journal entries", "run", r.run.ID, "entries", adopted)
		// The run holds only the adopted entries until planning starts
		// below, so these pages never meet an entry planned by this run.
		afterID := ""
		for {
			entries, err := e.store.RunEntries(ctx, r.run.ID, e.nowUTC(), afterID, e.BatchSize)
			if err != nil {
				return errors.Join(err, w.abort())
			}
			if len(entries) == 0 {
				break
			}
			afterID = entries[len(entries)-1].ID
			if err := e.fenced(ctx, r, func(tx retention.Tx) error { return e.insertBatch(ctx, tx, r, entries) }); err != nil {
				return errors.Join(err, w.abort())
			}
			e.wake(w)
		}
	}
	// Batches already dispatched update the run's counters from their own
	// goroutines: planning reads a copy taken under the lock (it needs
	// only the run's ID and as-of time, which never change).
	run := r.snapshot()
	cut := retention.CutoffsAt(policies, dp, run.AsOf)
	// The run knows how many it plans when it starts: range counts under
	// the same cut-offs the pages below are read by.
	tally, err := retention.TallyChange(ctx, e.store, cut, cut)
	if err != nil {
		return errors.Join(err, w.abort())
	}
	expected, expectedActions := tally.DueAfter(), tallyActions(tally, dp, conns)
	r.add(func(run *retention.Run) { run.CustomersPlanned += expected; run.ActionsPlanned += expectedActions })
	// Stored at once: every replica's view of the run shows what it plans
	// from its start.
	if err := e.checkpoint(ctx, r); err != nil {
		return errors.Join(err, w.abort())
	}
	planned, plannedActions, err := e.planPages(ctx, r, w, cut, conns, run)
	// Customers that changed between the count and their page (a new
	// event, a hold) make the count right at the end.
	r.add(func(run *retention.Run) {
		run.CustomersPlanned += planned - expected
		run.ActionsPlanned += plannedActions - expectedActions
	})
	if err != nil {
		return errors.Join(err, w.abort())
	}
	return w.finish()
}

// planPages journals the due customers page by page, by the rules' ranges,
// each page with its batch, which the workers (this replica's and the
// others') claim at once.
func (e *Engine) planPages(ctx context.Context, r *runState, w *workers, cut retention.Cutoffs, conns []connInfo, run retention.Run) (planned, plannedActions int, err error) {
	walk := retention.NewDueWalker(e.store, cut, retention.DuePosition{})
	p, last := e.newPacer(), 0
	for {
		if err := e.pace(ctx, r, p, last); err != nil {
			return planned, plannedActions, err
		}
		if err := e.stayAhead(ctx, r, w); err != nil {
			return planned, plannedActions, err
		}
		page, err := walk.Next(ctx, p.pageSize(e.BatchSize))
		last = len(page)
		if err != nil || len(page) == 0 {
			return planned, plannedActions, err
		}
		var entries []retention.JournalEntry
		var actions []retention.JournalAction
		var stale []string
		for _, c := range page {
			// The ranges and ComputeSchedule agree (the property test holds
			// them together); the guard stays: nothing is acted on that
			// the single-customer rule does not confirm.
			entry, acts, ok := planCustomer(c, cut.Policies, cut.Data, conns, run, e.nowUTC())
			if !ok {
				stale = append(stale, c.ID)
				continue
			}
			entries = append(entries, entry)
			actions = append(actions, acts...)
		}
		if err := e.fenced(ctx, r, func(tx retention.Tx) error {
			if err := e.rewriteAnchors(ctx, tx, stale); err != nil {
				return err
			}
			if err := tx.InsertEntries(ctx, entries, actions); err != nil {
				return err
			}
			return e.insertBatch(ctx, tx, r, entries)
		}); err != nil {
			return planned, plannedActions, err
		}
		planned, plannedActions = planned+len(entries), plannedActions+len(actions)
		if err := e.checkpoint(ctx, r); err != nil {
			return planned, plannedActions, err
		}
		if len(entries) > 0 {
			e.wake(w)
		}
		if w.failed() {
			return planned, plannedActions, nil
		}
	}
}

// rewriteAnchors saves again the customers a range listed that the rules
// do not make due: their stored anchors disagreed with their record (only a
// hand-edited database does that), and saving derives them afresh.
func (e *Engine) rewriteAnchors(ctx context.Context, tx retention.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	current, err := tx.CustomersByID(ctx, ids)
	if err != nil {
		return err
	}
	for _, c := range current {
		e.log.Warn("a range listed a customer the rules do not make due: anchors rewritten, nothing done", "customer", c.ID)
		if err := tx.SaveCustomer(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// dispatcher runs batches of journalled entries, a bounded number at once
// (Engine.InFlight), and stops taking new ones after the first error.
type dispatcher struct {
	ctx context.Context
	e   *Engine
	r   *runState
	sem chan struct{}
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

func newDispatcher(ctx context.Context, e *Engine, r *runState) *dispatcher {
	return &dispatcher{ctx: ctx, e: e, r: r, sem: make(chan struct{}, max(1, e.InFlight))}
}

// dispatch starts a batch once a slot is free; it reports false, starting
// nothing, when an earlier batch has failed.
func (d *dispatcher) dispatch(entries []retention.JournalEntry, actions map[string][]retention.JournalAction) bool {
	d.sem <- struct{}{}
	if d.failed() {
		<-d.sem
		return false
	}
	d.wg.Go(func() {
		defer func() { <-d.sem }()
		if err := d.e.dispatchBatch(d.ctx, d.r, entries, actions); err != nil {
			d.mu.Lock()
			d.err = errors.Join(d.err, err)
			d.mu.Unlock()
		}
	})
	return true
}

func (d *dispatcher) failed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err != nil
}

// wait waits for the batches in flight and returns their errors.
func (d *dispatcher) wait() error {
	d.wg.Wait()
	return d.err
}

type connInfo struct {
	Info    retention.ConnectorInfo
	Healthy bool
}

func (e *Engine) connectorInfos(ctx context.Context) []connInfo {
	if e.connectors == nil {
		return nil
	}
	var out []connInfo
	for _, st := range e.connectors.Connectors(ctx) {
		out = append(out, connInfo{Info: st.Info, Healthy: st.Healthy})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Info.Name < out[j].Info.Name })
	return out
}

func (e *Engine) settings(ctx context.Context, r retention.Reader) (retention.PolicySet, retention.DataPolicy, error) {
	ps, err := r.Policies(ctx)
	if err != nil {
		return nil, retention.DataPolicy{}, err
	}
	dp, err := r.DataPolicy(ctx)
	return retention.NewPolicySet(ps), dp, err
}

// dueKind says what is due for c at asOf: erase wins when both are due,
// because it removes everything anonymising would.
func dueKind(c *retention.Customer, policies retention.PolicySet, dp retention.DataPolicy, asOf time.Time) (retention.Schedule, retention.ActionKind, bool) {
	if c.ErasedAt != nil || c.Held(asOf) {
		return retention.Schedule{}, "", false
	}
	s := retention.ComputeSchedule(c, policies, dp)
	switch {
	case s.EraseAt != nil && !s.EraseAt.After(asOf):
		return s, retention.ActionErase, true
	case s.AnonymiseAt != nil && !s.AnonymiseAt.After(asOf):
		return s, retention.ActionAnonymise, true
	}
	return s, "", false
}

// connectorOp is one operation one connector must do for an entry.
type connectorOp struct {
	op   string
	cats []string
}

// connectorOps is what a connector must do to relinquish the categories of
// an entry: an erasure deletes everything; otherwise connectors holding
// call records delete them when cdr is among the categories, and every
// connector anonymises when an anonymise category (contact, custom fields,
// invoices) is.
func connectorOps(kind retention.ActionKind, categories []string, info retention.ConnectorInfo) []connectorOp {
	if kind == retention.ActionErase {
		return []connectorOp{{retention.OpDelete, nil}, {retention.OpVerify, nil}}
	}
	var ops []connectorOp
	if retention.HasString(categories, retention.CategoryCDR) && retention.HasString(info.Categories, retention.CategoryCDR) {
		ops = append(ops, connectorOp{retention.OpDelete, []string{retention.CategoryCDR}})
	}
	for _, c := range retention.AnonymiseCategories {
		if retention.HasString(categories, c) {
			ops = append(ops, connectorOp{retention.OpAnonymise, nil})
			break
		}
	}
	return ops
}

// entryCategories is what relinquishing c now relinquishes: for an
// anonymisation only the data policy's categories c still misses, so that a
// customer relinquished in part gets the rest and nothing twice.
func entryCategories(kind retention.ActionKind, c *retention.Customer, dp retention.DataPolicy, conns []connInfo) []string {
	if kind == retention.ActionErase {
		cats := make([][]string, len(conns))
		for i, ci := range conns {
			cats[i] = ci.Info.Categories
		}
		return retention.EraseCategories(cats...)
	}
	return c.Relinquished.Missing(dp.Categories())
}

// planCustomer makes the journal entry and connector actions for a due
// customer; ok is false when it is not due after all (the stored deletion
// time and the rules disagree, which the rules win).
func planCustomer(c *retention.Customer, policies retention.PolicySet, dp retention.DataPolicy, conns []connInfo, run retention.Run, now time.Time) (retention.JournalEntry, []retention.JournalAction, bool) {
	s, kind, ok := dueKind(c, policies, dp, run.AsOf)
	if !ok {
		return retention.JournalEntry{}, nil, false
	}
	cats := entryCategories(kind, c, dp, conns)
	due := *s.EraseAt
	rule := fmt.Sprintf("retention policy %s (%d days)", s.Policy.Name, s.Policy.RetentionDays)
	if kind == retention.ActionAnonymise {
		due = *s.AnonymiseAt
		rule = fmt.Sprintf("data policy: relinquish %d days after %s (anonymise=%t, removeCDRs=%t): %s",
			dp.RelinquishAfterDays, c.Status, dp.AnonymiseCustomerData, dp.RemoveCDRs, strings.Join(cats, ", "))
	}
	entry := retention.JournalEntry{ID: retention.NewID("jrn_"), RunID: run.ID, CustomerID: c.ID, Kind: kind, Categories: cats, PolicyName: s.Policy.Name,
		PolicyVersion: s.Policy.Version, Rule: rule, DueAt: due, PlannedAt: now, Status: retention.EntryOpen, NextAttemptAt: now}
	var actions []retention.JournalAction
	for _, ci := range conns {
		for _, op := range connectorOps(kind, cats, ci.Info) {
			id := entry.ID + "/" + ci.Info.Name + "/" + retention.DescribeOperation(op.op, op.cats)
			actions = append(actions, retention.JournalAction{ID: id, EntryID: entry.ID, RunID: run.ID, CustomerID: c.ID,
				Connector: ci.Info.Name, Operation: op.op, Categories: op.cats, Status: retention.ActionPending})
		}
	}
	return entry, actions, true
}
