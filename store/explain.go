package store

import (
	"context"
	"fmt"
	"strings"

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
