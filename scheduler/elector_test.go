package scheduler_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/lethe-privacy/lethe/scheduler"
	"github.com/lethe-privacy/lethe/store/storetest"
)

func TestPostgresElector(t *testing.T) {
	dsn := storetest.PostgresDatabase(t)
	open := func() *sql.DB {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	ctx := context.Background()
	dbA, dbB := open(), open()
	a, b := scheduler.NewPostgresElector(dbA), scheduler.NewPostgresElector(dbB)
	if err := a.IsLeader(ctx); err != nil {
		t.Fatalf("first replica not elected: %v", err)
	}
	for i := 0; i < 3; i++ {
		if err := a.IsLeader(ctx); err != nil {
			t.Fatalf("leader lost its lead: %v", err)
		}
		if err := b.IsLeader(ctx); !errors.Is(err, scheduler.ErrNotLeader) {
			t.Fatalf("second replica: %v, want ErrNotLeader", err)
		}
	}
	// The leader's session dies (as when its process is killed): its lock
	// goes with it, and the other replica takes over.
	// Only this test's database, and wait for the backend to be gone: other
	// tests hold advisory locks in their own databases on the same server.
	const holders = `FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
	if _, err := dbB.ExecContext(ctx, "SELECT pg_terminate_backend(pid, 5000) "+holders); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		var n int
		if err := dbB.QueryRowContext(ctx, "SELECT count(*) "+holders).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if i == 100 {
			t.Fatal("the leader's session did not end")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := b.IsLeader(ctx); err != nil {
		t.Fatalf("no takeover after the leader died: %v", err)
	}
	if err := a.IsLeader(ctx); err == nil {
		t.Fatal("a dead leader still leads")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}
