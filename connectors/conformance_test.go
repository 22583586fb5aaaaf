package connectors_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/connectors/sdk/sdktest"
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
	"github.com/lethe-privacy/lethe/plugins/statdb/statsdb"
)

// TestConformance runs the SDK's conformance suite, neighbour cases
// included, against every shipped connector as a real plugin process, on
// SQLite stores and, when LETHE_TEST_POSTGRES_DSN is set, on PostgreSQL.
func TestConformance(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := ""
			if backend == "postgres" {
				if dsn = os.Getenv("LETHE_TEST_POSTGRES_DSN"); dsn == "" {
					t.Skip("set LETHE_TEST_POSTGRES_DSN (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run the suite on PostgreSQL stores")
				}
			}
			plugins := []struct{ name, bin string }{
				{"cdrstore", "lethe-cdrstore"}, {"invoicestore", "lethe-invoicestore"}, {"statdb", "lethe-statdb"},
			}
			if backend == "sqlite" {
				// The example keeps a JSON file in its data directory, on
				// either backend: it runs once.
				plugins = append(plugins, struct{ name, bin string }{"newsletter", "newsletter"})
			}
			for _, tc := range plugins {
				t.Run(tc.name, func(t *testing.T) {
					dir := t.TempDir()
					var settings map[string]string
					if dsn != "" {
						settings = map[string]string{"dsn": dsn}
					}
					c := sdktest.LaunchIn(t, dir, filepath.Join(binDir, tc.bin), settings)
					st := openStore(t, tc.name, dir, dsn)
					fx := sdktest.Fixtures{Seed: st.seeders()[tc.name]}
					if tc.name == "newsletter" {
						// Its website sign-ups carry no customer id.
						fx.SeedUnlinked = fx.Seed
					}
					sdktest.Run(t, c, fx)
				})
			}
		})
	}
}

// openStore opens the named connector's store beside its plugin, for
// seeding.
func openStore(t *testing.T, name, dir, dsn string) stores {
	t.Helper()
	ctx := context.Background()
	var st stores
	var err error
	switch name {
	case "cdrstore":
		st.cdr, err = cdrdb.Open(ctx, dir, dsn)
		if err == nil {
			t.Cleanup(func() { st.cdr.Close() })
		}
	case "invoicestore":
		st.inv, err = invoicedb.Open(ctx, dir, dsn)
		if err == nil {
			t.Cleanup(func() { st.inv.Close() })
		}
	case "statdb":
		st.stats, err = statsdb.Open(ctx, dir, dsn)
		if err == nil {
			t.Cleanup(func() { st.stats.Close() })
		}
	case "newsletter":
		st.newsletterDir = dir
	}
	if err != nil {
		t.Fatal(err)
	}
	return st
}
