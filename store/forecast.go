package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// The forecast is built from range counts over two indexes, so that its
// cost is one pass over the index entries of the customers due within the
// horizon — no table row, no sort:
//
//   - customers_deletion_time: every customer with a deletion time;
//   - customers_anonymise_first: those the data policy anonymises before
//     their retention policy erases them (retention.ComputeSchedule's rule:
//     anonymise only when strictly earlier). The others are erased.
//
// A legal hold that ends after the deletion time moves the customer to the
// hold's end; those few are read through customers_held (the unary + keeps
// the planner off the deletion-time index, which holds every customer) and
// moved. Erased
// customers have no deletion time, so they never count.
const (
	dueInRange       = "deletion_time IS NOT NULL AND deletion_time >= ? AND deletion_time < ?"
	anonymiseFirst   = "anonymise_at IS NOT NULL AND anonymise_at = deletion_time AND anonymise_at < erase_at"
	heldPastDeletion = `SELECT deletion_time, held_until, CASE WHEN ` + anonymiseFirst + ` THEN 1 ELSE 0 END
		FROM customers WHERE held_until IS NOT NULL AND held_until > deletion_time AND +deletion_time IS NOT NULL`
)

// minMicros stands for "since ever" in the overdue range.
const minMicros = int64(-1) << 62

// forecastQuery is one statement of 2×(weeks+1) range counts: bucket -1 is
// overdue, then one per week; rule 0 counts everyone, 1 the anonymised.
func forecastQuery(start, week int64, weeks int) (string, []any) {
	var parts []string
	var args []any
	for b := -1; b < weeks; b++ {
		lo, hi := start+int64(b)*week, start+int64(b+1)*week
		if b == -1 {
			lo, hi = minMicros, start
		}
		parts = append(parts, fmt.Sprintf("SELECT %d, 0, count(*) FROM customers WHERE %s", b, dueInRange),
			fmt.Sprintf("SELECT %d, 1, count(*) FROM customers WHERE %s AND %s", b, dueInRange, anonymiseFirst))
		args = append(args, lo, hi, lo, hi)
	}
	return strings.Join(parts, "\nUNION ALL\n"), args
}

func (q *queries) Forecast(ctx context.Context, from time.Time, weeks int) (retention.Forecast, error) {
	f := retention.Forecast{From: from.UTC(), Weeks: make([]retention.ForecastWeek, weeks)}
	for i := range f.Weeks {
		f.Weeks[i].Start = f.From.Add(time.Duration(i) * retention.Week)
	}
	start := toMicros(from)
	week := int64(retention.Week / time.Microsecond)
	end := start + int64(weeks)*week
	count := func(t int64) *retention.ForecastCount {
		switch {
		case t < start:
			return &f.Overdue
		case t < end:
			return &f.Weeks[(t-start)/week].ForecastCount
		}
		return nil
	}

	query, args := forecastQuery(start, week, weeks)
	rows, err := q.idb.QueryContext(ctx, query, args...)
	if err != nil {
		return retention.Forecast{}, internal("forecast", err)
	}
	defer rows.Close()
	for rows.Next() {
		var bucket, anon, n int64
		if err := rows.Scan(&bucket, &anon, &n); err != nil {
			return retention.Forecast{}, internal("forecast", err)
		}
		c := &f.Overdue
		if bucket >= 0 {
			c = &f.Weeks[bucket].ForecastCount
		}
		// Rule 0 counted everyone: the anonymised are moved out of Erase.
		if anon == 1 {
			c.Anonymise += int(n)
			c.Erase -= int(n)
		} else {
			c.Erase += int(n)
		}
	}
	if err := rows.Err(); err != nil {
		return retention.Forecast{}, internal("forecast", err)
	}

	held, err := q.idb.QueryContext(ctx, heldPastDeletion)
	if err != nil {
		return retention.Forecast{}, internal("forecast holds", err)
	}
	defer held.Close()
	for held.Next() {
		var deletion, until, anon int64
		if err := held.Scan(&deletion, &until, &anon); err != nil {
			return retention.Forecast{}, internal("forecast holds", err)
		}
		for sign, t := range map[int]int64{-1: deletion, 1: until} {
			if c := count(t); c != nil {
				if anon == 1 {
					c.Anonymise += sign
				} else {
					c.Erase += sign
				}
			}
		}
	}
	return f, internal("forecast holds", held.Err())
}

// ExplainForecast returns the database's plans for the forecast's queries
// (one week), to show that they read indexes only.
func (s *Store) ExplainForecast(ctx context.Context) (string, error) {
	query, args := forecastQuery(0, 1, 1)
	counts, err := s.explain(ctx, query, args...)
	if err != nil {
		return "", err
	}
	holds, err := s.explain(ctx, heldPastDeletion)
	return counts + "\n" + holds, err
}
