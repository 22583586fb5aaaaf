package store

import (
	"context"
	"encoding/json"
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
func (q *queries) bulkUpdate(ctx context.Context, table, key string, cols []bulkColumn, rows [][]any) error {
	for start := 0; start < len(rows); start += bulkRows {
		chunk := rows[start:min(start+bulkRows, len(rows))]
		var set []string
		for i, c := range cols {
			set = append(set, fmt.Sprintf("%s = CAST(v.column%d AS %s)", c.name, i+2, c.sqlType))
		}
		row := "(" + placeholders(len(cols)+1) + ")"
		values := strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)), ", ")
		var args []any
		for _, r := range chunk {
			args = append(args, r...)
		}
		query := fmt.Sprintf("UPDATE %s SET %s FROM (VALUES %s) AS v WHERE %s.%s = v.column1",
			table, strings.Join(set, ", "), values, table, key)
		if _, err := q.idb.NewRaw(query, args...).Exec(ctx); err != nil {
			return internal("bulk update "+table, err)
		}
	}
	return nil
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
		rows[i] = []any{e.ID, string(e.Status), e.Attempts, toMicros(e.NextAttemptAt), nullable(e.LastError), closed}
	}
	return q.bulkUpdate(ctx, "journal_entries", "id", []bulkColumn{{"status", "TEXT"}, {"attempts", "INTEGER"},
		{"next_attempt_at", "BIGINT"}, {"last_error", "TEXT"}, {"closed_at", "BIGINT"}}, rows)
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
const personalColumns = "first_name = NULL, last_name = NULL, email = NULL, phone = NULL, search_words = ''"

func (q *queries) EraseCustomers(ctx context.Context, ids []string, at time.Time) error {
	for start := 0; start < len(ids); start += bulkRows {
		chunk := anySlice(ids[start:min(start+bulkRows, len(ids))])
		in := "(" + placeholders(len(chunk)) + ")"
		if err := q.dropTermsOf(ctx, chunk); err != nil {
			return err
		}
		if _, err := q.idb.NewRaw("DELETE FROM appointments WHERE customer_id IN "+in, chunk...).Exec(ctx); err != nil {
			return internal("erase appointments", err)
		}
		if _, err := q.idb.NewRaw("UPDATE visits SET customer_id = NULL WHERE customer_id IN "+in, chunk...).Exec(ctx); err != nil {
			return internal("unlink visits", err)
		}
		_, err := q.idb.NewRaw("UPDATE customers SET "+personalColumns+", erased_at = ?, erase_at = NULL, anonymise_at = NULL, "+
			"deletion_time = NULL, held_until = NULL WHERE id IN "+in, append([]any{toMicros(at)}, chunk...)...).Exec(ctx)
		if err != nil {
			return internal("erase customers", err)
		}
	}
	return nil
}

func (q *queries) MarkAnonymised(ctx context.Context, ids []string, at time.Time, clearPersonalData bool) error {
	set := "anonymised_at = ?, anonymise_at = NULL, deletion_time = erase_at"
	if clearPersonalData {
		set = personalColumns + ", " + set
	}
	for start := 0; start < len(ids); start += bulkRows {
		chunk := anySlice(ids[start:min(start+bulkRows, len(ids))])
		if clearPersonalData {
			if err := q.dropTermsOf(ctx, chunk); err != nil {
				return err
			}
		}
		_, err := q.idb.NewRaw("UPDATE customers SET "+set+" WHERE id IN ("+placeholders(len(chunk))+")",
			append([]any{toMicros(at)}, chunk...)...).Exec(ctx)
		if err != nil {
			return internal("mark anonymised", err)
		}
	}
	return nil
}

func (q *queries) AppendAudits(ctx context.Context, events []retention.AuditEvent) error {
	for start := 0; start < len(events); start += bulkRows {
		chunk := events[start:min(start+bulkRows, len(events))]
		rows := make([]*auditRow, len(chunk))
		for i, e := range chunk {
			rows[i] = &auditRow{ID: e.ID, At: toMicros(e.At), Actor: e.Actor, Action: e.Action, Subject: strPtr(e.Subject)}
			if len(e.Details) > 0 {
				b, err := json.Marshal(e.Details)
				if err != nil {
					return internal("audit details", err)
				}
				d := string(b)
				rows[i].Details = &d
			}
		}
		if _, err := q.idb.NewInsert().Model(&rows).ExcludeColumn("seq").Exec(ctx); err != nil {
			return internal("append audits", err)
		}
	}
	return nil
}
