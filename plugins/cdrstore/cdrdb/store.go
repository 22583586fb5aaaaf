// Package cdrdb is the call detail record store behind the cdrstore
// connector: schema, queries and seeding. It knows nothing of gRPC, so the
// demo seeder and tests use it directly.
package cdrdb

import (
	"context"
	"database/sql"
	"time"

	"github.com/lethe-privacy/lethe/plugins/internal/sqlstore"
)

const journal = "cdr_actions"

var schema = []string{
	`CREATE TABLE IF NOT EXISTS cdr_records (
		id TEXT PRIMARY KEY,
		customer_id TEXT NOT NULL,
		caller TEXT NOT NULL,
		callee TEXT NOT NULL,
		started_at BIGINT NOT NULL,
		duration_s INTEGER NOT NULL,
		cost_cents BIGINT NOT NULL,
		anonymised INTEGER NOT NULL DEFAULT 0)`,
	`CREATE INDEX IF NOT EXISTS cdr_records_customer ON cdr_records (customer_id, started_at)`,
	sqlstore.JournalSchema(journal),
}

// CDR is one call detail record.
type CDR struct {
	ID          string    `json:"id"`
	CustomerID  string    `json:"customerId"`
	Caller      string    `json:"caller"`
	Callee      string    `json:"callee"`
	StartedAt   time.Time `json:"startedAt"`
	DurationSec int       `json:"durationSeconds"`
	CostCents   int64     `json:"costCents"`
	Anonymised  bool      `json:"anonymised"`
}

// Store is an open CDR database.
type Store struct {
	sqlstore.Base
}

// Open opens the store in dataDir (SQLite, cdr.db) or at dsn (PostgreSQL).
func Open(ctx context.Context, dataDir, dsn string) (*Store, error) {
	db, err := sqlstore.Open(ctx, dataDir, dsn, "cdr.db", schema)
	if err != nil {
		return nil, err
	}
	return &Store{sqlstore.Base{DB: db}}, nil
}

// Insert adds records; records whose id exists are left as they are, so
// seeding twice changes nothing.
func (s *Store) Insert(ctx context.Context, cdrs []CDR) error {
	return s.DB.InTx(ctx, func(tx *sql.Tx) error { return s.insert(ctx, tx, cdrs) })
}

func (s *Store) insert(ctx context.Context, ex sqlstore.Execer, cdrs []CDR) error {
	return sqlstore.InsertEach(ctx, s.DB, ex,
		`INSERT INTO cdr_records (id, customer_id, caller, callee, started_at, duration_s, cost_cents, anonymised)`,
		`ON CONFLICT (id) DO NOTHING`, cdrs, func(c CDR) []any {
			return []any{c.ID, c.CustomerID, c.Caller, c.Callee, c.StartedAt.UnixMilli(), c.DurationSec, c.CostCents, boolInt(c.Anonymised)}
		})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ByCustomers returns the records of each customer, oldest first.
func (s *Store) ByCustomers(ctx context.Context, customerIDs []string) (map[string][]CDR, error) {
	out := map[string][]CDR{}
	for start := 0; start < len(customerIDs); start += 500 {
		chunk := customerIDs[start:min(start+500, len(customerIDs))]
		rows, err := s.DB.QueryContext(ctx, s.DB.Q(`SELECT id, customer_id, caller, callee, started_at, duration_s, cost_cents, anonymised
			FROM cdr_records WHERE customer_id IN `+sqlstore.In(len(chunk))+` ORDER BY customer_id, started_at, id`), sqlstore.Strings(chunk)...)
		if err != nil {
			return nil, err
		}
		if err := scan(rows, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scan(rows *sql.Rows, out map[string][]CDR) error {
	defer rows.Close()
	for rows.Next() {
		var c CDR
		var started int64
		var anon int
		if err := rows.Scan(&c.ID, &c.CustomerID, &c.Caller, &c.Callee, &started, &c.DurationSec, &c.CostCents, &anon); err != nil {
			return err
		}
		c.StartedAt = time.UnixMilli(started).UTC()
		c.Anonymised = anon != 0
		out[c.CustomerID] = append(out[c.CustomerID], c)
	}
	return rows.Err()
}
