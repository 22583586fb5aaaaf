// Package sqlstore is what the built-in plugins share about their SQL store:
// opening SQLite (embedded, WAL) or PostgreSQL (dsn setting) behind one
// *sql.DB, placeholder rewriting, multi-row inserts and the action journal
// that makes repeated action ids harmless.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the dsn setting
	"github.com/lethe-privacy/lethe/connectors/sdk/actionjournal"
	_ "modernc.org/sqlite" // "sqlite" driver, pure Go: plugins stay static binaries
)

// DB is a store's database; queries are written with '?' placeholders and
// passed through Q, which rewrites them for PostgreSQL.
type DB struct {
	*sql.DB
	Postgres bool
}

// Open opens dsn when it is set (a PostgreSQL URL or key=value string),
// otherwise the SQLite file dataDir/file, and applies schema. Schema
// statements must be portable between both (TEXT, BIGINT, INTEGER,
// IF NOT EXISTS).
func Open(ctx context.Context, dataDir, dsn, file string, schema []string) (*DB, error) {
	var db *DB
	if dsn != "" {
		sqldb, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		// Bounded: every Lethe replica runs each built-in plugin, and all
		// of them share the server's max_connections with Lethe itself.
		sqldb.SetMaxOpenConns(4)
		sqldb.SetMaxIdleConns(4)
		db = &DB{DB: sqldb, Postgres: true}
	} else {
		if dataDir == "" {
			return nil, fmt.Errorf("data_dir setting is required")
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, err
		}
		// WAL lets Lethe's demo seeding and exports read while a plugin
		// writes; busy_timeout makes concurrent writers wait, not fail, and
		// immediate transactions take the write lock up front, so that two
		// concurrent batches cannot both read and then fail to upgrade
		// (SQLITE_BUSY_SNAPSHOT, which no timeout cures). secure_delete
		// overwrites deleted content with zeros, so that an erased value
		// cannot be read back from free pages (see Checkpoint for the WAL).
		path := filepath.Join(dataDir, file)
		sqldb, err := sql.Open("sqlite", "file:"+path+
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(1)&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		sqldb.SetMaxOpenConns(4)
		db = &DB{DB: sqldb}
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	for _, stmt := range schema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("apply schema: %w", err)
		}
	}
	return db, nil
}

// Q rewrites '?' placeholders to PostgreSQL's $n, with the SDK's rewriter
// (the one its action journal uses). Queries here never hold a literal '?'.
func (db *DB) Q(query string) string { return actionjournal.Rebind(query, db.Postgres) }

// In returns "(?,?,...)" with n placeholders, for IN lists.
func In(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
}

// Execer is a *sql.DB or *sql.Tx.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// InsertMany inserts rows with multi-row VALUES statements, which is an
// order of magnitude faster than one statement per row; head is
// "INSERT INTO t (a,b,c)", tail e.g. "ON CONFLICT (id) DO NOTHING".
func (db *DB) InsertMany(ctx context.Context, ex Execer, head, tail string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cols := len(rows[0])
	per := max(1, 8000/cols) // well under both engines' parameter limits
	row := In(cols)
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, len(chunk)*cols)
		for i, r := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(row)
			args = append(args, r...)
		}
		b.WriteByte(' ')
		b.WriteString(tail)
		if _, err := ex.ExecContext(ctx, db.Q(b.String()), args...); err != nil {
			return err
		}
	}
	return nil
}

// InsertEach inserts one row per item, made by row, as InsertMany does.
func InsertEach[T any](ctx context.Context, db *DB, ex Execer, head, tail string, items []T, row func(T) []any) error {
	rows := make([][]any, len(items))
	for i, it := range items {
		rows[i] = row(it)
	}
	return db.InsertMany(ctx, ex, head, tail, rows)
}

// Strings converts ids to query arguments.
func Strings(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// Checkpoint copies the write-ahead log into the database file and
// truncates it, so that the old versions of pages a delete or anonymise
// changed no longer sit in the WAL file. PostgreSQL: nothing to do here
// (its own VACUUM reclaims dead rows). Best effort: a checkpoint that
// readers hold up completes at a later one.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.Postgres {
		return nil
	}
	_, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// InTx runs fn in a transaction, committed when fn returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Base is what every built-in store is on top of its database: embedded in
// a store it gives it Close, Checkpoint and Ping, which pluginkit calls.
type Base struct {
	DB *DB
}

// Close closes the database.
func (b Base) Close() error { return b.DB.Close() }

// Checkpoint clears the WAL after deletes (see DB.Checkpoint).
func (b Base) Checkpoint(ctx context.Context) error { return b.DB.Checkpoint(ctx) }

// Ping checks the database is reachable.
func (b Base) Ping(ctx context.Context) error { return b.DB.PingContext(ctx) }
