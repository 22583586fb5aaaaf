package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// leaderLease names the scheduler's row in the lease table (sweep_lease),
// beside the sweep lease itself.
const leaderLease = "leader"

// ErrNotLeader is returned by IsLeader on a replica that is not the leader.
var ErrNotLeader = errors.New("not the leader")

// dbNow is the database's clock in microseconds: every replica measures
// the lease against the same clock, whatever the skew between their hosts.
const dbNow = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"

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
	db     *sql.DB
	holder string
	ttl    time.Duration

	mu    sync.Mutex
	epoch int64 // 0 while not leading
	quit  chan struct{}
	done  chan struct{}
}

// NewLeaseElector elects on db with leases lasting ttl.
func NewLeaseElector(db *sql.DB, ttl time.Duration) *LeaseElector {
	host, _ := os.Hostname()
	return &LeaseElector{db: db, ttl: ttl, holder: fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())}
}

// IsLeader returns nil while this replica holds the lease, renewing it, or
// taking it when it is free or expired.
func (e *LeaseElector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.epoch != 0 {
		ok, err := e.renew(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		e.epoch = 0 // another replica took it while this one did not renew
	}
	var epoch int64
	err := e.db.QueryRowContext(ctx, `INSERT INTO sweep_lease (name, holder, expires_at, epoch) VALUES ($1, $2, `+dbNow+` + $3, 1)
		ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at, epoch = sweep_lease.epoch + 1
		WHERE sweep_lease.holder = '' OR sweep_lease.expires_at < `+dbNow+`
		RETURNING epoch`, leaderLease, e.holder, e.ttl.Microseconds()).Scan(&epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotLeader
	}
	if err != nil {
		return err
	}
	e.epoch = epoch
	if e.quit == nil {
		e.quit, e.done = make(chan struct{}), make(chan struct{})
		go e.keepAlive(e.quit, e.done)
	}
	return nil
}

// renew extends the lease if it is still this replica's with its epoch.
func (e *LeaseElector) renew(ctx context.Context) (bool, error) {
	res, err := e.db.ExecContext(ctx, "UPDATE sweep_lease SET expires_at = "+dbNow+" + $1 WHERE name = $2 AND holder = $3 AND epoch = $4",
		e.ttl.Microseconds(), leaderLease, e.holder, e.epoch)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
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
			if e.epoch != 0 {
				ctx, cancel := context.WithTimeout(context.Background(), e.ttl)
				if ok, err := e.renew(ctx); err == nil && !ok {
					e.epoch = 0
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
	if e.epoch == 0 {
		return nil
	}
	_, err := e.db.ExecContext(context.Background(), "UPDATE sweep_lease SET holder = '', expires_at = 0 WHERE name = $1 AND holder = $2 AND epoch = $3",
		leaderLease, e.holder, e.epoch)
	e.epoch = 0
	return err
}
