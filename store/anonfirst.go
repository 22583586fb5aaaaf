package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// The forecast's count of the customers a data policy anonymises before
// their retention policy erases them (retention.AnonymiseFirst).

// CountAnonymiseFirst computes both times from the anchors in the
// statement, in nanoseconds (the instant From may carry them), and counts
// by pair of buckets: the customers never leave the index. Most customers
// were cancelled long enough before their latest event that they are
// anonymised at its end: both their times follow the latest end, so they
// are counted by plain range counts between the ends where either bucket
// changes (anonymiseAtEnd); SQLite's GROUP BY sorts every row it counts.
// The others are grouped.
func (q *queries) CountAnonymiseFirst(ctx context.Context, a retention.AnonymiseFirst) (map[retention.WeekPair]int, error) {
	out := map[retention.WeekPair]int{}
	// Erased at the latest end at the earliest, anonymised at it at the
	// latest: never strictly earlier.
	if a.Erase <= 0 {
		return out, nil
	}
	var atEnd []retention.AnchorRange
	var pairs []retention.WeekPair
	// PostgreSQL groups by hashing, without a sort, and plans a UNION ALL
	// of a hundred counts slowly: it groups them all.
	if q.dialect == SQLite {
		atEnd, pairs = anonymiseAtEnd(a)
	}
	for start := 0; start < len(atEnd); start += maxCompound {
		if err := q.countAtEnd(ctx, a.Anonymise, atEnd[start:min(start+maxCompound, len(atEnd))], pairs[start:], out); err != nil {
			return nil, err
		}
	}
	query, all := anonymiseFirstQuery(q.dialect, a, len(atEnd) > 0)
	rows, err := q.idb.QueryContext(ctx, query, all...)
	if err != nil {
		return nil, internal("anonymise first", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e, an, c int64
		if err := rows.Scan(&e, &an, &c); err != nil {
			return nil, internal("anonymise first", err)
		}
		out[retention.WeekPair{Erase: int(e), Anonymise: int(an)}] += int(c)
	}
	return out, internal("anonymise first", rows.Err())
}

// anonymiseFirstQuery is CountAnonymiseFirst's statement.
// With onlyLater, it counts only the customers anonymised after their
// latest end (status change + Anonymise > end), whom anonymiseAtEnd leaves.
func anonymiseFirstQuery(dialect Dialect, a retention.AnonymiseFirst, onlyLater bool) (string, []any) {
	where, args := rangeWhere(a.Range)
	if onlyLater {
		where, args = where+" AND status_changed_at + ? > latest_event_end", append(args, int64(a.Anonymise/time.Microsecond))
	}
	greatest := "max"
	if dialect == Postgres {
		greatest = "GREATEST"
	}
	from, width, n := a.From.UnixNano(), int64(a.Width), int64(a.Buckets)
	bucket := func(x string) (string, []any) {
		return fmt.Sprintf("CASE WHEN %[1]s < ? THEN -1 WHEN %[1]s < ? THEN (%[1]s - ?) / ? ELSE ? END", x),
			[]any{from, from + n*width, from, width, n}
	}
	eb, ebArgs := bucket("e")
	ab, abArgs := bucket("a")
	query := fmt.Sprintf(`SELECT eb, ab, count(*) FROM (SELECT %s AS eb, %s AS ab FROM (
		SELECT (latest_event_end + ?) * 1000 AS e, %s(status_changed_at + ?, latest_event_end) * 1000 AS a FROM customers WHERE %s
	) AS t WHERE a < e) AS b GROUP BY eb, ab`, eb, ab, greatest, where)
	return query, append(append(append(ebArgs, abArgs...), int64(a.Erase/time.Microsecond), int64(a.Anonymise/time.Microsecond)), args...)
}

// anonymiseAtEnd splits a's range into the ranges of latest end over which
// neither bucket changes, each narrowed to the customers anonymised at
// their latest end (status change + Anonymise ≤ end; erased Erase later,
// so strictly after), with the pair of buckets of each. None when the range
// is not bounded above.
func anonymiseAtEnd(a retention.AnonymiseFirst) ([]retention.AnchorRange, []retention.WeekPair) {
	if a.Range.EndedBy == nil {
		return nil, nil
	}
	from, width, n := a.From.UnixNano(), int64(a.Width), int64(a.Buckets)
	erase, hi := int64(a.Erase/time.Microsecond), toMicros(*a.Range.EndedBy)
	bucket := func(us int64) int {
		t := us * 1000
		switch {
		case t < from:
			return -1
		case t < from+n*width:
			return int((t - from) / width)
		}
		return int(n)
	}
	// The first microsecond of latest end at or after an instant in ns.
	ceil := func(ns int64) int64 { return ns/1000 + min(ns%1000, 1) }
	var starts []int64
	for k := range n + 1 {
		starts = append(starts, ceil(from+k*width), ceil(from+k*width)-erase)
	}
	slices.Sort(starts)
	var out []retention.AnchorRange
	var pairs []retention.WeekPair
	add := func(after *int64, by int64) {
		r := a.Range
		if after != nil {
			lo := fromMicros(*after)
			if r.EndedAfter == nil || lo.After(*r.EndedAfter) {
				r.EndedAfter = &lo
			}
		}
		byT := fromMicros(by)
		r.EndedBy = &byT
		// Every end of the range falls in the same buckets as its last.
		out, pairs = append(out, r), append(pairs, retention.WeekPair{Erase: bucket(by + erase), Anonymise: bucket(by)})
	}
	var prev *int64
	for _, s := range slices.Compact(starts) {
		if s > hi {
			break
		}
		add(prev, s-1)
		p := s - 1
		prev = &p
	}
	add(prev, hi)
	return out, pairs
}

// countAtEnd counts the ranges of anonymiseAtEnd, plainly (no GROUP BY),
// in one statement, and adds each to its pair.
func (q *queries) countAtEnd(ctx context.Context, anonymise time.Duration, ranges []retention.AnchorRange, pairs []retention.WeekPair, out map[retention.WeekPair]int) error {
	var parts []string
	var args []any
	for i, r := range ranges {
		where, a := rangeWhere(r)
		parts = append(parts, fmt.Sprintf("SELECT %d, count(*) FROM customers WHERE %s AND status_changed_at + ? <= latest_event_end", i, where))
		args = append(append(args, a...), int64(anonymise/time.Microsecond))
	}
	rows, err := q.idb.QueryContext(ctx, strings.Join(parts, "\nUNION ALL\n"), args...)
	if err != nil {
		return internal("anonymise first", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, n int64
		if err := rows.Scan(&i, &n); err != nil {
			return internal("anonymise first", err)
		}
		if n > 0 {
			out[pairs[i]] += int(n)
		}
	}
	return internal("anonymise first", rows.Err())
}
