package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// DeleteDryRuns deletes the oldest dry runs started before before, with
// their plan lines (retention.DryRunWriter).
func (q *queries) DeleteDryRuns(ctx context.Context, before time.Time, limit int) (int, error) {
	var ids []string
	err := q.idb.NewSelect().Model((*runRow)(nil)).Column("id").
		Where("dry_run = ?", true).Where("started_at < ?", toMicros(before)).
		OrderExpr("started_at").Limit(int64(limit)).Scan(ctx, &ids)
	if err != nil {
		return 0, internal("old dry runs", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := q.idb.NewDelete().Model((*planRow)(nil)).Where("run_id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
		return 0, internal("delete dry run plans", err)
	}
	if _, err := q.idb.NewDelete().Model((*runRow)(nil)).Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
		return 0, internal("delete dry runs", err)
	}
	return len(ids), nil
}
