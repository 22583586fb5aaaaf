package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
)

// The lease table (sweep_lease) holds named leases with a holder, an
// expiry and an epoch: "sweep", the sweep run's (see the journal), and
// "leader", the scheduler's leader election across replicas (see
// scheduler.LeaseElector). One set of statements takes, renews and gives
// up every one of them.

// acquireLease takes the named lease until `until` when it is free,
// expired at now, or held by takeOver, a holder known to be dead (never
// "already ours": a second run of the same process must wait too). One
// statement, so two processes cannot both win; every acquisition
// increments the epoch, the fencing token of the new holder.
func acquireLease(ctx context.Context, idb bun.IDB, name, holder string, now, until time.Time, takeOver string) (retention.Lease, bool, error) {
	var epoch int64
	if takeOver == "" {
		takeOver = holder // never matches: a current lease of our own is not taken again
	}
	err := idb.NewRaw(`INSERT INTO sweep_lease (name, holder, expires_at, epoch) VALUES (?, ?, ?, 1)
		ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at, epoch = sweep_lease.epoch + 1
		WHERE sweep_lease.holder = '' OR sweep_lease.expires_at < ? OR (sweep_lease.holder = ? AND sweep_lease.holder <> ?)
		RETURNING epoch`, name, holder, toMicros(until), toMicros(now), takeOver, holder).Scan(ctx, &epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return retention.Lease{}, false, nil
	}
	if err != nil {
		return retention.Lease{}, false, internal(name+" lease", err)
	}
	return retention.Lease{Holder: holder, Epoch: epoch}, true, nil
}

// renewLease extends the lease to `until` if l still holds it; false when
// another holder (or a later epoch) has it.
func renewLease(ctx context.Context, idb bun.IDB, name string, l retention.Lease, until time.Time) (bool, error) {
	res, err := idb.NewRaw("UPDATE sweep_lease SET expires_at = ? WHERE name = ? AND holder = ? AND epoch = ?",
		toMicros(until), name, l.Holder, l.Epoch).Exec(ctx)
	if err != nil {
		return false, internal(name+" lease", err)
	}
	n, err := res.RowsAffected()
	return n == 1, internal(name+" lease", err)
}

// releaseLease gives the lease up if l holds it. The row stays, so that
// the epoch keeps counting up.
func releaseLease(ctx context.Context, idb bun.IDB, name string, l retention.Lease) error {
	_, err := idb.NewRaw("UPDATE sweep_lease SET holder = '', expires_at = 0 WHERE name = ? AND holder = ? AND epoch = ?",
		name, l.Holder, l.Epoch).Exec(ctx)
	return internal("release "+name+" lease", err)
}

// DatabaseNow is the database's clock (PostgreSQL's clock_timestamp();
// this process's clock on SQLite, which has no other). Replicas that
// measure a lease against it agree whatever the skew between their hosts.
func (s *Store) DatabaseNow(ctx context.Context) (time.Time, error) {
	if s.dialect != Postgres {
		return time.Now(), nil
	}
	var micros int64
	err := s.db.NewRaw("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)").Scan(ctx, &micros)
	return fromMicros(micros), internal("database clock", err)
}

// AcquireLease takes the named lease for ttl, measured on the database's
// clock, when it is free or expired; false when another holder has it.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (retention.Lease, bool, error) {
	now, err := s.DatabaseNow(ctx)
	if err != nil {
		return retention.Lease{}, false, err
	}
	return acquireLease(ctx, s.db, name, holder, now, now.Add(ttl), "")
}

// RenewLease extends the named lease by ttl from the database's clock if l
// still holds it.
func (s *Store) RenewLease(ctx context.Context, name string, l retention.Lease, ttl time.Duration) (bool, error) {
	now, err := s.DatabaseNow(ctx)
	if err != nil {
		return false, err
	}
	return renewLease(ctx, s.db, name, l, now.Add(ttl))
}

// ReleaseLease gives the named lease up at once if l holds it.
func (s *Store) ReleaseLease(ctx context.Context, name string, l retention.Lease) error {
	return releaseLease(ctx, s.db, name, l)
}
