package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/lethe-privacy/lethe/retention"
)

// recomputeSchedules turns retention's explicit request into SQL for the
// customers in r (a chunk of a queued job, see recompute_chunks.go, or
// everybody): one UPDATE per policy group, and one for the data policy's
// rule, so that policy changes apply retrospectively without a loop over
// customers. The rules themselves (which group gets which days, who is
// anonymised when) are decided in retention; this file only translates
// them. TestBulkRecomputeMatchesRules checks that both give the same times.
func (q *queries) recomputeSchedules(ctx context.Context, req retention.ScheduleRequest, r idRange) error {
	for _, g := range req.Groups {
		if err := q.recomputeGroup(ctx, g, r); err != nil {
			return err
		}
	}
	if req.Anonymise != nil {
		return q.recomputeAnonymise(ctx, *req.Anonymise, r)
	}
	return nil
}

const dayMicros = int64(86400) * 1_000_000

// sqlLeast is the earlier of two nullable times (NULL only when both are).
func sqlLeast(a, b string) string {
	return fmt.Sprintf("(CASE WHEN (%[1]s) IS NULL THEN (%[2]s) WHEN (%[2]s) IS NULL THEN (%[1]s) WHEN (%[1]s) < (%[2]s) THEN (%[1]s) ELSE (%[2]s) END)", a, b)
}

// eraseExpr: the end of the latest event plus the days; none while a visit
// is open.
func eraseExpr(days int) string {
	return fmt.Sprintf("(CASE WHEN open_visits > 0 THEN NULL ELSE latest_event_end + %d END)", int64(days)*dayMicros)
}

func (q *queries) recomputeGroup(ctx context.Context, g retention.PolicyGroup, r idRange) error {
	where, args := "policy_name = ?", []any{g.Assigned}
	if g.Assigned == "" {
		where, args = "policy_name IS NULL AND "+cmpZero("visit_count", g.Visits)+" AND "+cmpZero("appointment_count", g.Appointments), nil
	}
	erase := eraseExpr(g.Days)
	query := fmt.Sprintf("UPDATE %s SET erase_at = %s, deletion_time = %s WHERE erased_at IS NULL AND %s AND %s",
		r.table(q.dialect), erase, sqlLeast(erase, "anonymise_at"), where, r.where())
	_, err := q.idb.NewRaw(query, append(args, r.args()...)...).Exec(ctx)
	return internal("recompute erase", err)
}

func cmpZero(col string, positive bool) string {
	if positive {
		return col + " > 0"
	}
	return col + " = 0"
}

// hasCategory tests the relinquished column (see relinquishedJSON) for one
// category with an exact substring search of its quoted key.
func (q *queries) hasCategory(category string) string {
	key := "'\"" + strings.ReplaceAll(category, "'", "''") + "\"'"
	if q.dialect == Postgres {
		return fmt.Sprintf("strpos(relinquished, %s) > 0", key)
	}
	return fmt.Sprintf("instr(relinquished, %s) > 0", key)
}

// anonymiseExpr is the AnonymiseRule: status change plus the days, never
// before the end of the latest event, for customers in the rule's statuses
// that miss one of its categories.
func (q *queries) anonymiseExpr(r retention.AnonymiseRule) string {
	if !r.Acts() {
		return "NULL"
	}
	statuses := make([]string, len(r.Statuses))
	for i, s := range r.Statuses {
		statuses[i] = "'" + strings.ReplaceAll(string(s), "'", "''") + "'"
	}
	missing := make([]string, len(r.Categories))
	for i, c := range r.Categories {
		missing[i] = "NOT " + q.hasCategory(c)
	}
	after := fmt.Sprintf("status_changed_at + %d", int64(r.AfterDays)*dayMicros)
	return fmt.Sprintf(`(CASE WHEN open_visits = 0 AND status_changed_at IS NOT NULL AND status IN (%s) AND (%s)
		THEN (CASE WHEN %[3]s > latest_event_end THEN %[3]s ELSE latest_event_end END) ELSE NULL END)`,
		strings.Join(statuses, ", "), strings.Join(missing, " OR "), after)
}

func (q *queries) recomputeAnonymise(ctx context.Context, rule retention.AnonymiseRule, r idRange) error {
	anon := q.anonymiseExpr(rule)
	query := fmt.Sprintf("UPDATE %s SET anonymise_at = %s, deletion_time = %s WHERE erased_at IS NULL AND %s", r.table(q.dialect), anon, sqlLeast("erase_at", anon), r.where())
	_, err := q.idb.NewRaw(query, r.args()...).Exec(ctx)
	return internal("recompute anonymise", err)
}
