package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
)

// The batches of shared runs (sweep_batches): planned by the run's starter,
// claimed by every replica that runs sweeps, each claim fenced by its own
// epoch like the sweep lease (see lease.go).

const (
	batchOpen      = "open"
	batchDone      = "done"
	batchAbandoned = "abandoned"
)

type batchRow struct {
	bun.BaseModel `bun:"table:sweep_batches"`

	ID        string `bun:"id,pk"`
	RunID     string `bun:"run_id"`
	Seq       int    `bun:"seq"`
	EntryIDs  string `bun:"entry_ids"`
	Status    string `bun:"status"`
	Holder    string `bun:"holder"`
	Epoch     int64  `bun:"epoch"`
	ExpiresAt int64  `bun:"expires_at"`
	DoneBy    string `bun:"done_by"`
}

func (q *queries) InsertBatch(ctx context.Context, b retention.Batch) error {
	ids, err := json.Marshal(b.EntryIDs)
	if err != nil {
		return internal("insert batch", err)
	}
	_, err = q.idb.NewInsert().Model(&batchRow{ID: b.ID, RunID: b.RunID, Seq: b.Seq, EntryIDs: string(ids), Status: batchOpen}).Exec(ctx)
	return internal("insert batch", err)
}

// ClaimBatch is one statement: the subquery picks the first claimable
// batch and locks it, skipping the rows other replicas' claims hold locked
// at this moment (PostgreSQL); the update takes it with a new epoch. SQLite
// has no SKIP LOCKED and needs none: its single writer runs the statement
// alone.
func (q *queries) ClaimBatch(ctx context.Context, runID, holder string, now, until time.Time) (retention.Claim, bool, error) {
	lock := ""
	if q.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var row batchRow
	err := q.idb.NewRaw(`UPDATE sweep_batches SET holder = ?, epoch = epoch + 1, expires_at = ?
		WHERE id = (SELECT id FROM sweep_batches WHERE status = ? AND (holder = '' OR expires_at < ?) AND (? = '' OR run_id = ?)
			ORDER BY seq LIMIT 1`+lock+`)
		RETURNING id, run_id, seq, entry_ids, epoch`,
		holder, toMicros(until), batchOpen, toMicros(now), runID, runID).Scan(ctx, &row.ID, &row.RunID, &row.Seq, &row.EntryIDs, &row.Epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return retention.Claim{}, false, nil
	}
	if err != nil {
		return retention.Claim{}, false, internal("claim batch", err)
	}
	var ids []string
	if err := json.Unmarshal([]byte(row.EntryIDs), &ids); err != nil {
		return retention.Claim{}, false, internal("claim batch", decodeError("sweep batch", row.ID, "entry_ids", err))
	}
	return retention.Claim{Batch: retention.Batch{ID: row.ID, RunID: row.RunID, Seq: row.Seq, EntryIDs: ids},
		Holder: holder, Epoch: row.Epoch}, true, nil
}

func (q *queries) RenewClaim(ctx context.Context, c retention.Claim, until time.Time) error {
	// An UPDATE, not a read: the batch row stays locked until this
	// transaction commits, so the claim cannot change hands between this
	// check and the changes made after it.
	res, err := q.idb.NewRaw("UPDATE sweep_batches SET expires_at = ? WHERE id = ? AND status = ? AND holder = ? AND epoch = ?",
		toMicros(until), c.ID, batchOpen, c.Holder, c.Epoch).Exec(ctx)
	if err != nil {
		return internal("renew claim", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return internal("renew claim", err)
	}
	if n != 1 {
		return retention.ErrClaimLost
	}
	return nil
}

func (q *queries) HoldsClaim(ctx context.Context, c retention.Claim, until time.Time) (bool, error) {
	n, err := q.idb.NewSelect().Model((*batchRow)(nil)).
		Where("id = ? AND status = ? AND holder = ? AND epoch = ? AND expires_at > ?", c.ID, batchOpen, c.Holder, c.Epoch, toMicros(until)).Count(ctx)
	return n == 1, internal("claim", err)
}

func (q *queries) FinishBatch(ctx context.Context, c retention.Claim) error {
	_, err := q.idb.NewRaw("UPDATE sweep_batches SET status = ?, done_by = ? WHERE id = ? AND holder = ? AND epoch = ?",
		batchDone, c.Holder, c.ID, c.Holder, c.Epoch).Exec(ctx)
	return internal("finish batch", err)
}

func (q *queries) AbandonBatches(ctx context.Context, runID string) error {
	_, err := q.idb.NewRaw("UPDATE sweep_batches SET status = ?, holder = '', epoch = epoch + 1 WHERE status = ? AND (? = '' OR run_id = ?)",
		batchAbandoned, batchOpen, runID, runID).Exec(ctx)
	return internal("abandon batches", err)
}

func (q *queries) AnyClaimable(ctx context.Context, now time.Time) (bool, error) {
	return q.idb.NewSelect().Model((*batchRow)(nil)).Where("status = ? AND (holder = '' OR expires_at < ?)", batchOpen, toMicros(now)).
		Exists(ctx)
}

func (q *queries) UnclaimedBatches(ctx context.Context, runID string) (int, error) {
	n, err := q.idb.NewSelect().Model((*batchRow)(nil)).Where("run_id = ? AND status = ? AND holder = ''", runID, batchOpen).Count(ctx)
	return int(n), internal("unclaimed batches", err)
}

func (q *queries) OpenBatches(ctx context.Context, runID string) (int, error) {
	n, err := q.idb.NewSelect().Model((*batchRow)(nil)).Where("run_id = ? AND status = ?", runID, batchOpen).Count(ctx)
	return int(n), internal("open batches", err)
}

func (q *queries) BatchesByReplica(ctx context.Context, runID string) ([]retention.ReplicaBatches, error) {
	var rows []struct {
		DoneBy string `bun:"done_by"`
		N      int    `bun:"n"`
	}
	err := q.idb.NewSelect().Model((*batchRow)(nil)).ColumnExpr("done_by, count(*) AS n").
		Where("run_id = ? AND status = ?", runID, batchDone).GroupExpr("done_by").OrderExpr("done_by").Scan(ctx, &rows)
	if err != nil {
		return nil, internal("batches by replica", err)
	}
	out := make([]retention.ReplicaBatches, len(rows))
	for i, r := range rows {
		out[i] = retention.ReplicaBatches{Replica: r.DoneBy, Batches: r.N}
	}
	return out, nil
}

func (q *queries) OpenEntriesByID(ctx context.Context, ids []string) ([]retention.JournalEntry, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []entryRow
	if err := q.idb.NewSelect().Model(&rows).Where("status = ? AND id IN (?)", retention.EntryOpen, bun.In(ids)).OrderExpr("id").Scan(ctx); err != nil {
		return nil, internal("journal entries", err)
	}
	out, err := domains(rows, (*entryRow).domain)
	return out, internal("journal entries", err)
}

func (q *queries) AddRunCounts(ctx context.Context, runID string, done, failed, skipped int) error {
	if done == 0 && failed == 0 && skipped == 0 {
		return nil
	}
	_, err := q.idb.NewRaw(`UPDATE retention_runs SET customers_done = customers_done + ?, customers_failed = customers_failed + ?,
		customers_skipped = customers_skipped + ? WHERE id = ?`, done, failed, skipped, runID).Exec(ctx)
	return internal("run counts", err)
}

func (q *queries) SaveRunShared(ctx context.Context, r retention.Run) error {
	_, err := q.idb.NewUpdate().Model(runFromDomain(r)).ExcludeColumn("id", "customers_done", "customers_failed", "customers_skipped").
		WherePK().Exec(ctx)
	return internal("save run", err)
}
