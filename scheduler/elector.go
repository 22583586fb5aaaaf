package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// lockKey is the PostgreSQL advisory lock that elects the sweeping replica
// ("lethe" in ASCII).
const lockKey int64 = 0x6c65746865

// ErrNotLeader is returned by IsLeader on a replica that is not the leader.
var ErrNotLeader = errors.New("not the leader")

// PostgresElector elects one leader among replicas sharing a PostgreSQL
// database: the replica holding a session advisory lock on one dedicated
// connection leads. When that replica dies its session ends, the lock is
// released, and the next replica to ask takes over. A Locker alone would not
// do: it stops two replicas running one job at the same moment, not a fast
// job running once per replica one after the other.
type PostgresElector struct {
	db   *sql.DB
	mu   sync.Mutex
	conn *sql.Conn
}

// NewPostgresElector elects on db.
func NewPostgresElector(db *sql.DB) *PostgresElector { return &PostgresElector{db: db} }

// IsLeader returns nil while this replica holds the lock, taking it when
// it is free.
func (e *PostgresElector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		// Still leader as long as the session that holds the lock lives.
		if err := e.conn.PingContext(ctx); err == nil {
			return nil
		}
		e.conn.Close()
		e.conn = nil
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return err
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", lockKey).Scan(&got); err != nil {
		conn.Close()
		return err
	}
	if !got {
		conn.Close()
		return ErrNotLeader
	}
	e.conn = conn
	return nil
}

// Close gives up leadership.
func (e *PostgresElector) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil
	}
	_, err := e.conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", lockKey)
	e.conn.Close()
	e.conn = nil
	return err
}
