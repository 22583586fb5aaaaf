// Package store implements retention.Store with bun on SQLite (the embedded
// default) and PostgreSQL (for several replicas).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"golang.org/x/sync/singleflight"
	"modernc.org/sqlite" // registers the pure-Go "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/lethe-privacy/lethe/auditchain"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/searchkey"
)

// Dialect names the database behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config selects the database: a PostgreSQL URL in Database, or else an
// SQLite file lethe.db in DataDir.
type Config struct {
	DataDir  string
	Database string
	// PhoneRegion is the country assumed for phone numbers written in
	// national form, for search (ISO 3166 alpha-2; default GB).
	PhoneRegion string
	// MaxConns bounds the PostgreSQL pool (DefaultMaxConns when 0).
	MaxConns int
	// BulkLoad is for a process that writes much and reads little
	// (`lethe demo`): SQLite without the memory map, whose pages would
	// count in its resident memory as the file grows, and one 64 MB page
	// cache, so that its memory stays bounded.
	BulkLoad bool
	// IdleTxTimeout ends, on PostgreSQL, a session that stays idle inside a
	// transaction for longer (0: the server's setting). A process frozen in
	// the middle of a transaction would otherwise keep its locks, the sweep
	// lease's row among them, for as long as it stays frozen, and no other
	// replica could take the lease over.
	IdleTxTimeout time.Duration
	// OneCommitPerWrite turns SQLite's group commit (groupcommit.go) off:
	// each write transaction then commits, and waits for its disk flush,
	// on its own. For comparisons only.
	OneCommitPerWrite bool
}

// DefaultMaxConns bounds a process's PostgreSQL connections: two replicas
// with their connectors stay well under PostgreSQL's default
// max_connections of 100.
const DefaultMaxConns = 20

// Store is retention.Store on a bun database.
//
// On SQLite it holds two pools on the same file: db, one connection that
// every write transaction queues for (in Go, so that no writer ever meets
// SQLITE_BUSY from another), and reads, a pool of connections kept open
// (opening one re-reads the schema) for everything outside Update. WAL lets
// the readers run while the writer writes. On PostgreSQL both are one pool.
type Store struct {
	queries
	// db is, on SQLite, one connection that every write transaction uses.
	db *bun.DB
	// reads is, on SQLite, a pool of connections kept open for everything
	// outside a write transaction; on PostgreSQL it is db.
	reads *bun.DB
	// writes queues this process's SQLite write transactions in Go and
	// commits those queued together at once (groupcommit.go). SQLite has
	// one writer at a time, and a writer that waits for the lock in
	// SQLite's busy handler sleeps and retries: a process that commits and
	// begins again at once (a chunked recompute, a sweep) takes the lock
	// again before the sleepers wake, and starves them. The queue runs
	// them in the order they asked, and a caller gives up waiting when its
	// context ends, unless its transaction has begun.
	writes writeQueue
	// latency follows how long the requests' writes take (latency.go).
	latency writeLatency
	// fullAt is when a write last failed for want of space (Unix
	// nanoseconds), 0 once one has succeeded since (StorageFull).
	fullAt atomic.Int64
	// sqlitePath is the SQLite database file ("" on PostgreSQL).
	sqlitePath string
	// writeSlot queues the write transactions one commit each, in the
	// order they asked (a channel's blocked senders are served first come,
	// first served), when group commit is off.
	writeSlot   chan struct{}
	groupCommit bool
	// bulkLoad: Import writes with COPY on PostgreSQL (importCopy).
	bulkLoad bool
	// bound holds the writer's prepared statements (bound.go; SQLite).
	bound stmtCache
	// chain signs the audit log's checkpoints (auditchain.go); verifying
	// shares a verification among concurrent callers.
	chain     auditChain
	verifying singleflight.Group
}

var _ retention.Store = (*Store)(nil)

// IsPostgresURL reports whether dsn selects PostgreSQL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// ConnectorDSN is the dsn a built-in connector gets when Lethe runs on the
// PostgreSQL database at url: the same database, with the connector's own
// schema (connector_<name>, created by a migration) first in search_path.
func ConnectorDSN(url, connector string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=connector_" + connector
}

// Open connects to the configured database. It does not migrate: call
// Migrate (serve does, `lethe migrate` does).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	var db, reads *bun.DB
	var sqlitePath string
	var dialect Dialect
	switch {
	case IsPostgresURL(cfg.Database):
		pgcfg, err := pgx.ParseConfig(cfg.Database)
		if err != nil {
			return nil, fmt.Errorf("database URL: %w", err)
		}
		// pgx sets no statement timeout of its own, so long bulk
		// recomputations are not cut off; the server's settings apply.
		// Named, so that an operator sees in pg_stat_activity which
		// sessions are Lethe's own (the connectors' are not).
		if _, ok := pgcfg.RuntimeParams["application_name"]; !ok {
			pgcfg.RuntimeParams["application_name"] = "lethe"
		}
		if cfg.IdleTxTimeout > 0 {
			pgcfg.RuntimeParams["idle_in_transaction_session_timeout"] = fmt.Sprint(cfg.IdleTxTimeout.Milliseconds())
		}
		sqldb := stdlib.OpenDB(*pgcfg)
		// A bounded pool: a request beyond it waits for a connection until
		// its context ends (database/sql queues it) instead of opening one
		// more and failing at the server's max_connections.
		maxConns := cfg.MaxConns
		if maxConns <= 0 {
			maxConns = DefaultMaxConns
		}
		sqldb.SetMaxOpenConns(maxConns)
		sqldb.SetMaxIdleConns(maxConns)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		db, dialect = bun.NewDB(sqldb, pgdialect.New()), Postgres
	case cfg.Database == "" || strings.HasPrefix(cfg.Database, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(cfg.Database, "sqlite:"), "//")
		if path == "" {
			if cfg.DataDir == "" {
				return nil, fmt.Errorf("no data directory and no database given")
			}
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, err
			}
			path = filepath.Join(cfg.DataDir, "lethe.db")
		}
		sqlitePath = path
		sqldb, err := sql.Open("sqlite", sqliteDSN(path, cfg.BulkLoad))
		if err != nil {
			return nil, err
		}
		sqldb.SetMaxOpenConns(1)
		sqldb.SetMaxIdleConns(1)
		sqldb.SetConnMaxIdleTime(0)
		db, dialect = bun.NewDB(sqldb, sqlitedialect.New()), SQLite
		readdb, err := sql.Open("sqlite", sqliteDSN(path, cfg.BulkLoad))
		if err != nil {
			db.Close()
			return nil, err
		}
		readdb.SetMaxOpenConns(sqliteReaders)
		readdb.SetMaxIdleConns(sqliteReaders)
		reads = bun.NewDB(readdb, sqlitedialect.New())
	default:
		return nil, fmt.Errorf("unsupported database %q: use postgres://… or leave it empty for SQLite in the data directory", redact(cfg.Database))
	}
	if reads == nil {
		reads = db
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		reads.Close()
		return nil, fmt.Errorf("connect to %s: %w", dialect, err)
	}
	keys, ok := searchkey.New(cfg.PhoneRegion)
	if !ok {
		db.Close()
		reads.Close()
		return nil, fmt.Errorf("phone region %q is not a region the phone-number library knows (use an ISO 3166 code such as GB, DE, US)", cfg.PhoneRegion)
	}
	return &Store{queries: queries{idb: reads, dialect: dialect, keys: keys}, db: db, reads: reads,
		writeSlot: make(chan struct{}, 1), groupCommit: !cfg.OneCommitPerWrite, bulkLoad: cfg.BulkLoad, sqlitePath: sqlitePath}, nil
}

// sqliteReaders sizes the SQLite read pool: readers beyond a few per core
// only queue inside the library.
const sqliteReaders = 8

// sqliteDSN: WAL so that readers never wait for the writer; foreign keys on;
// a busy timeout so that concurrent writers queue instead of failing;
// immediate write transactions so that a transaction that reads then writes
// cannot fail half way on a lock upgrade; synchronous FULL because an
// erasure that was reported done must survive a power cut; secure_delete so
// that erased values are overwritten with zeros, not left in free space
// (Scrub clears the WAL).
// A 32 MB page cache per connection (the default is 2 MB) and up to 1 GB of
// the file memory-mapped keep the indexes a search reads in memory instead
// of copying pages through read(2); the mapping is shared by every
// connection and costs no heap.
func sqliteDSN(path string, bulk bool) string {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(15000)" +
		"&_pragma=synchronous(FULL)&_pragma=secure_delete(1)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	if bulk {
		// A bounded page cache still holds the upper levels of the
		// indexes that every insert descends.
		return dsn + "&_pragma=cache_size(-65536)"
	}
	return dsn + "&_pragma=cache_size(-32768)&_pragma=mmap_size(1073741824)"
}

func redact(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 {
		return "…" + dsn[i:]
	}
	if len(dsn) > 20 {
		return dsn[:20] + "…"
	}
	return dsn
}

// Dialect tells which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the bun database (benchmarks, tests).
func (s *Store) DB() *bun.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error {
	s.signTail()
	s.bound.close()
	err := s.db.Close()
	if s.reads != s.db {
		if rerr := s.reads.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// Update runs fn in one write transaction, retried on a serialization
// failure or deadlock (see update).
func (s *Store) Update(ctx context.Context, fn func(tx retention.Tx) error) error {
	return s.update(ctx, false, fn)
}

// UpdateRules runs fn in a write transaction that changes the collection
// preferences or the custom-field storage: on PostgreSQL it takes the rules
// lock exclusively, so it waits for the write transactions in flight and new
// ones wait for it to commit; none writes a value under a field mode about to
// change (a HIDDEN field's purge must not miss it). Policy and data-policy
// changes do not take it: nothing stored derives from them.
func (s *Store) UpdateRules(ctx context.Context, fn func(tx retention.Tx) error) error {
	return s.update(ctx, true, fn)
}

// rulesLockKey is the PostgreSQL advisory lock that orders writers against
// rule changes ("rules" in ASCII).
const rulesLockKey int64 = 0x72756c6573

// maxTxAttempts bounds the retries of a transaction that failed on a
// serialization failure, a deadlock or a busy database.
const maxTxAttempts = 8

// update runs fn in a transaction. The lock order of every write
// transaction, which keeps them free of deadlocks:
//
//  1. the rules lock (PostgreSQL advisory lock): shared by every write
//     transaction, taken first; exclusive for a change of the rules;
//  2. the lease row (sweeps: the fencing check);
//  3. customer rows, in id order when there are several;
//  4. their visits, appointments and holds; then the journal and the audit
//     log, which only grow.
//
// Settings and policies are read without row locks: the rules lock orders
// their changes against the writers that read them, so no single row is
// locked by every customer write. A transaction that still fails on a
// serialization failure or deadlock (40001, 40P01) or a busy SQLite database
// is run again, a bounded number of times, with a short random pause.
func (s *Store) update(ctx context.Context, exclusive bool, fn func(tx retention.Tx) error) error {
	fn = s.withAuditFlush(fn)
	defer s.latency.begin(retention.IsBackground(ctx))()
	if s.dialect == SQLite && s.groupCommit {
		return s.noteWrite(s.groupUpdate(ctx, fn))
	}
	if s.dialect == SQLite {
		select {
		case s.writeSlot <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.writeSlot }()
	}
	return s.noteWrite(s.runTx(ctx, exclusive, fn))
}

// runTx runs fn in a transaction of its own, retried as update says; on
// SQLite only the leader of the write queue calls it.
func (s *Store) runTx(ctx context.Context, exclusive bool, fn func(tx retention.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if s.dialect == Postgres {
				lock := "SELECT pg_advisory_xact_lock_shared(?)"
				if exclusive {
					lock = "SELECT pg_advisory_xact_lock(?)"
				}
				if _, err := tx.NewRaw(lock, rulesLockKey).Exec(ctx); err != nil {
					return internal("rules lock", err)
				}
			}
			return fn(&queries{idb: tx, dialect: s.dialect, keys: s.keys, inTx: true, stmts: s.boundStmts()})
		})
		s.prepareBound(ctx)
		if err == nil || attempt == maxTxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		pause := time.Duration(rand.Int64N(int64(attempt) * int64(5*time.Millisecond)))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// boundStmts is the cache of prepared statements a write transaction
// uses: SQLite's only (see bound.go).
func (s *Store) boundStmts() *stmtCache {
	if s.dialect != SQLite {
		return nil
	}
	return &s.bound
}

// prepareBound prepares the statements the last write transactions asked
// for; it runs when the writer's connection is free, between them.
func (s *Store) prepareBound(ctx context.Context) {
	if s.dialect == SQLite {
		s.bound.prepareWanted(context.WithoutCancel(ctx), s.db.DB)
	}
}

// retryable reports a failure that running the transaction again can cure.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		code := liteErr.Code() & 0xff
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	return false
}

// queries implements retention.Reader and retention.Tx on a database or a
// transaction.
type queries struct {
	idb     bun.IDB
	dialect Dialect
	keys    searchkey.Keys
	inTx    bool
	// stmts, in a SQLite write transaction, are the writer's prepared
	// statements (bound.go).
	stmts *stmtCache
	// pendingAudit holds the audit events of the running transaction
	// until they are chained at its end (auditchain.go).
	pendingAudit []auditchain.Event
}

var _ retention.Tx = (*queries)(nil)

// forUpdate locks the rows a write transaction reads on PostgreSQL, where
// concurrent transactions would otherwise both read then overwrite; SQLite's
// immediate transactions already serialise writers.
func (q *queries) forUpdate(sel *bun.SelectQuery) *bun.SelectQuery {
	if q.inTx && q.dialect == Postgres {
		return sel.For("UPDATE")
	}
	return sel
}

func internal(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*retention.Error); ok {
		return err
	}
	if diskFull(err) {
		return storageFull()
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// AddQueryHook adds a bun query hook to every pool of the store (tests
// count statements with it).
func (s *Store) AddQueryHook(h bun.QueryHook) {
	s.db.AddQueryHook(h)
	if s.reads != s.db {
		s.reads.AddQueryHook(h)
	}
}

// Scrub makes what was just erased unreadable from the database files as
// far as the database allows. SQLite: secure_delete has zeroed the freed
// content; a TRUNCATE checkpoint copies the WAL into the database file and
// empties it, so the old page versions go too. PostgreSQL: a plain VACUUM of
// the tables that held personal data turns dead row versions into free
// space that new rows overwrite (see README: until then, and in WAL
// archives and backups, they remain).
func (s *Store) Scrub(ctx context.Context) error {
	if s.dialect == Postgres {
		_, err := s.db.ExecContext(ctx, "VACUUM customers, appointments, visits")
		return internal("vacuum", err)
	}
	_, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return internal("wal checkpoint", err)
}

// RefreshPlannerStatistics brings PostgreSQL's planner statistics and
// visibility map up to date after a bulk load (the demo), which autovacuum
// would otherwise do some minutes later: until then the planner chooses its
// plans from the statistics of an empty database, and an index-only scan
// (a search's probe and count read only customer_terms' index) still reads
// the table for every row it finds (measured at 200k customers: 889 table
// reads and 69 ms for a probe of 4,000 index entries before VACUUM, none
// and 11 ms after). SQLite's queries are written for its planner without
// statistics, and it keeps none: nothing to do there.
func (s *Store) RefreshPlannerStatistics(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	_, err := s.db.ExecContext(ctx, "VACUUM (ANALYZE)")
	return internal("vacuum analyze", err)
}
