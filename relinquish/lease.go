package relinquish

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// deadHolder returns the current sweep lease holder when it is a process on
// this host that no longer exists: its lease may be taken at once, so that a
// process restarted after a crash resumes without waiting for the lease to
// expire. Holders on other hosts are waited out (LeaseTTL).
func (e *Engine) deadHolder(ctx context.Context) (string, error) {
	holder, expires, err := e.store.SweepLeaseHolder(ctx)
	if err != nil || holder == "" || holder == e.holder || expires.Before(e.nowUTC()) {
		return "", err
	}
	parts := strings.SplitN(holder, "/", 3)
	host, _ := os.Hostname()
	if len(parts) != 3 || parts[0] != host {
		return "", nil
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid == os.Getpid() {
		return "", nil
	}
	if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.Signal(0)) == nil {
		return "", nil // alive
	}
	return holder, nil
}

// fenced runs fn in a write transaction that first proves the run still
// holds the sweep lease with its epoch (and renews it), or, for a claimed
// batch, that the claim is still the batch's with its epoch. Every change a
// sweep makes goes through here: a run whose lease (a batch whose claim)
// another process took rolls back with ErrLeaseLost (ErrClaimLost) instead
// of changing anything.
func (e *Engine) fenced(ctx context.Context, r *runState, fn func(tx retention.Tx) error) error {
	return e.store.Update(ctx, func(tx retention.Tx) error {
		if err := e.renew(ctx, tx, r); err != nil {
			return err
		}
		return fn(tx)
	})
}

// renew extends r's title (its claim, or else its lease) by a term, in tx.
func (e *Engine) renew(ctx context.Context, tx retention.Tx, r *runState) error {
	until := e.nowUTC().Add(e.LeaseTTL)
	if r.claim != nil {
		return tx.RenewClaim(ctx, *r.claim, until)
	}
	return tx.RenewSweepLease(ctx, r.lease, until)
}

// lost is the error of r's title taken by another process.
func (r *runState) lost() error {
	if r.claim != nil {
		return retention.ErrClaimLost
	}
	return retention.ErrLeaseLost
}

// proveLease returns nil when the run holds the sweep lease (a claimed
// batch its claim) now and for a third of its term at least (ErrLeaseLost,
// ErrClaimLost when another process took it). A read proves it: the title
// names the run's holder and epoch and has not expired, so no other process
// can take it before that third has passed (taking it needs it expired, or
// this process dead). The heartbeat keeps it two thirds ahead; only a title
// found closer to its end, or not ours, goes through a fenced write
// transaction, which renews it or reports it lost. The read does not wait
// for the writer, which is busy with the other batches' journal writes.
func (e *Engine) proveLease(ctx context.Context, r *runState) error {
	until := e.nowUTC().Add(e.LeaseTTL / 3)
	var held bool
	var err error
	if r.claim != nil {
		held, err = e.store.HoldsClaim(ctx, *r.claim, until)
	} else {
		held, err = e.store.HoldsSweepLease(ctx, r.lease, until)
	}
	if err != nil || held {
		return err
	}
	return e.fenced(ctx, r, func(retention.Tx) error { return nil })
}

// heartbeat renews the sweep lease while a run goes, also while a slow
// batch keeps the run from reaching its next checkpoint. A renewal that
// finds the lease taken stops the run at once (stop is called with
// ErrLeaseLost); so does a lease that could not be renewed for as long as it
// lasts, since another process may take it from then on.
func (e *Engine) heartbeat(ctx context.Context, r *runState, stop context.CancelCauseFunc) (done func()) {
	quit := make(chan struct{})
	go func() {
		t := time.NewTicker(max(e.LeaseTTL/3, 10*time.Millisecond))
		defer t.Stop()
		renewed := time.Now()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				err := e.store.Update(ctx, func(tx retention.Tx) error { return e.renew(ctx, tx, r) })
				switch {
				case err == nil:
					renewed = time.Now()
				case errors.Is(err, r.lost()):
					e.log.Error(r.what()+" lost to another process; stopping", "run", r.run.ID, "epoch", r.epoch())
					stop(r.lost())
					return
				case time.Since(renewed) >= e.LeaseTTL:
					e.log.Error(r.what()+" not renewed for its whole term; stopping", "run", r.run.ID, "err", err)
					stop(r.lost())
					return
				default:
					e.log.Warn(r.what()+" not renewed; trying again", "run", r.run.ID, "err", err)
				}
			}
		}
	}()
	return func() { close(quit) }
}

// what names r's title in logs.
func (r *runState) what() string {
	if r.claim != nil {
		return "claim on sweep batch " + r.claim.ID
	}
	return "sweep lease"
}

// epoch is r's fencing token.
func (r *runState) epoch() int64 {
	if r.claim != nil {
		return r.claim.Epoch
	}
	return r.lease.Epoch
}
