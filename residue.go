package main

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/scheduler"
)

// residueAuditor walks the erasure ledger's erased customers, newest first,
// a bounded batch per tick, asking every connector whether it holds them
// again (a connector's store restored from a backup): all of them once per
// cycle.
type residueAuditor struct {
	app          *App
	every, cycle time.Duration
	mu           sync.Mutex
	queue        []string // what is left of this cycle, newest first
	batch        int
}

// maxResidueBatch bounds one tick's export calls; a ledger too large for
// its cycle at this size takes longer (the log says so).
const maxResidueBatch = 500

// scheduleResidueAudit adds the residue audit to the scheduler (leader
// only on PostgreSQL); a negative residue_audit_every turns it off.
func (a *App) scheduleResidueAudit(sched *scheduler.Scheduler) error {
	every, cycle := a.Config.Scheduler.Residue()
	if every < 0 {
		return nil
	}
	ra := &residueAuditor{app: a, every: every, cycle: cycle}
	return sched.Every("residue-audit", every, ra.tick)
}

func (ra *residueAuditor) tick(ctx context.Context) {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	log := ra.app.Log.With("component", "residue-audit")
	if len(ra.queue) == 0 {
		queue, err := erasedNewestFirst(ra.app)
		if err != nil {
			log.Error("residue audit: the erasure ledger could not be read", "err", err)
			return
		}
		ticks := max(int(ra.cycle/ra.every), 1)
		ra.queue, ra.batch = queue, min(max((len(queue)+ticks-1)/ticks, 1), maxResidueBatch)
		if len(queue) > ticks*maxResidueBatch {
			log.Warn("residue audit: the cycle is too short for the ledger at the largest batch; it will take longer", "customers", len(queue))
		}
	}
	n := min(ra.batch, len(ra.queue))
	if n == 0 {
		return
	}
	batch := ra.queue[:n]
	res, err := ra.app.Engine.AuditResidue(ctx, batch)
	if err != nil {
		log.Warn("residue audit batch failed; its customers are checked again next cycle", "customers", n, "err", err)
		return
	}
	ra.queue = ra.queue[n:]
	for connector, ids := range res.Found {
		ra.app.LedgerMetrics.Resurrected(connector, len(ids))
		ra.app.guards.addResurrected(connector, len(ids))
		log.Warn("erased customers found again in a connector (its store restored from a backup?): erased again", "connector", connector,
			"customers", len(ids), "run", res.Run.ID, "status", res.Run.Status)
	}
	log.Debug("residue audit batch", "checked", res.Checked, "left_this_cycle", len(ra.queue))
}

// erasedNewestFirst lists the customers the ledger records as erased, each
// once, the most recently erased first.
func erasedNewestFirst(a *App) ([]string, error) {
	records, err := a.Ledger.Since(0)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range slices.Backward(records) {
		if r.Kind == string(retention.ActionErase) && !seen[r.Customer] {
			seen[r.Customer] = true
			out = append(out, r.Customer)
		}
	}
	return out, nil
}
