package connectors

import (
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// TestPluginsGetTheIdleTransactionBound: every plugin's settings carry
// Lethe's idle-in-transaction bound, unless its configuration sets one.
func TestPluginsGetTheIdleTransactionBound(t *testing.T) {
	t.Parallel()
	c := Config{DataDir: t.TempDir(), IdleTxTimeout: 15 * time.Second}
	got, err := c.settings(PluginConfig{Name: "cdrstore"})
	if err != nil || got[sdk.SettingIdleTxTimeout] != "15s" || sdk.IdleTxTimeout(got) != 15*time.Second {
		t.Fatalf("settings %v %v, want %s=15s", got, err, sdk.SettingIdleTxTimeout)
	}
	got, err = c.settings(PluginConfig{Name: "own", Settings: map[string]Setting{sdk.SettingIdleTxTimeout: {Value: "3s"}}})
	if err != nil || got[sdk.SettingIdleTxTimeout] != "3s" {
		t.Fatalf("a configured bound was replaced: %v %v", got, err)
	}
}
