package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/uptrace/bun"
)

// Statements with bound arguments, prepared once per process (SQLite).
//
// bun formats every argument into the SQL text, so SQLite parses each
// statement anew; the sweep's journal and erase statements carry hundreds
// of rows each, several per batch, and parsing them cost about as much as
// running them. The statements below run with bound arguments instead,
// in a few fixed numbers of rows (boundSizes) so that any number of rows
// reuses the same statements, prepared on the writer's connection. A
// statement is prepared after the transaction that first needed it has
// ended (the writer's only connection is busy until then): that
// transaction runs it unprepared, the later ones reuse it. PostgreSQL's
// driver prepares and caches statements by itself; there these run as bun
// formats them, as before.

// boundSizes are the numbers of rows a bound statement carries: n rows go
// in as many of the largest as fit, then of the next, and so on.
var boundSizes = []int{400, 100, 25, 5, 1}

// maxBoundStmts bounds the statements kept prepared (a few kinds times
// boundSizes are used).
const maxBoundStmts = 64

// stmtCache holds the writer connection's prepared statements by text.
type stmtCache struct {
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool
}

func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stmts[query]
	if st == nil && len(c.stmts)+len(c.wanted) < maxBoundStmts {
		if c.wanted == nil {
			c.wanted = map[string]bool{}
		}
		c.wanted[query] = true
	}
	return st
}

// prepareWanted prepares the statements asked for since the last call; it
// runs between write transactions, when the writer's connection is free.
// A statement that fails to prepare is simply run unprepared again.
func (c *stmtCache) prepareWanted(ctx context.Context, db *sql.DB) {
	c.mu.Lock()
	wanted := c.wanted
	c.wanted = nil
	c.mu.Unlock()
	for query := range wanted {
		st, err := db.PrepareContext(ctx, query)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.stmts == nil {
			c.stmts = map[string]*sql.Stmt{}
		}
		if old := c.stmts[query]; old != nil {
			old.Close()
		}
		c.stmts[query] = st
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}

// execBound runs query, written with ? placeholders, with args bound:
// through the prepared statement on SQLite in a write transaction, else as
// bun runs it.
func (q *queries) execBound(ctx context.Context, query string, args []any) error {
	btx, ok := q.idb.(bun.Tx)
	if !ok || q.dialect != SQLite || q.stmts == nil {
		_, err := q.idb.NewRaw(query, args...).Exec(ctx)
		return err
	}
	if st := q.stmts.get(query); st != nil {
		ts := btx.Tx.StmtContext(ctx, st)
		defer ts.Close()
		_, err := ts.ExecContext(ctx, args...)
		return err
	}
	_, err := btx.Tx.ExecContext(ctx, query, args...)
	return err
}

// execRows runs statement(n) for rows given as one flat list of values,
// perRow values a row, in chunks of boundSizes rows.
func (q *queries) execRows(ctx context.Context, statement func(n int) string, perRow int, args []any) error {
	for len(args) > 0 {
		rows := len(args) / perRow
		n := boundSizes[len(boundSizes)-1]
		for _, size := range boundSizes {
			if size <= rows {
				n = size
				break
			}
		}
		if err := q.execBound(ctx, statement(n), args[:n*perRow]); err != nil {
			return err
		}
		args = args[n*perRow:]
	}
	return nil
}

// valuesList is "(?, ?), (?, ?), …": n rows of cols placeholders.
func valuesList(n, cols int) string {
	row := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}
