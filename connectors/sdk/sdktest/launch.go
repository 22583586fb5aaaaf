package sdktest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// Launch starts the connector binary at path the way Lethe does (same
// handshake, protocol negotiation and transport), configures it with a
// fresh temporary data_dir and settings, and ends the process when the test
// ends.
func Launch(t testing.TB, path string, settings map[string]string) sdk.Client {
	t.Helper()
	return LaunchIn(t, t.TempDir(), path, settings)
}

// LaunchIn is Launch with a chosen data_dir, where a test can seed the
// connector's store.
func LaunchIn(t testing.TB, dataDir, path string, settings map[string]string) sdk.Client {
	t.Helper()
	cfg := sdk.ClientConfig(exec.Command(path))
	cfg.StartTimeout = time.Minute
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: "connector", Output: os.Stderr, Level: hclog.Warn})
	client := plugin.NewClient(cfg)
	t.Cleanup(client.Kill)
	c, err := sdk.Dispense(client)
	if err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	all := map[string]string{}
	for k, v := range settings {
		all[k] = v
	}
	all["data_dir"] = dataDir
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Configure(ctx, all); err != nil {
		t.Fatalf("configure %s: %v", path, err)
	}
	return c
}
