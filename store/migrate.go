package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/lethe-privacy/lethe/retention"
)

//go:embed migrations
var migrationFiles embed.FS

func (s *Store) migrator() (*migrate.Migrator, error) {
	sub, err := fs.Sub(migrationFiles, "migrations/"+string(s.dialect))
	if err != nil {
		return nil, err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return nil, err
	}
	// A migration that fails half way is not marked applied, so the next
	// start retries it.
	return migrate.NewMigrator(s.db, ms, migrate.WithMarkAppliedOnSuccess(true)), nil
}

// Migrate applies pending migrations and makes sure the built-in policies
// exist. It returns the names of the migrations it applied.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	m, err := s.migrator()
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		if diskFull(err) {
			err = storageFull()
		}
		return nil, fmt.Errorf("migrate init: %w", err)
	}
	// Replicas starting together queue for the migration lock instead of
	// failing; a lock left by a crashed migration is reported after a while.
	for attempt := 0; ; attempt++ {
		err := m.Lock(ctx)
		if err == nil {
			break
		}
		if diskFull(err) {
			// Taking the lock is a write: on a full disk it fails at once,
			// and no lock row is to blame.
			return nil, fmt.Errorf("migrate: %w", storageFull())
		}
		if attempt == 120 {
			return nil, fmt.Errorf("%w (if no other lethe is migrating, a crashed migration left the lock: delete the row of bun_migration_locks)", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	defer m.Unlock(context.WithoutCancel(ctx)) //nolint:errcheck // best effort; a stale lock is reported on the next run
	group, err := m.Migrate(ctx)
	if err != nil {
		if diskFull(err) {
			err = storageFull()
		}
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	for _, mig := range group.Migrations {
		applied = append(applied, mig.Name+"_"+mig.Comment)
	}
	if _, err := s.backfillSearchTerms(ctx); err != nil {
		return applied, err
	}
	if err := s.backfillNameKeys(ctx); err != nil {
		return applied, err
	}
	if err := s.ensureBuiltIns(ctx); err != nil {
		return applied, err
	}
	return applied, s.chainAfterMigrate(ctx)
}

// Pending lists migrations not applied yet.
func (s *Store) Pending(ctx context.Context) ([]string, error) {
	m, err := s.migrator()
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, err
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, mig := range ms.Unapplied() {
		out = append(out, mig.Name+"_"+mig.Comment)
	}
	return out, nil
}

func (s *Store) ensureBuiltIns(ctx context.Context) error {
	now := toMicros(time.Now())
	for _, p := range retention.BuiltInPolicies() {
		row := policyFromDomain(p, now)
		if _, err := s.db.NewInsert().Model(row).On("CONFLICT (name) DO NOTHING").Exec(ctx); err != nil {
			return internal("built-in policies", err)
		}
	}
	return nil
}
