package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// JournalSchema is the action journal's table, named per store so several
// stores can share one PostgreSQL database.
func JournalSchema(table string) string {
	return `CREATE TABLE IF NOT EXISTS ` + table + ` (
		kind TEXT NOT NULL,
		action_id TEXT NOT NULL,
		customer_id TEXT NOT NULL,
		outcome TEXT NOT NULL,
		records BIGINT NOT NULL,
		done_at BIGINT NOT NULL,
		PRIMARY KEY (kind, action_id))`
}

// ApplyFunc acts on the actions not seen before, inside tx, and returns one
// result per action (any order).
type ApplyFunc func(ctx context.Context, tx *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error)

// Apply runs a batch of actions of one kind ("delete", "anonymise") in one
// transaction: an action id already in the journal gets its recorded result
// back without acting again, so Lethe can retry a batch after any failure.
// Results come back in the order of actions. Failed results are not
// journaled, so a retry tries them again.
func (db *DB) Apply(ctx context.Context, journal, kind string, actions []sdk.Action, do ApplyFunc) ([]sdk.ActionResult, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	done := map[string]sdk.ActionResult{}
	ids := make([]string, 0, len(actions))
	for _, a := range actions {
		ids = append(ids, a.ID)
	}
	for chunk := range slices.Chunk(ids, 500) {
		rows, err := tx.QueryContext(ctx, db.Q(`SELECT action_id, customer_id, outcome, records FROM `+journal+
			` WHERE kind = ? AND action_id IN `+In(len(chunk))), append([]any{kind}, Strings(chunk)...)...)
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
		now := time.Now().UnixMilli()
		var rows [][]any
		for _, r := range fresh {
			done[r.ActionID] = r
			if r.Outcome.Confirmed() {
				rows = append(rows, []any{kind, r.ActionID, r.CustomerID, string(r.Outcome), r.Records, now})
			}
		}
		if err := db.InsertMany(ctx, tx, `INSERT INTO `+journal+` (kind, action_id, customer_id, outcome, records, done_at)`,
			`ON CONFLICT (kind, action_id) DO NOTHING`, rows); err != nil {
			return nil, fmt.Errorf("write journal: %w", err)
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

// Counts runs a "SELECT customer_id, count(*) ... GROUP BY customer_id"
// style query for ids and returns the counts by customer id; query must end
// in "customer_id IN " followed by the placeholder list this appends, and
// may be followed by tail (e.g. " GROUP BY customer_id").
func (db *DB) Counts(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query, tail string, ids []string) (map[string]int, error) {
	out := map[string]int{}
	for chunk := range slices.Chunk(ids, 500) {
		rows, err := q.QueryContext(ctx, db.Q(query+In(len(chunk))+tail), Strings(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Wants reports whether an action limited to categories covers category.
func Wants(categories []string, category string) bool {
	return len(categories) == 0 || slices.Contains(categories, category)
}

// ApplyFieldsFunc is ApplyFunc for field actions.
type ApplyFieldsFunc func(ctx context.Context, tx *sql.Tx, todo []sdk.FieldAction) ([]sdk.ActionResult, error)

// ApplyFields runs a batch of field actions as Apply runs actions, under
// the journal kind "anonymise_fields": an id seen before gets its recorded
// result back and nothing is done again.
func (db *DB) ApplyFields(ctx context.Context, journal string, actions []sdk.FieldAction, do ApplyFieldsFunc) ([]sdk.ActionResult, error) {
	byID := make(map[string]sdk.FieldAction, len(actions))
	plain := make([]sdk.Action, len(actions))
	for i, a := range actions {
		byID[a.ID] = a
		plain[i] = sdk.Action{ID: a.ID, Subject: a.Subject}
	}
	return db.Apply(ctx, journal, "anonymise_fields", plain, func(ctx context.Context, tx *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error) {
		fields := make([]sdk.FieldAction, len(todo))
		for i, a := range todo {
			fields[i] = byID[a.ID]
		}
		return do(ctx, tx, fields)
	})
}

// HasField reports whether a field action names any of fields.
func HasField(a sdk.FieldAction, fields ...string) bool {
	for _, f := range fields {
		if slices.Contains(a.Fields, f) {
			return true
		}
	}
	return false
}
