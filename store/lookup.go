package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// domains converts rows to their domain values, failing on the first row
// that does not decode: a row read wrong is an error, never a guess.
func domains[R, D any](rows []R, conv func(*R) (D, error)) ([]D, error) {
	out := make([]D, len(rows))
	for i := range rows {
		d, err := conv(&rows[i])
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// groupedBy is the store's one "look up by ids, group by id" query: the
// rows of R whose column is one of ids, in order, converted and grouped by
// that column's value (key).
func groupedBy[R, D any](ctx context.Context, q *queries, op, column, order string, ids []string,
	key func(*R) string, conv func(*R) (D, error)) (map[string][]D, error) {
	out := map[string][]D{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []R
	if err := q.idb.NewSelect().Model(&rows).Where("? IN (?)", bun.Ident(column), bun.In(ids)).OrderExpr(order).Scan(ctx); err != nil {
		return nil, internal(op, err)
	}
	for i := range rows {
		d, err := conv(&rows[i])
		if err != nil {
			return nil, internal(op, err)
		}
		k := key(&rows[i])
		out[k] = append(out[k], d)
	}
	return out, nil
}

// infallible adapts a conversion that cannot fail.
func infallible[R, D any](f func(*R) D) func(*R) (D, error) {
	return func(r *R) (D, error) { return f(r), nil }
}

// decodeError says which row of which table could not be read.
func decodeError(table, id, column string, err error) error {
	return fmt.Errorf("%s %s: %s cannot be read: %w", table, id, column, err)
}
