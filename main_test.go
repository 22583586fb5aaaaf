package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/internal/testbin"
	"github.com/lethe-privacy/lethe/retention"
)

// binDir holds lethe and the built-in plugins, built once for the tests of
// this package: the tests run the real binaries as a user would.
var binDir string

// testPlugins holds the test-only plugins TestMain builds (misbehave).
var testPlugins string

func TestMain(m *testing.M) {
	dir, cleanup, err := testbin.Dir(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	// The SDK test kit's plugin that breaks the contract on purpose, built
	// into a directory of this package's own.
	testPlugins, err = os.MkdirTemp("", "lethe-test-plugins-")
	if err == nil {
		err = testbin.Build(testPlugins, ".", map[string]string{"misbehave": "connectors/sdk/sdktest/testdata/misbehave"})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		cleanup()
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.RemoveAll(testPlugins)
	os.Exit(code)
}

// openApp opens the installation in dir (on PostgreSQL when database is a
// URL) through the wiring every command uses, with the plugins built for
// these tests when withConnectors; it is closed when the test ends.
func openApp(t testing.TB, dir, database string, withConnectors bool) *App {
	t.Helper()
	cfg := defaultConfig()
	cfg.DataDir, cfg.Database = dir, database
	cfg.Connectors.PluginDir = binDir
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := OpenApp(context.Background(), cfg, AppOptions{Log: log, Connectors: withConnectors})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	return app
}

// seedStores writes call records and invoices for customers into the
// built-in connectors' stores of the installation in dir (in database when
// it is a PostgreSQL URL), through each plugin's seed command, as `lethe
// demo` does: the tests reach the plugins' stores only through the plugins.
func seedStores(t testing.TB, dir, database string, seed int64, customers ...connectors.SeedCustomer) {
	t.Helper()
	cfg := defaultConfig()
	cfg.DataDir, cfg.Database = dir, database
	cfg.Connectors.PluginDir = binDir
	s, err := connectors.StartSeeding(context.Background(), connectorsConfig(cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(connectors.SeedBatch{Seed: seed, Now: time.Now().UTC(), Customers: customers})
	if err = errors.Join(err, s.Close()); err != nil {
		t.Fatal(err)
	}
}

// billing is a customer's call records and invoices for seedStores.
func billing(c *retention.Customer, address string, callRecords, invoices int) connectors.SeedCustomer {
	return connectors.SeedCustomer{Subject: c.Subject(), Address: address, CallRecords: callRecords, Invoices: invoices}
}

// lethe runs the lethe binary to completion.
func lethe(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), filepath.Join(binDir, "lethe"), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lethe %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// queryStrings runs a query of one text column and returns its values.
func queryStrings(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
