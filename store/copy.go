package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// importCopy writes a prepared batch on PostgreSQL with COPY, in one
// transaction of its own: a bulk load (`lethe demo`) writes millions of
// rows, and COPY streams them without a statement per 500 rows. Search terms
// go through a temporary table, since COPY has no ON CONFLICT.
func (s *Store) importCopy(ctx context.Context, b *ImportBatch) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return internal("import (copy)", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return internal("import (copy)", fmt.Errorf("not a pgx connection: %T", dc))
		}
		return pgx.BeginFunc(ctx, c.Conn(), func(tx pgx.Tx) error {
			for _, part := range []struct {
				model any
				rows  []any
			}{
				{(*customerRow)(nil), b.customers},
				{(*appointmentRow)(nil), b.appointments},
				{(*visitRow)(nil), b.visits},
			} {
				if err := s.copyRows(ctx, tx, part.model, part.rows); err != nil {
					return err
				}
			}
			return copyTerms(ctx, tx, b.terms)
		})
	})
}

func (s *Store) copyRows(ctx context.Context, tx pgx.Tx, model any, rows []any) error {
	if len(rows) == 0 {
		return nil
	}
	table := s.db.Table(reflect.TypeOf(model).Elem())
	values := make([][]any, len(rows))
	for i, r := range rows {
		values[i] = plainValues(appendFieldValues(make([]any, 0, len(table.Fields)), table, r))
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{table.Name}, columnsOf(table), pgx.CopyFromRows(values))
	return internal("import "+table.Name+" (copy)", err)
}

// plainValues turns the typed nil pointers of a row (NULL columns) into
// nil, and driver.Valuers into their values, as pgx's COPY wants them.
func plainValues(vals []any) []any {
	for i, v := range vals {
		rv := reflect.ValueOf(v)
		switch {
		case v == nil:
		case rv.Kind() == reflect.Pointer && rv.IsNil():
			vals[i] = nil
		case rv.Kind() == reflect.Pointer:
			vals[i] = rv.Elem().Interface()
		}
		if dv, ok := vals[i].(driver.Valuer); ok {
			vals[i], _ = dv.Value()
		}
	}
	return vals
}

func copyTerms(ctx context.Context, tx pgx.Tx, flat []any) error {
	if len(flat) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, "CREATE TEMPORARY TABLE import_terms (term TEXT, customer_id TEXT) ON COMMIT DROP"); err != nil {
		return internal("import search terms (copy)", err)
	}
	rows := make([][]any, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		rows = append(rows, []any{flat[i], flat[i+1]})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_terms"}, []string{"term", "customer_id"}, pgx.CopyFromRows(rows)); err != nil {
		return internal("import search terms (copy)", err)
	}
	_, err := tx.Exec(ctx, "INSERT INTO customer_terms (term, customer_id) SELECT term, customer_id FROM import_terms ON CONFLICT DO NOTHING")
	return internal("import search terms (copy)", err)
}
