package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/lethe-privacy/lethe/retention"
)

// recomputeSchedules turns retention's explicit request into SQL for the
// customers in r (a chunk of a queued job, see recompute_chunks.go, or
// everybody), so that policy changes apply retrospectively without a loop
// over customers. The rules themselves (which group gets which days, who is
// anonymised when) are decided in retention; this file only translates
// them. TestBulkRecomputeMatchesRules checks that both give the same times.
//
// It is one UPDATE, not one per policy group: each customer row (and each
// of its index entries) is rewritten once, and a row whose times do not
// change is not rewritten at all. At a million customers that halves the
// pages a policy change dirties, which is most of what it costs.
func (q *queries) recomputeSchedules(ctx context.Context, req retention.ScheduleRequest, r idRange) error {
	if len(req.Groups) == 0 && req.Anonymise == nil {
		return nil
	}
	erase, anon := "erase_at", "anonymise_at"
	conds := []string{"erased_at IS NULL", r.where()}
	if len(req.Groups) > 0 {
		var cases, any []string
		for _, g := range req.Groups {
			c := groupCondition(g)
			cases = append(cases, fmt.Sprintf("WHEN %s THEN %s", c, eraseExpr(g.Days)))
			any = append(any, "("+c+")")
		}
		erase = "(CASE " + strings.Join(cases, " ") + " ELSE erase_at END)"
		if req.Anonymise == nil {
			// Only the groups' customers can change.
			conds = append(conds, "("+strings.Join(any, " OR ")+")")
		}
	}
	if req.Anonymise != nil {
		anon = q.anonymiseExpr(*req.Anonymise)
	}
	deletion := sqlLeast(erase, anon)
	conds = append(conds, fmt.Sprintf("(erase_at IS DISTINCT FROM %s OR anonymise_at IS DISTINCT FROM %s OR deletion_time IS DISTINCT FROM %s)", erase, anon, deletion))
	query := fmt.Sprintf("UPDATE %s SET erase_at = %s, anonymise_at = %s, deletion_time = %s WHERE %s",
		r.table(q.dialect), erase, anon, deletion, strings.Join(conds, " AND "))
	_, err := q.idb.NewRaw(query, r.args()...).Exec(ctx)
	return internal("recompute schedules", err)
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

// groupCondition selects a policy group's customers: those assigned the
// policy, or those on the automatic policy with the group's links.
func groupCondition(g retention.PolicyGroup) string {
	if g.Assigned != "" {
		return "policy_name = " + sqlString(g.Assigned)
	}
	return "policy_name IS NULL AND " + cmpZero("visit_count", g.Visits) + " AND " + cmpZero("appointment_count", g.Appointments)
}

// sqlString quotes a literal. The rules are written into the statement
// rather than bound, because one expression appears several times in it.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func cmpZero(col string, positive bool) string {
	if positive {
		return col + " > 0"
	}
	return col + " = 0"
}

// hasCategory tests the relinquished column (see relinquishedJSON) for one
// category with an exact substring search of its quoted key.
func (q *queries) hasCategory(category string) string {
	key := sqlString(`"` + category + `"`)
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
		statuses[i] = sqlString(string(s))
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
