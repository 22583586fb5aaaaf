package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/lethe-privacy/lethe/retention"
)

// importRows is how many rows one INSERT of an import writes: 500
// customers of 23 columns stay well under SQLite's and PostgreSQL's limits
// on parameters.
const importRows = 500

// ImportCustomers inserts many customers with their events in one
// transaction (demo data, bulk imports). Schedules must already be
// computed. It is PrepareImport then Import.
func (s *Store) ImportCustomers(ctx context.Context, customers []*retention.Customer, appointments []retention.Appointment, visits []retention.Visit) error {
	return s.Import(ctx, s.PrepareImport(customers, appointments, visits))
}

// ImportBatch is customers with their events turned into rows and search
// terms, ready for Import.
type ImportBatch struct {
	customers, appointments, visits []any
	terms                           []any // term, customer id, term, customer id, …
}

// PrepareImport turns customers and their events into rows and search
// terms. It reads nothing from the database, so that a bulk load (the
// demo) can prepare the next batch while the previous one is written.
func (s *Store) PrepareImport(customers []*retention.Customer, appointments []retention.Appointment, visits []retention.Visit) *ImportBatch {
	b := &ImportBatch{customers: make([]any, len(customers))}
	var pairs []termPair
	for i, c := range customers {
		row, ts := s.withSearchWords(c)
		b.customers[i] = row
		pairs = append(pairs, pairsOf(c.ID, ts)...)
	}
	// In the order of customer_terms' key, so that consecutive rows go to
	// the same pages of its B-tree instead of all over it.
	slices.SortFunc(pairs, func(a, b termPair) int {
		return cmp.Or(strings.Compare(a.term, b.term), strings.Compare(a.customerID, b.customerID))
	})
	b.terms = make([]any, 0, 2*len(pairs))
	for _, p := range pairs {
		b.terms = append(b.terms, p.term, p.customerID)
	}
	b.appointments = make([]any, len(appointments))
	for i, a := range appointments {
		b.appointments[i] = appointmentFromDomain(a)
	}
	b.visits = make([]any, len(visits))
	for i, v := range visits {
		b.visits[i] = visitFromDomain(v)
	}
	return b
}

// Import writes a prepared batch in one transaction.
//
// Rows go in multi-row INSERTs with placeholders, each statement prepared
// once per import and run for every full batch: formatting the values into
// the SQL text (as bun does) made SQLite parse every statement anew, a
// fifth of the demo's time in Lethe's database. The search terms were
// computed before (PrepareImport), so that the write transaction holds the
// writer for the inserts alone.
func (s *Store) Import(ctx context.Context, b *ImportBatch) error {
	if s.dialect == Postgres && s.bulkLoad {
		return s.importCopy(ctx, b)
	}
	return s.Update(ctx, func(tx retention.Tx) error {
		q := tx.(*queries)
		btx, ok := q.idb.(bun.Tx)
		if !ok {
			return internal("import customers", fmt.Errorf("not in a transaction"))
		}
		verb := "INSERT"
		if s.dialect == SQLite {
			// A multi-row INSERT that may abort half way makes SQLite
			// keep a statement journal, a copy of every page the
			// statement changes, to undo it: at a million customers
			// writing and freeing those copies took a third of the
			// import's time. OR FAIL stops at a violated constraint
			// without undoing the statement's earlier rows, and deferred
			// foreign keys are checked at commit instead of by each
			// statement; either failure still rolls the whole import
			// back, as Update ends the transaction on an error.
			verb = "INSERT OR FAIL"
			if _, err := btx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
				return internal("import customers", err)
			}
		}
		for _, part := range []struct {
			what  string
			model any
			rows  []any
		}{
			{"customers", (*customerRow)(nil), b.customers},
			{"appointments", (*appointmentRow)(nil), b.appointments},
			{"visits", (*visitRow)(nil), b.visits},
		} {
			table := s.db.Table(reflect.TypeOf(part.model).Elem())
			ins := newBulkInsert(btx.Tx, s.dialect, verb, table.Name, columnsOf(table), "")
			err := ins.rows(ctx, part.rows, func(row any, args []any) []any { return appendFieldValues(args, table, row) })
			ins.close()
			if err != nil {
				return internal("import "+part.what, err)
			}
		}
		ins := newBulkInsert(btx.Tx, s.dialect, verb, "customer_terms", []string{"term", "customer_id"}, "ON CONFLICT DO NOTHING")
		defer ins.close()
		if err := ins.args(ctx, b.terms); err != nil {
			return internal("import search terms", err)
		}
		return nil
	})
}

func columnsOf(t *schema.Table) []string {
	cols := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		cols[i] = f.Name
	}
	return cols
}

// appendFieldValues appends a bun model's column values in the order of
// t.Fields. The rows' fields are plain strings, integers and pointers to
// them, which database/sql passes as they are (nil as NULL).
func appendFieldValues(args []any, t *schema.Table, row any) []any {
	v := reflect.ValueOf(row).Elem()
	for _, f := range t.Fields {
		args = append(args, f.Value(v).Interface())
	}
	return args
}

// bulkInsert runs multi-row INSERTs into one table inside a transaction,
// preparing the statement for a given number of rows once.
type bulkInsert struct {
	tx      *sql.Tx
	dialect Dialect
	head    string // INSERT [OR FAIL] INTO t (a, b) VALUES
	tail    string // e.g. ON CONFLICT DO NOTHING
	cols    int
	stmts   map[int]*sql.Stmt // by number of rows
}

func newBulkInsert(tx *sql.Tx, dialect Dialect, verb, table string, cols []string, tail string) *bulkInsert {
	return &bulkInsert{tx: tx, dialect: dialect, head: verb + " INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ",
		tail: tail, cols: len(cols), stmts: map[int]*sql.Stmt{}}
}

// rows inserts rows, values giving each row's column values.
func (b *bulkInsert) rows(ctx context.Context, rows []any, values func(row any, args []any) []any) error {
	args := make([]any, 0, importRows*b.cols)
	for start := 0; start < len(rows); start += importRows {
		args = args[:0]
		for _, r := range rows[start:min(start+importRows, len(rows))] {
			args = values(r, args)
		}
		if err := b.exec(ctx, args); err != nil {
			return err
		}
	}
	return nil
}

// args inserts rows given as one flat list of column values.
func (b *bulkInsert) args(ctx context.Context, args []any) error {
	per := importRows * b.cols
	for start := 0; start < len(args); start += per {
		if err := b.exec(ctx, args[start:min(start+per, len(args))]); err != nil {
			return err
		}
	}
	return nil
}

func (b *bulkInsert) exec(ctx context.Context, args []any) error {
	n := len(args) / b.cols
	if n == 0 {
		return nil
	}
	stmt, ok := b.stmts[n]
	if !ok {
		var err error
		if stmt, err = b.tx.PrepareContext(ctx, b.statement(n)); err != nil {
			return err
		}
		b.stmts[n] = stmt
	}
	_, err := stmt.ExecContext(ctx, args...)
	return err
}

// statement is the INSERT of n rows, with the dialect's placeholders.
func (b *bulkInsert) statement(n int) string {
	var sb strings.Builder
	sb.WriteString(b.head)
	p := 0
	for r := range n {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := range b.cols {
			if c > 0 {
				sb.WriteString(", ")
			}
			p++
			if b.dialect == Postgres {
				sb.WriteString("$" + strconv.Itoa(p))
			} else {
				sb.WriteByte('?')
			}
		}
		sb.WriteByte(')')
	}
	if b.tail != "" {
		sb.WriteString(" " + b.tail)
	}
	return sb.String()
}

func (b *bulkInsert) close() {
	for _, s := range b.stmts {
		s.Close()
	}
}
