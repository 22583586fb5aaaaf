package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// The engine finalizes hundreds of customers per transaction; one
// statement per batch instead of one per row keeps its cost near that of a
// hand-written bulk delete (see BenchmarkSweepVsDirect).

const bulkRows = 400

// bulkColumn is a column set from a VALUES list, cast so that PostgreSQL
// knows its type even when every value is NULL.
type bulkColumn struct{ name, sqlType string }

// bulkUpdate sets columns of many rows by key with UPDATE … FROM (VALUES …),
// which SQLite (3.33+) and PostgreSQL both accept; VALUES columns are named
// column1, column2, … in both. Each row is the key followed by the values.
// also, when set, is more of the SET list, the same for every row. The
// values are bound, in statements reused across batches (bound.go).
func (q *queries) bulkUpdate(ctx context.Context, table, key string, cols []bulkColumn, rows [][]any, also ...string) error {
	set := append([]string(nil), also...)
	for i, c := range cols {
		set = append(set, fmt.Sprintf("%s = CAST(v.column%d AS %s)", c.name, i+2, c.sqlType))
	}
	head := fmt.Sprintf("UPDATE %s SET %s FROM (VALUES ", table, strings.Join(set, ", "))
	where := fmt.Sprintf(") AS v WHERE %s.%s = v.column1", table, key)
	args := make([]any, 0, len(rows)*(len(cols)+1))
	for _, r := range rows {
		args = append(args, r...)
	}
	err := q.execRows(ctx, func(n int) string { return head + valuesList(n, len(cols)+1) + where }, len(cols)+1, args)
	return internal("bulk update "+table, err)
}

func nullable[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

func (q *queries) SaveEntries(ctx context.Context, entries []retention.JournalEntry) error {
	rows := make([][]any, len(entries))
	for i, e := range entries {
		var closed any
		if e.ClosedAt != nil {
			closed = toMicros(*e.ClosedAt)
		}
		// The recorded identifiers go with the entry's closing (nil then).
		rows[i] = []any{e.ID, string(e.Status), e.Attempts, toMicros(e.NextAttemptAt), nullable(e.LastError), closed,
			nullablePtr(encodeSubject(e.Subject))}
	}
	return q.bulkUpdate(ctx, "journal_entries", "id", []bulkColumn{{"status", "TEXT"}, {"attempts", "INTEGER"},
		{"next_attempt_at", "BIGINT"}, {"last_error", "TEXT"}, {"closed_at", "BIGINT"}, {"subject", "TEXT"}}, rows)
}

func (q *queries) SaveActions(ctx context.Context, actions []retention.JournalAction) error {
	now := toMicros(time.Now())
	rows := make([][]any, len(actions))
	for i, a := range actions {
		rows[i] = []any{a.ID, string(a.Status), nullable(string(a.Outcome)), a.Records, nullable(a.Reason), a.Attempts, now}
	}
	return q.bulkUpdate(ctx, "journal_actions", "id", []bulkColumn{{"status", "TEXT"}, {"outcome", "TEXT"},
		{"records", "INTEGER"}, {"reason", "TEXT"}, {"attempts", "INTEGER"}, {"updated_at", "BIGINT"}}, rows)
}

// personalColumns are cleared by erasure and anonymisation, with their
// search terms (dropTermsOf deletes the rows of customer_terms first).
const personalColumns = "first_name = NULL, last_name = NULL, email = NULL, phone = NULL, search_words = '', name_key = '2'"

func (q *queries) EraseCustomers(ctx context.Context, erased []*retention.Customer) error {
	ids := make([]any, len(erased))
	rows := make([][]any, len(erased))
	for i, c := range erased {
		ids[i] = c.ID
		rows[i] = []any{c.ID, toMicrosPtr(c.ErasedAt), relinquishedJSON(c.Relinquished), retention.CategoryMask(c.Relinquished)}
	}
	for start := 0; start < len(ids); start += bulkRows {
		if err := q.dropTermsOf(ctx, ids[start:min(start+bulkRows, len(ids))]); err != nil {
			return err
		}
	}
	err := q.execRows(ctx, func(n int) string {
		return "DELETE FROM appointments WHERE customer_id IN (" + placeholders(n) + ")"
	}, 1, ids)
	if err != nil {
		return internal("erase appointments", err)
	}
	err = q.execRows(ctx, func(n int) string {
		return "UPDATE visits SET customer_id = NULL, " + clearVisitFields + " WHERE customer_id IN (" + placeholders(n) + ")"
	}, 1, ids)
	if err != nil {
		return internal("unlink visits", err)
	}
	// The personal data goes in the statement that records the erasure:
	// each row is rewritten once.
	return q.bulkUpdate(ctx, "customers", "id", []bulkColumn{{"erased_at", "BIGINT"}, {"relinquished", "TEXT"}, {"relinquished_mask", "INTEGER"}}, rows,
		personalColumns+", held_until = NULL")
}

// clearVisitFields removes what a visit holds on a person: the walk-in
// visitor's data and the custom fields (notes, card numbers).
const clearVisitFields = "visitor_first_name = NULL, visitor_last_name = NULL, visitor_email = NULL, visitor_phone = NULL, custom_fields = '[]'"

func (q *queries) RecordRelinquished(ctx context.Context, customers []*retention.Customer, clearContact []string) error {
	rows := make([][]any, len(customers))
	for i, c := range customers {
		rows[i] = []any{c.ID, relinquishedJSON(c.Relinquished), toMicrosPtr(c.AnonymisedAt), retention.CategoryMask(c.Relinquished)}
	}
	err := q.bulkUpdate(ctx, "customers", "id", []bulkColumn{{"relinquished", "TEXT"}, {"anonymised_at", "BIGINT"},
		{"relinquished_mask", "INTEGER"}}, rows)
	if err != nil {
		return err
	}
	for start := 0; start < len(clearContact); start += bulkRows {
		chunk := anySlice(clearContact[start:min(start+bulkRows, len(clearContact))])
		in := "(" + placeholders(len(chunk)) + ")"
		if err := q.dropTermsOf(ctx, chunk); err != nil {
			return err
		}
		if _, err := q.idb.NewRaw("UPDATE customers SET "+personalColumns+" WHERE id IN "+in, chunk...).Exec(ctx); err != nil {
			return internal("anonymise customers", err)
		}
		if _, err := q.idb.NewRaw("UPDATE visits SET "+clearVisitFields+" WHERE customer_id IN "+in, chunk...).Exec(ctx); err != nil {
			return internal("anonymise visits", err)
		}
	}
	return nil
}
