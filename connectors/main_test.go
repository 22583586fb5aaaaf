package connectors_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/internal/testbin"
)

// binDir holds the plugin binaries TestMain builds: the three built-ins
// under their release names plus the example newsletter connector.
var binDir string

// builds maps each binary to the directory it is built in, relative to
// this package: the example is a module of its own, so it is built from
// its own directory as an integrator would.
// The built-in plugins come from testbin (built once per `make test`).
var builds = map[string]string{
	"newsletter": "../examples/connector-newsletter",
	// A plugin as the first SDK built them: protocol 1 only.
	"v1connector": "sdk/internal/v1connector",
	// A plugin that breaks the contract as its "mode" setting says.
	"misbehave": "sdk/sdktest/testdata/misbehave",
}

// testVersion is stamped into every plugin built here, as the Makefile does.
const testVersion = testbin.Version

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, cleanup, err := testbin.Dir("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	// These test plugins go beside the built-ins, in a directory of this
	// package's own.
	own, err := os.MkdirTemp("", "lethe-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(own)
	for name := range testbin.Builds {
		if err := os.Symlink(filepath.Join(dir, name), filepath.Join(own, name)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	binDir = own
	if err := testbin.Build(own, ".", builds); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func pluginConfig(t testing.TB, name, bin string, settings map[string]string) connectors.PluginConfig {
	t.Helper()
	sum, err := connectors.FileSHA256(filepath.Join(binDir, bin))
	if err != nil {
		t.Fatal(err)
	}
	return connectors.PluginConfig{Name: name, Path: filepath.Join(binDir, bin), SHA256: sum, Settings: connectors.Plain(settings)}
}

// mustLoad starts a Manager over a fresh data directory and closes it when
// the test ends.
func mustLoad(t testing.TB, cfg connectors.Config) *connectors.Manager {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.RestartBackoff == 0 {
		cfg.RestartBackoff = 50 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := connectors.Load(ctx, cfg, testLogger(t))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
