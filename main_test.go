package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/internal/testbin"
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
