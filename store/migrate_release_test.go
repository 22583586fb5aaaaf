package store_test

import (
	"compress/gzip"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// release is a database written by the release before rules as queries
// (testdata/release-798b766/README.md says how).
const release = "testdata/release-798b766/"

func gunzip(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(release + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMigrateReleaseDatabase migrates a database written by the release that
// stored deletion times, on SQLite and on PostgreSQL: the stored times go,
// the anchors are those each customer's record gives, every deletion time
// the rules now derive is the one the release had stored, and the ranges
// find exactly the customers ComputeSchedule makes due.
func TestMigrateReleaseDatabase(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "lethe.db"), gunzip(t, "lethe.db.gz"), 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", filepath.Join(dir, "lethe.db"))
		if err != nil {
			t.Fatal(err)
		}
		stored := storedDeletionTimes(t, db)
		db.Close()
		checkMigratedRelease(t, store.Config{DataDir: dir}, stored)
	})
	t.Run("postgres", func(t *testing.T) {
		database := storetest.PostgresDatabase(t)
		db, err := sql.Open("pgx", database)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1) // the dump empties the session's search_path
		if _, err := db.Exec(string(gunzip(t, "postgres.sql.gz"))); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("SET search_path = public"); err != nil {
			t.Fatal(err)
		}
		checkMigratedRelease(t, store.Config{Database: database}, storedDeletionTimes(t, db))
	})
}

// storedDeletionTimes reads what the release stored, before migrating.
func storedDeletionTimes(t *testing.T, db *sql.DB) map[string]*int64 {
	t.Helper()
	rows, err := db.Query("SELECT id, deletion_time FROM customers")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]*int64{}
	for rows.Next() {
		var id string
		var at sql.NullInt64
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		if at.Valid {
			out[id] = &at.Int64
		} else {
			out[id] = nil
		}
	}
	if len(out) != 300 {
		t.Fatalf("the release's database holds %d customers, want 300", len(out))
	}
	return out
}

func checkMigratedRelease(t *testing.T, cfg store.Config, stored map[string]*int64) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("applied %v in %v", applied, time.Since(start))
	if !slices.Contains(applied, "20261207018001_anchors") {
		t.Fatalf("applied %v, not the anchors migration", applied)
	}
	if _, err := s.DB().ExecContext(ctx, "SELECT deletion_time FROM customers"); err == nil {
		t.Fatal("deletion_time is still stored")
	}
	if stale := storetest.StaleCustomers(t, s); len(stale) > 0 {
		t.Fatalf("%d customers with anchors their record does not give, e.g. %s", len(stale), stale[0])
	}
	ps, err := s.Policies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dp, err := s.DataPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	policies := retention.NewPolicySet(ps)
	ids := make([]string, 0, len(stored))
	for id := range stored {
		ids = append(ids, id)
	}
	byID, err := s.CustomersByID(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	customers := make([]*retention.Customer, 0, len(ids))
	for id, want := range stored {
		c := byID[id]
		got := retention.ComputeSchedule(c, policies, dp).DeletionTime
		if (got == nil) != (want == nil) || got != nil && got.UnixMicro() != *want {
			t.Fatalf("%s: the rules derive %v, the release stored %v", id, got, want)
		}
		customers = append(customers, c)
	}
	eng := relinquish.NewEngine(s, nil)
	for _, at := range []time.Time{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)} {
		run, err := eng.DryRun(ctx, retention.RunOptions{AsOf: &at, Trigger: "test"})
		if err != nil {
			t.Fatal(err)
		}
		actions, err := eng.RunActions(ctx, run.ID, ptr(relinquish.MaxRunActions))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, a := range actions {
			got[a.CustomerID] = a.Action
		}
		want := dueSet(customers, policies, dp, at)
		if len(want) == 0 {
			t.Fatalf("nobody due at %v: the fixture proves nothing", at)
		}
		compareDue(t, "migrated release at "+at.Format(time.RFC3339), want, got, run.CustomersPlanned)
	}
}
