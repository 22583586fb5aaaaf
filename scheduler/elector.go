package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// leaderLease names the scheduler's row in the lease table, beside the
// sweep lease itself.
const leaderLease = "leader"

// ErrNotLeader is returned by IsLeader on a replica that is not the leader.
var ErrNotLeader = errors.New("not the leader")

// Leases is the lease table the replicas share (store.Store implements
// it): named leases with an epoch, measured on the database's clock so
// that every replica measures the same term whatever the skew between
// their hosts.
type Leases interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (retention.Lease, bool, error)
	RenewLease(ctx context.Context, name string, l retention.Lease, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name string, l retention.Lease) error
}

// LeaseElector elects one leader among replicas sharing a PostgreSQL
// database with a lease in a table: the leader renews it every third of its
// term; a replica that finds it expired takes it with a new epoch. Nothing
// depends on a session staying open, so a leader that is frozen (SIGSTOP, a
// stalled VM) while its connections stay up is replaced within the term plus
// one tick of the schedule, and when it resumes its renewal fails and it
// stops leading. A Locker alone would not do: it stops two replicas running
// one job at the same moment, not a fast job running once per replica one
// after the other.
type LeaseElector struct {
	leases Leases
	holder string
	ttl    time.Duration

	mu    sync.Mutex
	lease retention.Lease // zero while not leading
	quit  chan struct{}
	done  chan struct{}
}

// NewLeaseElector elects on the lease table with leases lasting ttl.
func NewLeaseElector(leases Leases, ttl time.Duration) *LeaseElector {
	host, _ := os.Hostname()
	return &LeaseElector{leases: leases, ttl: ttl, holder: fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())}
}

// IsLeader returns nil while this replica holds the lease, renewing it, or
// taking it when it is free or expired.
func (e *LeaseElector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lease.Epoch != 0 {
		ok, err := e.leases.RenewLease(ctx, leaderLease, e.lease, e.ttl)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		e.lease = retention.Lease{} // another replica took it while this one did not renew
	}
	l, ok, err := e.leases.AcquireLease(ctx, leaderLease, e.holder, e.ttl)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotLeader
	}
	e.lease = l
	if e.quit == nil {
		e.quit, e.done = make(chan struct{}), make(chan struct{})
		go e.keepAlive(e.quit, e.done)
	}
	return nil
}

// keepAlive renews the lease between ticks of the schedule, so that the
// leader stays the leader while it lives.
func (e *LeaseElector) keepAlive(quit, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(max(e.ttl/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
			e.mu.Lock()
			if e.lease.Epoch != 0 {
				ctx, cancel := context.WithTimeout(context.Background(), e.ttl)
				if ok, err := e.leases.RenewLease(ctx, leaderLease, e.lease, e.ttl); err == nil && !ok {
					e.lease = retention.Lease{}
				}
				cancel()
			}
			e.mu.Unlock()
		}
	}
}

// Close gives up leadership at once, so that another replica need not wait
// for the lease to expire.
func (e *LeaseElector) Close() error {
	e.mu.Lock()
	quit, done := e.quit, e.done
	e.quit = nil
	e.mu.Unlock()
	if quit != nil {
		close(quit)
		<-done
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lease.Epoch == 0 {
		return nil
	}
	err := e.leases.ReleaseLease(context.Background(), leaderLease, e.lease)
	e.lease = retention.Lease{}
	return err
}
