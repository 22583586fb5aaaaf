package retention

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// heartbeat renews the sweep lease while a run goes, also while a slow
// batch keeps the run from reaching its next checkpoint.
func (e *Engine) heartbeat(ctx context.Context, r *runState) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(max(e.LeaseTTL/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				now := e.nowUTC()
				err := e.store.Update(ctx, func(tx Tx) error {
					_, err := tx.AcquireSweepLease(ctx, e.holder, now, now.Add(e.LeaseTTL), "")
					return err
				})
				if err != nil {
					e.log.Warn("sweep lease not renewed", "run", r.run.ID, "err", err)
				}
			}
		}
	}()
	return func() { close(done) }
}
