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

// recomputeChunk is how many customers one chunk recomputes. SQLite has one
// writer at a time, so its chunks are smaller: a writer waits for at most
// one of them.
func (s *Store) recomputeChunk() int {
	if s.dialect == SQLite {
		return 500
	}
	return 2000
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

// idRange limits a recomputation to one chunk: the customers with these ids
// (looked up by primary key, whatever other index the rule's conditions
// could use); the zero range is every customer.
type idRange struct{ ids []string }

func (r idRange) where() string {
	if len(r.ids) == 0 {
		return "1 = 1"
	}
	return "id IN (" + placeholders(len(r.ids)) + ")"
}

func (r idRange) args() []any { return anySlice(r.ids) }

// table is the table a chunk updates. Without statistics SQLite's planner
// takes the equality conditions of a rule (policy_name, visit_count,
// appointment_count) for the most selective and scans that index, every
// customer of a policy per chunk; a chunk must go by its ids. The index is
// the one SQLite makes for the TEXT PRIMARY KEY of customers.
func (r idRange) table(d Dialect) string {
	if len(r.ids) > 0 && d == SQLite {
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
	for {
		finished := false
		err := s.Update(ctx, func(tx retention.Tx) error {
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
			// lock order every multi-customer transaction follows.
			var ids []string
			sel := q.idb.NewSelect().Model((*customerRow)(nil)).Column("id").
				Where("id > ? AND erased_at IS NULL", job.AfterID).OrderExpr("id").Limit(int64(s.recomputeChunk()))
			if err := q.forUpdate(sel).Scan(ctx, &ids); err != nil {
				return internal("recompute chunk", err)
			}
			if len(ids) == 0 {
				finished = true
				_, err := q.idb.NewDelete().Model((*recomputeRow)(nil)).Where("seq = ?", seq).Exec(ctx)
				return internal("recompute done", err)
			}
			if err := q.recompute(ctx, job, idRange{ids: ids}); err != nil {
				return err
			}
			_, err = q.idb.NewUpdate().Model((*recomputeRow)(nil)).Set("after_id = ?", ids[len(ids)-1]).Where("seq = ?", seq).Exec(ctx)
			return internal("recompute progress", err)
		})
		if err != nil || finished {
			return err
		}
	}
}
