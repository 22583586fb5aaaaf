package connectors_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/connectors/sdk/sdktest"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestConformance runs the SDK's conformance suite, neighbour cases
// included, against every shipped connector as a real plugin process, on
// SQLite stores and, when LETHE_TEST_POSTGRES_DSN is set, on PostgreSQL.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := ""
			if backend == "postgres" {
				// A database of its own (skipped when no server is set), so
				// that the suite shares no table with another run.
				dsn = storetest.PostgresDatabase(t)
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
					var settings map[string]string
					if dsn != "" {
						settings = map[string]string{"dsn": dsn}
					}
					// The plugin's data_dir is where Lethe would put it,
					// so that its seed command finds the same store.
					p := pluginConfig(t, tc.name, tc.bin, settings)
					cfg := connectors.Config{DataDir: t.TempDir(), Connectors: []connectors.PluginConfig{p}}
					dir := filepath.Join(cfg.DataDir, "connectors", tc.name)
					if err := os.MkdirAll(dir, 0o700); err != nil {
						t.Fatal(err)
					}
					c := sdktest.LaunchIn(t, dir, p.Path, settings)
					fx := sdktest.Fixtures{Seed: seeders(cfg)[tc.name]}
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
