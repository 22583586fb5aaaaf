package store

import (
	"context"
	"fmt"

	"github.com/lethe-privacy/lethe/retention"
)

// The bulk recomputation below is the SQL twin of retention.ComputeSchedule:
// one UPDATE per changed policy (or one for the data policy) rewrites the
// stored schedule of every customer concerned, so that policy changes apply
// retrospectively without a loop over customers. TestBulkRecomputeMatchesRules
// checks that both give the same times.

const dayMicros = int64(86400) * 1_000_000

// sqlLeast is the earlier of two nullable times (NULL only when both are).
func sqlLeast(a, b string) string {
	return fmt.Sprintf("(CASE WHEN (%[1]s) IS NULL THEN (%[2]s) WHEN (%[2]s) IS NULL THEN (%[1]s) WHEN (%[1]s) < (%[2]s) THEN (%[1]s) ELSE (%[2]s) END)", a, b)
}

// eraseExpr: the end of the latest event plus the policy's days; none while
// a visit is open.
func eraseExpr(daysExpr string) string {
	return fmt.Sprintf("(CASE WHEN open_visits > 0 THEN NULL ELSE latest_event_end + (%s) * %d END)", daysExpr, dayMicros)
}

// anonymiseExpr: status change plus relinquishAfterDays, never before the end
// of the latest event, for CANCELLED/DELETED customers not yet anonymised.
func anonymiseExpr(dp retention.DataPolicy) string {
	if !dp.Acts(retention.StatusCancelled) {
		return "NULL"
	}
	after := fmt.Sprintf("status_changed_at + %d", int64(dp.RelinquishAfterDays)*dayMicros)
	return fmt.Sprintf(`(CASE WHEN anonymised_at IS NULL AND open_visits = 0 AND status_changed_at IS NOT NULL
		AND status IN ('%s', '%s') THEN (CASE WHEN %[3]s > latest_event_end THEN %[3]s ELSE latest_event_end END) ELSE NULL END)`,
		retention.StatusCancelled, retention.StatusDeleted, after)
}

// recomputeErase rewrites erase and deletion times of every customer the
// named policy governs: those assigned it, and for the automatic policies
// those it is chosen for.
func (q *queries) recomputeErase(ctx context.Context, policy string, r idRange) error {
	policies, err := q.Policies(ctx)
	if err != nil {
		return err
	}
	set := retention.NewPolicySet(policies)
	p, ok := set[policy]
	if !ok {
		return retention.Errorf(retention.CodeNotFound, "no retention policy named %q", policy)
	}
	erase := eraseExpr(fmt.Sprint(p.RetentionDays))
	if err := q.execRecompute(ctx, erase, r, "policy_name = ?", policy); err != nil {
		return err
	}
	var group string
	switch policy {
	case retention.PolicyDefault:
		group = "visit_count = 0 AND appointment_count = 0"
	case retention.PolicyVisit:
		group = "visit_count > 0"
	case retention.PolicyAppointment:
		group = "appointment_count > 0"
	default:
		return nil
	}
	both := set.AutomaticPolicy(true, true).RetentionDays
	days := fmt.Sprintf("CASE WHEN visit_count > 0 AND appointment_count > 0 THEN %d WHEN appointment_count > 0 THEN %d WHEN visit_count > 0 THEN %d ELSE %d END",
		both, set[retention.PolicyAppointment].RetentionDays, set[retention.PolicyVisit].RetentionDays, set[retention.PolicyDefault].RetentionDays)
	return q.execRecompute(ctx, eraseExpr(days), r, "policy_name IS NULL AND "+group)
}

func (q *queries) execRecompute(ctx context.Context, erase string, r idRange, where string, args ...any) error {
	query := fmt.Sprintf("UPDATE customers SET erase_at = %s, deletion_time = %s WHERE erased_at IS NULL AND %s AND %s",
		erase, sqlLeast(erase, "anonymise_at"), where, r.where())
	_, err := q.idb.NewRaw(query, append(args, r.args()...)...).Exec(ctx)
	return internal("recompute erase", err)
}

// recomputeAnonymise rewrites anonymise and deletion times of every customer
// after a data policy change.
func (q *queries) recomputeAnonymise(ctx context.Context, dp retention.DataPolicy, r idRange) error {
	anon := anonymiseExpr(dp)
	query := fmt.Sprintf("UPDATE customers SET anonymise_at = %s, deletion_time = %s WHERE erased_at IS NULL AND %s", anon, sqlLeast("erase_at", anon), r.where())
	_, err := q.idb.NewRaw(query, r.args()...).Exec(ctx)
	return internal("recompute anonymise", err)
}
