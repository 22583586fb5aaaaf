// Package statsdb is the visit statistics database behind the statdb
// connector: one row per ended visit (branch, service, times, custom fields,
// visitor name), keyed by visit id.
//
// All five custom fields are treated as personal data: Lethe lets an
// administrator put anything into them (a ticket number, a licence plate,
// a name), and the store cannot tell which are harmless. Anonymising
// therefore clears them along with the visitor's name, keeping only what
// statistics need: branch, service, start and end.
package statsdb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/internal/sqlstore"
)

const journal = "stat_actions"

var schema = []string{
	`CREATE TABLE IF NOT EXISTS stat_visits (
		visit_id TEXT PRIMARY KEY,
		customer_id TEXT NOT NULL,
		branch TEXT NOT NULL,
		service TEXT NOT NULL,
		started_at BIGINT NOT NULL,
		ended_at BIGINT NOT NULL,
		custom1 TEXT NOT NULL DEFAULT '',
		custom2 TEXT NOT NULL DEFAULT '',
		custom3 TEXT NOT NULL DEFAULT '',
		custom4 TEXT NOT NULL DEFAULT '',
		custom5 TEXT NOT NULL DEFAULT '',
		visitor_name TEXT NOT NULL DEFAULT '',
		anonymised INTEGER NOT NULL DEFAULT 0)`,
	`CREATE INDEX IF NOT EXISTS stat_visits_customer ON stat_visits (customer_id)`,
	sqlstore.JournalSchema(journal),
}

// Visit is one row of the statistics.
type Visit struct {
	VisitID     string            `json:"visitId"`
	CustomerID  string            `json:"customerId,omitempty"`
	Branch      string            `json:"branch"`
	Service     string            `json:"service"`
	StartedAt   time.Time         `json:"startedAt"`
	EndedAt     time.Time         `json:"endedAt"`
	Custom      map[string]string `json:"customFields,omitempty"`
	VisitorName string            `json:"visitorName,omitempty"`
	Anonymised  bool              `json:"anonymised"`
}

// CustomKeys are the custom field names the store keeps, in column order.
var CustomKeys = []string{"custom1", "custom2", "custom3", "custom4", "custom5"}

// VisitorNameKey is the custom-field key under which Lethe may pass the
// visitor's name with a visit (sdk.VisitRecord has no name field).
const VisitorNameKey = "visitor_name"

// Store is an open statistics database.
type Store struct {
	sqlstore.Base
}

// Open opens the store in dataDir (stats.db) or at dsn (PostgreSQL).
func Open(ctx context.Context, dataDir, dsn string) (*Store, error) {
	db, err := sqlstore.Open(ctx, dataDir, dsn, "stats.db", schema)
	if err != nil {
		return nil, err
	}
	return &Store{sqlstore.Base{DB: db}}, nil
}

// Record stores visits. A visit id already stored is left as it is, so a
// retried RecordVisits (or one after the visit was anonymised) cannot bring
// back data.
func (s *Store) Record(ctx context.Context, visits []Visit) error {
	return s.DB.InTx(ctx, func(tx *sql.Tx) error { return s.record(ctx, tx, visits) })
}

func (s *Store) record(ctx context.Context, ex sqlstore.Execer, visits []Visit) error {
	return sqlstore.InsertEach(ctx, s.DB, ex, `INSERT INTO stat_visits (visit_id, customer_id, branch, service, started_at, ended_at,
		custom1, custom2, custom3, custom4, custom5, visitor_name, anonymised)`, `ON CONFLICT (visit_id) DO NOTHING`, visits, func(v Visit) []any {
		row := []any{v.VisitID, v.CustomerID, v.Branch, v.Service, v.StartedAt.UnixMilli(), v.EndedAt.UnixMilli()}
		for _, k := range CustomKeys {
			row = append(row, v.Custom[k])
		}
		return append(row, v.VisitorName, 0)
	})
}

// FromRecord converts what Lethe sends into a row.
func FromRecord(r sdk.VisitRecord) Visit {
	v := Visit{VisitID: r.VisitID, CustomerID: r.CustomerID, Branch: r.Branch, Service: r.Service,
		StartedAt: r.StartedAt, EndedAt: r.EndedAt, Custom: map[string]string{}}
	for _, k := range CustomKeys {
		if val, ok := r.CustomFields[k]; ok {
			v.Custom[k] = val
		}
	}
	v.VisitorName = r.CustomFields[VisitorNameKey]
	return v
}

// ByCustomers returns each customer's visits, oldest first.
func (s *Store) ByCustomers(ctx context.Context, customerIDs []string) (map[string][]Visit, error) {
	out := map[string][]Visit{}
	for start := 0; start < len(customerIDs); start += 500 {
		chunk := customerIDs[start:min(start+500, len(customerIDs))]
		rows, err := s.DB.QueryContext(ctx, s.DB.Q(`SELECT visit_id, customer_id, branch, service, started_at, ended_at,
			custom1, custom2, custom3, custom4, custom5, visitor_name, anonymised
			FROM stat_visits WHERE customer_id IN `+sqlstore.In(len(chunk))+` ORDER BY customer_id, started_at, visit_id`), sqlstore.Strings(chunk)...)
		if err != nil {
			return nil, err
		}
		if err := scan(rows, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scan(rows *sql.Rows, out map[string][]Visit) error {
	defer rows.Close()
	for rows.Next() {
		var v Visit
		var started, ended int64
		var anon int
		c := make([]string, len(CustomKeys))
		if err := rows.Scan(&v.VisitID, &v.CustomerID, &v.Branch, &v.Service, &started, &ended,
			&c[0], &c[1], &c[2], &c[3], &c[4], &v.VisitorName, &anon); err != nil {
			return err
		}
		v.StartedAt, v.EndedAt = time.UnixMilli(started).UTC(), time.UnixMilli(ended).UTC()
		v.Anonymised = anon != 0
		for i, k := range CustomKeys {
			if c[i] != "" {
				if v.Custom == nil {
					v.Custom = map[string]string{}
				}
				v.Custom[k] = c[i]
			}
		}
		out[v.CustomerID] = append(out[v.CustomerID], v)
	}
	return rows.Err()
}

// Delete removes each action's customer's visits.
func (s *Store) Delete(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	return s.act(ctx, "delete", actions, `DELETE FROM stat_visits WHERE customer_id IN `, sdk.OutcomeDeleted)
}

// Anonymise drops the visitor name and every custom field of each action's
// customer's visits; see the package comment for why all custom fields go.
func (s *Store) Anonymise(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	return s.act(ctx, "anonymise", actions, `UPDATE stat_visits SET visitor_name = '', custom1 = '', custom2 = '',
		custom3 = '', custom4 = '', custom5 = '', anonymised = 1 WHERE customer_id IN `, sdk.OutcomeAnonymised)
}

func (s *Store) act(ctx context.Context, kind string, actions []sdk.Action, stmt string, done sdk.Outcome) ([]sdk.ActionResult, error) {
	return s.DB.Apply(ctx, journal, kind, actions, func(ctx context.Context, tx *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error) {
		var ids []string
		for _, a := range todo {
			if sqlstore.Wants(a.Categories, sdk.CategoryVisitStats) && a.Subject.CustomerID != "" {
				ids = append(ids, a.Subject.CustomerID)
			}
		}
		counts, err := s.DB.Counts(ctx, tx, `SELECT customer_id, count(*) FROM stat_visits WHERE customer_id IN `, ` GROUP BY customer_id`, ids)
		if err != nil {
			return nil, err
		}
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			if _, err := tx.ExecContext(ctx, s.DB.Q(stmt+sqlstore.In(len(chunk))), sqlstore.Strings(chunk)...); err != nil {
				return nil, err
			}
		}
		out := make([]sdk.ActionResult, len(todo))
		for i, a := range todo {
			out[i] = sdk.ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: sdk.OutcomeNotFound}
			if n := counts[a.Subject.CustomerID]; n > 0 && sqlstore.Wants(a.Categories, sdk.CategoryVisitStats) {
				out[i].Outcome, out[i].Records = done, n
			}
		}
		return out, nil
	})
}

// AnonymiseFields clears the named fields of the customer's visits: the
// visitor name when a first or last name goes, and each named custom
// field. E-mail and phone are not held here: not applicable (NOT_FOUND).
func (s *Store) AnonymiseFields(ctx context.Context, actions []sdk.FieldAction) ([]sdk.ActionResult, error) {
	return s.DB.ApplyFields(ctx, journal, actions, func(ctx context.Context, tx *sql.Tx, todo []sdk.FieldAction) ([]sdk.ActionResult, error) {
		out := sdk.FieldResults(todo, sdk.OutcomeNotFound)
		// Actions naming the same columns share one statement per chunk.
		groups := map[string][]int{}
		for i, a := range todo {
			if a.Subject.CustomerID == "" {
				continue
			}
			if set := fieldColumns(a); set != "" {
				groups[set] = append(groups[set], i)
			}
		}
		for set, idx := range groups {
			ids := make([]string, len(idx))
			for j, i := range idx {
				ids[j] = todo[i].Subject.CustomerID
			}
			counts, err := s.DB.Counts(ctx, tx, `SELECT customer_id, count(*) FROM stat_visits WHERE customer_id IN `, ` GROUP BY customer_id`, ids)
			if err != nil {
				return nil, err
			}
			for start := 0; start < len(ids); start += 500 {
				chunk := ids[start:min(start+500, len(ids))]
				if _, err := tx.ExecContext(ctx, s.DB.Q(`UPDATE stat_visits SET `+set+` WHERE customer_id IN `+sqlstore.In(len(chunk))), sqlstore.Strings(chunk)...); err != nil {
					return nil, err
				}
			}
			for _, i := range idx {
				if n := counts[todo[i].Subject.CustomerID]; n > 0 {
					out[i].Outcome, out[i].Records = sdk.OutcomeAnonymised, n
				}
			}
		}
		return out, nil
	})
}

// fieldColumns is the SET clause clearing the columns a field action
// names, in a fixed order; "" when it names none this store holds. Column
// names come from a fixed list, never from the request.
func fieldColumns(a sdk.FieldAction) string {
	var set []string
	if sqlstore.HasField(a, sdk.FieldFirstName, sdk.FieldLastName) {
		set = append(set, "visitor_name = ''")
	}
	for _, k := range CustomKeys {
		if sqlstore.HasField(a, k) {
			set = append(set, k+" = ''")
		}
	}
	return strings.Join(set, ", ")
}

// Seed records visits in one transaction (demo data and tests).
func Seed(ctx context.Context, s *Store, visits []Visit) error { return s.Record(ctx, visits) }

// SeedBatch writes the batch's ended visits as the statistics rows this
// store makes of a visit it receives, for `lethe demo`. Demo rows of a
// customer's visits carry the customer's name, so that anonymising them
// shows.
func SeedBatch(ctx context.Context, s *Store, b sdk.SeedBatch) error {
	names := make(map[string]string, len(b.Customers))
	for _, cu := range b.Customers {
		names[cu.CustomerID] = cu.FullName()
	}
	rows := make([]Visit, len(b.Visits))
	for i, v := range b.Visits {
		rows[i] = FromRecord(v)
		if rows[i].VisitorName == "" {
			rows[i].VisitorName = names[v.CustomerID]
		}
	}
	return Seed(ctx, s, rows)
}
