// Package actionjournal keeps the ids of the actions a connector carried
// out, in the connector's own SQL database and in the same transaction as
// the work: Lethe repeats an action with the same id after any failure,
// timeout, crash or reload, and a repeated id then gets the first result
// back (with its record count, as evidence) and nothing is done twice. The
// built-in connectors use it. It speaks database/sql only: bring your
// driver.
//
//	j := actionjournal.New("newsletter_actions", false)
//	db.ExecContext(ctx, j.Schema())
//	results, err := j.Apply(ctx, db, "delete", actions, func(ctx context.Context, tx *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error) {
//		// delete what each action of todo names, in tx; one result each
//	})
package actionjournal

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// Journal is one journal table.
type Journal struct {
	table    string
	postgres bool
}

// New names the journal's table (one per store, so several stores can
// share a database); postgres makes placeholders $1, $2, … instead of ?.
func New(table string, postgres bool) Journal { return Journal{table: table, postgres: postgres} }

// Schema is the table's CREATE statement, portable between SQLite and
// PostgreSQL; run it when the store opens.
func (j Journal) Schema() string {
	return `CREATE TABLE IF NOT EXISTS ` + j.table + ` (
		kind TEXT NOT NULL,
		action_id TEXT NOT NULL,
		customer_id TEXT NOT NULL,
		outcome TEXT NOT NULL,
		records BIGINT NOT NULL,
		done_at BIGINT NOT NULL,
		PRIMARY KEY (kind, action_id))`
}

// ApplyFunc acts, in tx, on the actions not seen before and returns one
// result per action (any order).
type ApplyFunc func(ctx context.Context, tx *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error)

// Apply runs a batch of actions of one kind ("delete", "anonymise") in one
// transaction: an action id already journaled under kind gets its recorded
// result back without acting again; the others go to do, and its confirmed
// results are journaled in the same transaction. Failed results are not
// journaled, so a retry tries them again. Results come back in the order
// of actions, each with its action's customer id.
func (j Journal) Apply(ctx context.Context, db *sql.DB, kind string, actions []sdk.Action, do ApplyFunc) ([]sdk.ActionResult, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	done, err := j.recorded(ctx, tx, kind, actions)
	if err != nil {
		return nil, err
	}
	var todo []sdk.Action
	queued := map[string]bool{}
	for _, a := range actions {
		if _, ok := done[a.ID]; !ok && !queued[a.ID] {
			queued[a.ID] = true
			todo = append(todo, a)
		}
	}
	if len(todo) > 0 {
		fresh, err := do(ctx, tx, todo)
		if err != nil {
			return nil, err
		}
		if err := j.record(ctx, tx, kind, fresh); err != nil {
			return nil, fmt.Errorf("write journal: %w", err)
		}
		for _, r := range fresh {
			done[r.ActionID] = r
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	out := make([]sdk.ActionResult, len(actions))
	for i, a := range actions {
		r, ok := done[a.ID]
		if !ok {
			r = sdk.ActionResult{ActionID: a.ID, Outcome: sdk.OutcomeFailed, Reason: "no result"}
		}
		r.CustomerID = a.Subject.CustomerID
		out[i] = r
	}
	return out, nil
}

// ApplyFieldsFunc is ApplyFunc for field actions.
type ApplyFieldsFunc func(ctx context.Context, tx *sql.Tx, todo []sdk.FieldAction) ([]sdk.ActionResult, error)

// ApplyFields runs a batch of field actions as Apply runs actions, under
// the kind "anonymise_fields".
func (j Journal) ApplyFields(ctx context.Context, db *sql.DB, actions []sdk.FieldAction, do ApplyFieldsFunc) ([]sdk.ActionResult, error) {
	byID := make(map[string]sdk.FieldAction, len(actions))
	plain := make([]sdk.Action, len(actions))
	for i, a := range actions {
		byID[a.ID] = a
		plain[i] = sdk.Action{ID: a.ID, Subject: a.Subject}
	}
	return j.Apply(ctx, db, sdk.CapabilityAnonymiseFields, plain, func(ctx context.Context, tx *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error) {
		fields := make([]sdk.FieldAction, len(todo))
		for i, a := range todo {
			fields[i] = byID[a.ID]
		}
		return do(ctx, tx, fields)
	})
}

// recorded reads the journaled results of these actions, by action id.
func (j Journal) recorded(ctx context.Context, tx *sql.Tx, kind string, actions []sdk.Action) (map[string]sdk.ActionResult, error) {
	done := map[string]sdk.ActionResult{}
	ids := make([]any, 0, len(actions))
	for _, a := range actions {
		ids = append(ids, a.ID)
	}
	for chunk := range slices.Chunk(ids, 500) {
		q := `SELECT action_id, customer_id, outcome, records FROM ` + j.table + ` WHERE kind = ? AND action_id IN (` +
			strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + `)`
		rows, err := tx.QueryContext(ctx, j.q(q), append([]any{kind}, chunk...)...)
		if err != nil {
			return nil, fmt.Errorf("read journal: %w", err)
		}
		for rows.Next() {
			var r sdk.ActionResult
			var outcome string
			if err := rows.Scan(&r.ActionID, &r.CustomerID, &outcome, &r.Records); err != nil {
				rows.Close()
				return nil, err
			}
			r.Outcome = sdk.Outcome(outcome)
			done[r.ActionID] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return done, nil
}

// record journals the confirmed results, 1,000 rows a statement.
func (j Journal) record(ctx context.Context, tx *sql.Tx, kind string, results []sdk.ActionResult) error {
	now := time.Now().UnixMilli()
	var args []any
	for _, r := range results {
		if r.Outcome.Confirmed() {
			args = append(args, kind, r.ActionID, r.CustomerID, string(r.Outcome), r.Records, now)
		}
	}
	const cols, perStatement = 6, 1000
	for start := 0; start < len(args); start += cols * perStatement {
		chunk := args[start:min(start+cols*perStatement, len(args))]
		rows := strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?),", len(chunk)/cols), ",")
		q := `INSERT INTO ` + j.table + ` (kind, action_id, customer_id, outcome, records, done_at) VALUES ` + rows +
			` ON CONFLICT (kind, action_id) DO NOTHING`
		if _, err := tx.ExecContext(ctx, j.q(q), chunk...); err != nil {
			return err
		}
	}
	return nil
}

// q rewrites ? placeholders to $n for PostgreSQL.
func (j Journal) q(query string) string { return Rebind(query, j.postgres) }

// Rebind rewrites '?' placeholders to PostgreSQL's $1, $2, … when postgres
// is true (database/sql passes placeholders through to the driver, and
// pgx knows only $n). The query must hold no literal '?'.
func Rebind(query string, postgres bool) string {
	if !postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
