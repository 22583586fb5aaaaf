package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/ledger"
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
	// cursor is where this cycle stands, kept beside the ledger so that a
	// restart goes on where it was instead of beginning again from the
	// newest (which, restarted often enough, would never reach the oldest).
	cursor residueCursor
	path   string
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
	ra := &residueAuditor{app: a, every: every, cycle: cycle, path: filepath.Join(filepath.Dir(a.Ledger.Path()), residueCursorFile)}
	return sched.Every("residue-audit", every, ra.tick)
}

func (ra *residueAuditor) tick(ctx context.Context) {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	log := ra.app.Log.With("component", "residue-audit")
	if len(ra.queue) == 0 && !ra.startCycle(log) {
		return
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
	ra.cursor.Done += n
	if err := ra.cursor.save(ra.path, len(ra.queue) == 0); err != nil {
		log.Warn("residue audit: where the cycle stands could not be kept; a restart begins it again", "err", err)
	}
	for connector, ids := range res.Found {
		ra.app.LedgerMetrics.Resurrected(connector, len(ids))
		ra.app.guards.addResurrected(connector, len(ids))
		log.Warn("erased customers found again in a connector (its store restored from a backup?): erased again", "connector", connector,
			"customers", len(ids), "run", res.Run.ID, "status", res.Run.Status)
	}
	log.Debug("residue audit batch", "checked", res.Checked, "left_this_cycle", len(ra.queue))
}

// startCycle fills the queue: the cycle a kept cursor says is under way
// (the customers it has not reached yet), or a new one from the ledger's
// head. It says whether there is anything to check.
func (ra *residueAuditor) startCycle(log *slog.Logger) bool {
	records, err := ra.app.Ledger.Since(0)
	if err != nil {
		log.Error("residue audit: the erasure ledger could not be read", "err", err)
		return false
	}
	cur, err := loadResidueCursor(ra.path)
	if err != nil {
		log.Warn("residue audit: the kept cursor is unreadable; a new cycle begins", "err", err)
	}
	if cur.Head == 0 || cur.Head > int64(len(records)) {
		cur = residueCursor{Head: int64(len(records))}
	}
	queue := erasedNewestFirst(records[:cur.Head])
	if cur.Done > 0 {
		log.Info("residue audit: going on with the cycle a restart interrupted", "checked", cur.Done, "left", max(len(queue)-cur.Done, 0))
	}
	ra.cursor, ra.queue = cur, queue[min(cur.Done, len(queue)):]
	ticks := max(int(ra.cycle/ra.every), 1)
	ra.batch = min(max((len(queue)+ticks-1)/ticks, 1), maxResidueBatch)
	if len(queue) > ticks*maxResidueBatch {
		log.Warn("residue audit: the cycle is too short for the ledger at the largest batch; it will take longer", "customers", len(queue))
	}
	return len(ra.queue) > 0
}

// erasedNewestFirst lists the customers the records show erased, each
// once, the most recently erased first.
func erasedNewestFirst(records []ledger.Record) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range slices.Backward(records) {
		if r.Kind == string(retention.ActionErase) && !seen[r.Customer] {
			seen[r.Customer] = true
			out = append(out, r.Customer)
		}
	}
	return out
}

// residueCursorFile, beside the ledger, holds where the residue audit's
// cycle stands. It holds no personal data, only two positions.
const residueCursorFile = "residue-audit.cursor"

// residueCursor is a cycle's place: the ledger position it began at (its
// queue is the customers erased up to there, newest first) and how many of
// them it has checked.
type residueCursor struct {
	Head int64 `json:"head"`
	Done int   `json:"done"`
}

func loadResidueCursor(path string) (residueCursor, error) {
	var c residueCursor
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Head < 0 || c.Done < 0 {
		return residueCursor{}, fmt.Errorf("%s: not a residue-audit cursor", path)
	}
	return c, nil
}

// save keeps the cursor (written aside and renamed, so a crash leaves the
// old one or the new one); a finished cycle removes it, so the next begins
// at the ledger's head.
func (c residueCursor) save(path string, finished bool) error {
	if finished {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
