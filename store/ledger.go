package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

var _ retention.LedgerPositionWriter = (*queries)(nil)

// RecordLedgerPosition records that this database has applied the erasure
// ledger up to p, in the transaction that applies it.
func (q *queries) RecordLedgerPosition(ctx context.Context, p retention.LedgerPosition) error {
	_, err := q.idb.NewRaw("INSERT INTO erasure_ledger_applied (seq, hash, recorded_at) VALUES (?, ?, ?) ON CONFLICT (seq) DO NOTHING",
		p.Seq, p.Hash, toMicros(time.Now())).Exec(ctx)
	return internal("record ledger position", err)
}

// LedgerPosition is the furthest erasure-ledger position this database has
// applied; zero when it never applied one.
func (s *Store) LedgerPosition(ctx context.Context) (retention.LedgerPosition, error) {
	var p retention.LedgerPosition
	err := s.db.NewRaw("SELECT seq, hash FROM erasure_ledger_applied ORDER BY seq DESC LIMIT 1").Scan(ctx, &p.Seq, &p.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return retention.LedgerPosition{}, nil
	}
	return p, internal("ledger position", err)
}

// RecordLedgerPositionAudited records p outside a sweep, with the audit
// event that says why: a restore's re-application finished, the database
// has caught up with the ledger.
func (s *Store) RecordLedgerPositionAudited(ctx context.Context, p retention.LedgerPosition, event retention.AuditEvent) error {
	return s.Update(ctx, func(tx retention.Tx) error {
		if err := tx.(*queries).RecordLedgerPosition(ctx, p); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, event)
	})
}
