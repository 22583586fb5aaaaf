package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
)

// How a change of the rules reaches every stored schedule without stalling
// the writers: the change commits at once, under the exclusive rules lock,
// and queues a job (schedule_recomputes); the job then runs in chunks of
// customers in id order, each chunk its own short transaction that locks
// only its own customer rows. A customer written meanwhile already reads the
// new rules (the rules lock saw to that), so a chunk that passes over it
// again computes the same times. Until the last chunk has committed, some
// stored times are those of the old rules: the engine never acts on a
// stored time without checking it against the rules in force (planCustomer,
// notDueReason), and a sweep finishes queued jobs before it plans, so that
// no customer due under the new rules is missed.

// A chunk is sized by time, not by a count of customers: it holds the
// writer (SQLite has one at a time) or its customers' row locks
// (PostgreSQL) for about chunkTarget, so that a writer waits for at most
// about that long, and the chunks are as large as that allows, because
// every chunk waits its turn behind the writers queued meanwhile: at a
// million customers, fixed chunks of 500 spent 19 times longer waiting than
// recomputing. The first chunk is small; each next one is scaled by how long
// the last one took.
const (
	chunkFirst = 500
	chunkMin   = 100
	chunkMax   = 50_000
)

func (s *Store) chunkTarget() time.Duration {
	if s.dialect == SQLite {
		return 40 * time.Millisecond
	}
	return 150 * time.Millisecond
}

// nextChunk scales the size of the last chunk, which took took, towards the
// target, by at most a factor of two either way (one slow chunk, a page
// cache miss, must not collapse the size).
func nextChunk(size int, took, target time.Duration) int {
	next := size * 2
	if took > 0 {
		next = int(float64(size) * float64(target) / float64(took))
	}
	return max(chunkMin, min(chunkMax, max(size/2, min(size*2, next))))
}

const (
	recomputePolicy     = "policy"
	recomputeDataPolicy = "data_policy"
)

type recomputeRow struct {
	bun.BaseModel `bun:"table:schedule_recomputes"`

	Seq        int64  `bun:"seq,pk,autoincrement"`
	Kind       string `bun:"kind"`
	PolicyName string `bun:"policy_name"`
	AfterID    string `bun:"after_id"`
	CreatedAt  int64  `bun:"created_at"`
}

// idRange limits a recomputation to one chunk: the customers whose ids
// are after after and up to last, read along the primary key (whatever
// other index the rule's conditions could use); the zero range is every
// customer.
type idRange struct{ after, last string }

func (r idRange) where() string {
	if r.last == "" {
		return "1 = 1"
	}
	return "id > ? AND id <= ?"
}

func (r idRange) args() []any {
	if r.last == "" {
		return nil
	}
	return []any{r.after, r.last}
}

// table is the table a chunk updates. Without statistics SQLite's planner
// takes the equality conditions of a rule (policy_name, visit_count,
// appointment_count) for the most selective and scans that index, every
// customer of a policy per chunk; a chunk must go by its ids. The index is
// the one SQLite makes for the TEXT PRIMARY KEY of customers.
func (r idRange) table(d Dialect) string {
	if r.last != "" && d == SQLite {
		return "customers INDEXED BY sqlite_autoindex_customers_1"
	}
	return "customers"
}

// queueRecompute records that the schedules governed by a policy (or the
// data policy) must be recomputed. A job of the same kind already queued
// starts over instead of a second one being added: it reads the rules in
// force at each chunk.
func (q *queries) queueRecompute(ctx context.Context, kind, policy string) error {
	res, err := q.idb.NewUpdate().Model((*recomputeRow)(nil)).Set("after_id = ''").
		Where("kind = ? AND policy_name = ?", kind, policy).Exec(ctx)
	if err != nil {
		return internal("queue recompute", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = q.idb.NewInsert().Model(&recomputeRow{Kind: kind, PolicyName: policy, CreatedAt: toMicros(time.Now())}).
		ExcludeColumn("seq").Exec(ctx)
	return internal("queue recompute", err)
}

// recompute applies one job to the customers in r, as retention's request
// for the rules in force now describes it (one statement per group).
func (q *queries) recompute(ctx context.Context, job recomputeRow, r idRange) error {
	if job.Kind == recomputeDataPolicy {
		dp, err := q.DataPolicy(ctx)
		if err != nil {
			return err
		}
		return q.recomputeSchedules(ctx, retention.DataPolicyChangeRequest(dp), r)
	}
	policies, err := q.Policies(ctx)
	if err != nil {
		return err
	}
	set := retention.NewPolicySet(policies)
	if _, ok := set[job.PolicyName]; !ok {
		return retention.Errorf(retention.CodeNotFound, "no retention policy named %q", job.PolicyName)
	}
	return q.recomputeSchedules(ctx, retention.PolicyChangeRequest(job.PolicyName, set), r)
}

// ApplyQueuedRecomputes applies every queued job in this transaction, all
// customers at once: for previews, which roll back.
func (q *queries) ApplyQueuedRecomputes(ctx context.Context) error {
	var jobs []recomputeRow
	if err := q.idb.NewSelect().Model(&jobs).OrderExpr("seq").Scan(ctx); err != nil {
		return internal("queued recomputes", err)
	}
	for _, job := range jobs {
		if err := q.recompute(ctx, job, idRange{}); err != nil {
			return err
		}
	}
	_, err := q.idb.NewDelete().Model((*recomputeRow)(nil)).Where("1 = 1").Exec(ctx)
	return internal("queued recomputes", err)
}

// FinishRecomputes runs every queued job to its end, chunk by chunk. Several
// processes may run it at once: a chunk locks its job's row, so they take
// turns and never redo one another's chunks.
func (s *Store) FinishRecomputes(ctx context.Context) error {
	for {
		var seqs []int64
		if err := s.reads.NewSelect().Model((*recomputeRow)(nil)).Column("seq").OrderExpr("seq").Scan(ctx, &seqs); err != nil {
			return internal("queued recomputes", err)
		}
		if len(seqs) == 0 {
			return nil
		}
		// A chunk's statements must go by its ids. PostgreSQL without
		// statistics (a table just filled, autovacuum not yet round) takes
		// the rule's equality conditions for the most selective and scans
		// the policy index, every customer of a policy per chunk; fresh
		// statistics (a sample, well under a second at a million rows) show
		// it that the ids are.
		if s.dialect == Postgres {
			if _, err := s.db.ExecContext(ctx, "ANALYZE customers"); err != nil {
				return internal("analyze customers", err)
			}
		}
		for _, seq := range seqs {
			if err := s.finishRecompute(ctx, seq); err != nil {
				return err
			}
		}
	}
}

func (s *Store) finishRecompute(ctx context.Context, seq int64) error {
	size := chunkFirst
	// A job covers the customers that existed when it was queued: those
	// created later were scheduled under the rules that queued it (the
	// rules lock saw to that). Its last id is read once the job is seen,
	// and again whenever a newer change starts it over; without it the
	// job would chase writers creating customers after its cursor.
	var bound sql.NullString
	haveBound := false
	for {
		finished := false
		var start time.Time
		err := s.Update(ctx, func(tx retention.Tx) error {
			start = time.Now() // the writer is ours from here to the commit
			q := tx.(*queries)
			var job recomputeRow
			err := q.forUpdate(q.idb.NewSelect().Model(&job).Where("seq = ?", seq)).Scan(ctx)
			if errors.Is(err, sql.ErrNoRows) {
				finished = true // another process finished it
				return nil
			}
			if err != nil {
				return internal("recompute job", err)
			}
			// Lock the chunk's rows in id order before changing them: the
			// lock order every multi-customer transaction follows. (SQLite
			// has no row locks: it only needs where the chunk ends.)
			if !haveBound || job.AfterID == "" {
				if err := q.idb.NewSelect().Model((*customerRow)(nil)).ColumnExpr("max(id)").Scan(ctx, &bound); err != nil {
					return internal("recompute bound", err)
				}
				haveBound = true
			}
			var ids []string
			sel := q.idb.NewSelect().Model((*customerRow)(nil)).Column("id").
				Where("id > ? AND id <= ? AND erased_at IS NULL", job.AfterID, bound.String).OrderExpr("id").Limit(int64(size))
			if q.dialect == SQLite {
				sel = q.idb.NewSelect().TableExpr("(?) AS chunk", sel).ColumnExpr("max(id)")
			}
			if err := q.forUpdate(sel).Scan(ctx, &ids); err != nil {
				return internal("recompute chunk", err)
			}
			if len(ids) == 0 || ids[len(ids)-1] == "" {
				finished = true
				_, err := q.idb.NewDelete().Model((*recomputeRow)(nil)).Where("seq = ?", seq).Exec(ctx)
				return internal("recompute done", err)
			}
			last := ids[len(ids)-1]
			if err := q.recompute(ctx, job, idRange{after: job.AfterID, last: last}); err != nil {
				return err
			}
			_, err = q.idb.NewUpdate().Model((*recomputeRow)(nil)).Set("after_id = ?", last).Where("seq = ?", seq).Exec(ctx)
			return internal("recompute progress", err)
		})
		if err != nil || finished {
			return err
		}
		// The commit counts: writing the chunk's pages to the log costs
		// more than changing them.
		size = nextChunk(size, time.Since(start), s.chunkTarget())
	}
}
