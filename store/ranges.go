package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
)

// The rules' ranges (retention/cutoffs.go): the SQL here holds bounds on a
// customer's anchors, never a rule. Two indexes serve every range, both
// partial on the customers a rule can reach (not erased, no open visit):
//
//   - customers_due (policy_group, latest_event_end, id): the erase ranges
//     ("latest event ended at or before T − days") and the sweep's keyset;
//   - customers_due_status (policy_group, status, latest_event_end,
//     status_changed_at, relinquished_mask, id): the data policy's ranges,
//     read from the index alone.
const reachable = "erased_at IS NULL AND open_visits = 0"

// maxCompound bounds the SELECTs one UNION ALL statement holds (SQLite's
// limit is 500).
const maxCompound = 400

// rangeWhere is a range's conditions and their arguments.
func rangeWhere(r retention.AnchorRange) (string, []any) {
	conds := []string{"policy_group = ?"}
	args := []any{r.Group}
	if len(r.Statuses) > 0 {
		conds = append(conds, "status IN ("+placeholders(len(r.Statuses))+")")
		for _, s := range r.Statuses {
			args = append(args, string(s))
		}
	}
	if r.EndedAfter != nil {
		conds, args = append(conds, "latest_event_end > ?"), append(args, toMicros(*r.EndedAfter))
	}
	if r.EndedBy != nil {
		conds, args = append(conds, "latest_event_end <= ?"), append(args, toMicros(*r.EndedBy))
	}
	if r.ChangedBy != nil {
		conds, args = append(conds, "status_changed_at <= ?"), append(args, toMicros(*r.ChangedBy))
	}
	if r.Missing != 0 {
		conds, args = append(conds, "(relinquished_mask & ?) <> ?"), append(args, r.Missing, r.Missing)
	}
	conds = append(conds, reachable)
	return strings.Join(conds, " AND "), args
}

// CountRanges counts each range in one statement (a few when there are
// many). A range with statuses is split by relinquished mask (its index
// holds the mask); one without is counted whole, under mask -1.
func (q *queries) CountRanges(ctx context.Context, ranges []retention.AnchorRange) ([]retention.MaskCounts, error) {
	out := make([]retention.MaskCounts, len(ranges))
	for i := range out {
		out[i] = retention.MaskCounts{}
	}
	for start := 0; start < len(ranges); start += maxCompound {
		if err := q.countRanges(ctx, ranges[start:min(start+maxCompound, len(ranges))], out[start:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (q *queries) countRanges(ctx context.Context, ranges []retention.AnchorRange, out []retention.MaskCounts) error {
	var parts []string
	var args []any
	for i, r := range ranges {
		where, a := rangeWhere(r)
		if len(r.Statuses) > 0 {
			parts = append(parts, fmt.Sprintf("SELECT %d, relinquished_mask, count(*) FROM customers WHERE %s GROUP BY relinquished_mask", i, where))
		} else {
			parts = append(parts, fmt.Sprintf("SELECT %d, -1, count(*) FROM customers WHERE %s", i, where))
		}
		args = append(args, a...)
	}
	rows, err := q.idb.QueryContext(ctx, strings.Join(parts, "\nUNION ALL\n"), args...)
	if err != nil {
		return internal("count ranges", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, mask, n int64
		if err := rows.Scan(&i, &mask, &n); err != nil {
			return internal("count ranges", err)
		}
		if n > 0 {
			out[i][int(mask)] += int(n)
		}
	}
	return internal("count ranges", rows.Err())
}

// HistogramRanges counts each range by bucket of latest event end, all in
// one statement (a few when there are many). On SQLite, a range bounded
// above by few buckets is counted bucket by bucket (bucketRanges).
func (q *queries) HistogramRanges(ctx context.Context, hs []retention.Histogram) ([]map[int]int, error) {
	out := make([]map[int]int, len(hs))
	for i := range out {
		out[i] = map[int]int{}
	}
	var grouped []retention.Histogram
	var groupedOut []map[int]int
	var ranges []retention.AnchorRange
	type slot struct{ h, k int }
	var slots []slot
	for i, h := range hs {
		bs, ok := bucketRanges(h)
		if !ok || q.dialect != SQLite {
			grouped, groupedOut = append(grouped, h), append(groupedOut, out[i])
			continue
		}
		for k, r := range bs {
			ranges, slots = append(ranges, r), append(slots, slot{i, k})
		}
	}
	counts, err := q.CountRanges(ctx, ranges)
	if err != nil {
		return nil, err
	}
	for j, c := range counts {
		if n := c.Total(); n > 0 {
			out[slots[j].h][slots[j].k] += n
		}
	}
	for start := 0; start < len(grouped); start += maxCompound {
		if err := q.histograms(ctx, grouped[start:min(start+maxCompound, len(grouped))], groupedOut[start:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxBuckets bounds the buckets a histogram is counted by one by one.
const maxBuckets = 128

// bucketRanges splits a histogram's range into one range per bucket, the
// same buckets the GROUP BY of histograms computes (offsets from the origin
// in whole microseconds): a plain range count per bucket reads each index
// entry once, where SQLite's GROUP BY on an expression sorts them all
// through a temporary B-tree (several times slower at 1M). False when the
// range is not bounded above, or has too many buckets.
func bucketRanges(h retention.Histogram) ([]retention.AnchorRange, bool) {
	width := int64(h.Width / time.Microsecond)
	if h.Range.EndedBy == nil || width <= 0 {
		return nil, false
	}
	origin, by := toMicros(h.Origin), toMicros(*h.Range.EndedBy)
	if by < origin {
		return nil, true
	}
	n := (by-origin)/width + 1
	if n > maxBuckets {
		return nil, false
	}
	after := origin - 1
	if h.Range.EndedAfter != nil {
		after = max(after, toMicros(*h.Range.EndedAfter))
	}
	out := make([]retention.AnchorRange, n)
	for k := range n {
		r := h.Range
		lo, hi := max(after, origin+k*width-1), min(by, origin+(k+1)*width-1)
		loT, hiT := fromMicros(lo), fromMicros(hi)
		r.EndedAfter, r.EndedBy = &loT, &hiT
		out[k] = r
	}
	return out, true
}

func (q *queries) histograms(ctx context.Context, hs []retention.Histogram, out []map[int]int) error {
	var parts []string
	var args []any
	for i, h := range hs {
		where, a := rangeWhere(h.Range)
		// The range bounds the ends from below by the origin, so the
		// offsets are not negative and integer division floors them.
		parts = append(parts, fmt.Sprintf("SELECT %d, (latest_event_end - ?) / ?, count(*) FROM customers WHERE %s GROUP BY 2", i, where))
		args = append(append(args, toMicros(h.Origin), int64(h.Width/time.Microsecond)), a...)
	}
	rows, err := q.idb.QueryContext(ctx, strings.Join(parts, "\nUNION ALL\n"), args...)
	if err != nil {
		return internal("histograms", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, bucket, n int64
		if err := rows.Scan(&i, &bucket, &n); err != nil {
			return internal("histograms", err)
		}
		out[i][int(bucket)] += int(n)
	}
	return internal("histograms", rows.Err())
}

// keyset continues after a cursor in (latest event end, id) order.
func keyset(sel *bun.SelectQuery, after *retention.AnchorCursor) *bun.SelectQuery {
	if after == nil {
		return sel
	}
	t := toMicros(after.LatestEnd)
	return sel.Where("(latest_event_end > ? OR (latest_event_end = ? AND id > ?))", t, t, after.ID)
}

func (q *queries) CustomersInRange(ctx context.Context, r retention.AnchorRange, f retention.DueFilter, after *retention.AnchorCursor, limit int) ([]*retention.Customer, error) {
	where, args := rangeWhere(r)
	var rows []customerRow
	sel := q.idb.NewSelect().Model(&rows).Where(where, args...)
	if !f.NotHeldAt.IsZero() {
		sel = sel.Where("(held_until IS NULL OR held_until <= ?)", toMicros(f.NotHeldAt))
	}
	if f.NoOpenEntry {
		sel = sel.Where("NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.customer_id = customer_row.id AND e.status = ?)", retention.EntryOpen)
	}
	if err := keyset(sel, after).OrderExpr("latest_event_end, id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, internal("customers in range", err)
	}
	out := make([]*retention.Customer, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (q *queries) DueExceptions(ctx context.Context, t time.Time) ([]*retention.Customer, error) {
	var rows []customerRow
	// UNION ALL, not UNION (IN removes duplicates anyway): with UNION,
	// SQLite may merge the two sides in id order and read every customer
	// by primary key to do so (half a second at 1M) where each side is a
	// handful of index entries.
	err := q.idb.NewSelect().Model(&rows).
		Where("id IN (SELECT id FROM customers WHERE held_until IS NOT NULL AND held_until > ? UNION ALL SELECT customer_id FROM journal_entries WHERE status = ?)",
			toMicros(t), retention.EntryOpen).
		Where(reachable).OrderExpr("id").Scan(ctx)
	if err != nil {
		return nil, internal("due exceptions", err)
	}
	out := make([]*retention.Customer, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}
