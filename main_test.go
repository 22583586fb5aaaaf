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
)

// binDir holds lethe and the built-in plugins, built once for the tests of
// this package: the tests run the real binaries as a user would.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lethe-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	// The plugins are a module of their own: each is built in its
	// directory, as the Makefile does.
	builds := map[string]string{"lethe": ".", "lethe-cdrstore": "plugins/cdrstore",
		"lethe-invoicestore": "plugins/invoicestore", "lethe-statdb": "plugins/statdb",
		// The SDK test kit's plugin that breaks the contract on purpose.
		"misbehave": "connectors/sdk/sdktest/testdata/misbehave",
		// The SDK example, a third-party connector keyed by e-mail.
		"connector-newsletter": "examples/connector-newsletter"}
	for name, pkg := range builds {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), ".")
		cmd.Dir = pkg
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build", name, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
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
