// Package storetest opens real stores for tests: an SQLite file in a
// temporary directory, and a fresh PostgreSQL database on the server named by
// LETHE_TEST_POSTGRES_DSN (CI starts one; locally the PostgreSQL variants say
// that they were skipped).
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/lethe-privacy/lethe/store"
)

// PostgresEnv names the variable holding the PostgreSQL server for tests.
const PostgresEnv = "LETHE_TEST_POSTGRES_DSN"

// Each runs fn once per dialect, as named subtests.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	// The two run at once: each has a database of its own, and PostgreSQL
	// mostly waits on its server while SQLite computes.
	var wg sync.WaitGroup
	wg.Go(func() { t.Run("sqlite", func(t *testing.T) { fn(t, MustOpenSQLite(t)) }) })
	wg.Go(func() { t.Run("postgres", func(t *testing.T) { fn(t, MustOpenPostgres(t)) }) })
	wg.Wait()
}

// MustOpenSQLite opens and migrates a store in a temporary directory.
func MustOpenSQLite(tb testing.TB) *store.Store {
	tb.Helper()
	return mustOpen(tb, store.Config{DataDir: tb.TempDir()})
}

// PostgresDatabase creates an empty database on the test server and returns
// its URL; it is dropped when the test ends. Skips when no server is given.
func PostgresDatabase(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		tb.Skipf("PostgreSQL variant skipped: set %s=postgres://user@127.0.0.1:5432/postgres to run it (CI does)", PostgresEnv)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	name := fmt.Sprintf("lethe_test_%d", rand.Uint64())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") //nolint:errcheck
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// MustOpenPostgres opens and migrates a store on a fresh PostgreSQL database.
func MustOpenPostgres(tb testing.TB) *store.Store {
	tb.Helper()
	return mustOpen(tb, store.Config{Database: PostgresDatabase(tb)})
}

func mustOpen(tb testing.TB, cfg store.Config) *store.Store {
	tb.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}
