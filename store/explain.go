package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// ExplainSearch returns the database's query plan for the page query of a
// customer search, to show that it is served by indexes.
func (s *Store) ExplainSearch(ctx context.Context, q retention.SearchQuery) (string, error) {
	plan, err := s.planSearch(ctx, s.keys.Query(q.Text, searchKinds(q.Fields)))
	if err != nil {
		return "", err
	}
	where, args := plan.where()
	query := "SELECT * FROM customers WHERE " + where + " ORDER BY id LIMIT 21"
	return s.explain(ctx, query, args...)
}

// explain returns the database's query plan for query, one line per step.
func (s *Store) explain(ctx context.Context, query string, args ...any) (string, error) {
	prefix := "EXPLAIN QUERY PLAN "
	if s.dialect == Postgres {
		prefix = "EXPLAIN "
	}
	rows, err := s.reads.QueryContext(ctx, prefix+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// ExplainRanges returns the database's plans for the statements the rules'
// ranges run (an erase range count, a data-policy range count, the
// forecast's anonymise-first count, a sweep's page), to show that they
// read the anchor indexes.
func (s *Store) ExplainRanges(ctx context.Context) (string, error) {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	erase := retention.AnchorRange{Group: "@none", EndedBy: &t}
	data := retention.AnchorRange{Group: "@none", EndedAfter: &t, EndedBy: &t, ChangedBy: &t,
		Statuses: []retention.Status{retention.StatusCancelled, retention.StatusDeleted}}
	var out []string
	for _, r := range []retention.AnchorRange{erase, data} {
		where, args := rangeWhere(r)
		query := "SELECT count(*) FROM customers WHERE " + where
		if len(r.Statuses) > 0 {
			query = "SELECT relinquished_mask, count(*) FROM customers WHERE " + where + " GROUP BY relinquished_mask"
		}
		plan, err := s.explain(ctx, query, args...)
		if err != nil {
			return "", err
		}
		out = append(out, plan)
	}
	query, args := anonymiseFirstQuery(s.dialect, retention.AnonymiseFirst{Range: data, Erase: retention.Day, Anonymise: retention.Day,
		From: t, Width: retention.Week, Buckets: 52}, true)
	plan, err := s.explain(ctx, query, args...)
	if err != nil {
		return "", err
	}
	where, args := rangeWhere(erase)
	plan2, err := s.explain(ctx, "SELECT id FROM customers WHERE "+where+" ORDER BY latest_event_end, id LIMIT 500", args...)
	return strings.Join(append(out, plan, plan2), "\n"), err
}
