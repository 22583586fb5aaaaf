package conformance

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/retention"
)

// Launch starts the plugin binary at path through Lethe's own Manager (so
// the handshake, checksum and protocol are exactly what production uses)
// with a temporary data directory, and stops it when the test ends.
// settings are passed to Configure beside data_dir.
func Launch(t testing.TB, path string, settings map[string]string) retention.Connector {
	t.Helper()
	return LaunchIn(t, t.TempDir(), path, settings)
}

// LaunchIn is Launch with a chosen Lethe data directory: the connector's
// store is then dataDir/connectors/<name>, where a test can seed it.
func LaunchIn(t testing.TB, dataDir, path string, settings map[string]string) retention.Connector {
	t.Helper()
	sum, err := connectors.FileSHA256(path)
	if err != nil {
		t.Fatalf("checksum plugin: %v", err)
	}
	name := "conformance"
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := connectors.Load(ctx, connectors.Config{
		DataDir:    dataDir,
		Connectors: []connectors.PluginConfig{{Name: name, Path: path, SHA256: sum, Settings: settings}},
	}, logger)
	if err != nil {
		t.Fatalf("load plugin: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	c, err := m.Connector(ctx, name)
	if err != nil {
		t.Fatalf("start plugin: %v", err)
	}
	return c
}
