package sqlstore

import (
	"context"
	"database/sql"
	"slices"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/connectors/sdk/actionjournal"
)

// The action-id journal is the SDK's (actionjournal), the one any
// connector may use: these wrappers bind it to this store's database.

// JournalSchema is the action journal's table, named per store so several
// stores can share one PostgreSQL database.
func JournalSchema(table string) string { return actionjournal.New(table, false).Schema() }

// ApplyFunc acts on the actions not seen before, inside tx, and returns one
// result per action (any order).
type ApplyFunc = actionjournal.ApplyFunc

// Apply runs a batch of actions of one kind ("delete", "anonymise") in one
// transaction through the SDK's action-id journal: an action id already in
// the journal gets its recorded result back without acting again, so Lethe
// can retry a batch after any failure.
func (db *DB) Apply(ctx context.Context, journal, kind string, actions []sdk.Action, do ApplyFunc) ([]sdk.ActionResult, error) {
	return actionjournal.New(journal, db.Postgres).Apply(ctx, db.DB, kind, actions, do)
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
type ApplyFieldsFunc = actionjournal.ApplyFieldsFunc

// ApplyFields runs a batch of field actions as Apply runs actions, under
// the journal kind "anonymise_fields".
func (db *DB) ApplyFields(ctx context.Context, journal string, actions []sdk.FieldAction, do ApplyFieldsFunc) ([]sdk.ActionResult, error) {
	return actionjournal.New(journal, db.Postgres).ApplyFields(ctx, db.DB, actions, do)
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
