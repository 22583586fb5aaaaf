package connectors_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/retention"
)

// writeList writes a newsletter list holding one subscription of customer c.
func writeList(t *testing.T, path, c, email string) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"subscribers": []map[string]any{{"customerId": c, "email": email}}})
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestReloadWhileCalling reloads the newsletter plugin while exports run
// against it from several goroutines (run it with -race): no call fails,
// the new process serves afterwards (another pid) and reads its settings
// as they are now: the list's location from a file named by {file: …}.
// A settings variable that is unset fails the reload naming it, and the
// old process goes on serving.
func TestReloadWhileCalling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.json"), filepath.Join(dir, "second.json")
	writeList(t, first, "c-1", "first@reload.test")
	writeList(t, second, "c-1", "second@reload.test")
	locator := filepath.Join(dir, "list-location")
	if err := os.WriteFile(locator, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := pluginConfig(t, "newsletter", "newsletter", nil)
	p.Settings = map[string]connectors.Setting{"file": {File: locator}}
	cfg := connectors.Config{DataDir: t.TempDir(), Connectors: []connectors.PluginConfig{p}}
	m := mustLoad(t, cfg)
	c, err := m.Connector(ctx, "newsletter")
	if err != nil {
		t.Fatal(err)
	}
	export := func() (string, error) {
		ex, err := c.Export(ctx, []retention.Subject{{CustomerID: "c-1"}})
		if err != nil || len(ex) == 0 {
			return "", err
		}
		return string(ex[0].Data), nil
	}
	if data, err := export(); err != nil || !strings.Contains(data, "first@reload.test") {
		t.Fatalf("before the reload: %q %v", data, err)
	}
	oldPID := m.PIDs()["newsletter"]

	if err := os.WriteFile(locator, []byte(second+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var results []connectors.ReloadResult
	calls, failures := callsDuring(func() error { _, err := export(); return err }, func() {
		results, err = m.Reload(ctx, cfg)
	})
	if err != nil || len(results) != 1 || results[0].Err != nil {
		t.Fatalf("Reload: %+v %v", results, err)
	}
	if len(failures) > 0 || calls == 0 {
		failures = append(failures, nil)
		t.Fatalf("%d of %d calls failed during the reload: %v", len(failures), calls, failures[0])
	}
	if pid := m.PIDs()["newsletter"]; pid == oldPID || pid == 0 || results[0].OldPID != oldPID || results[0].PID != pid {
		t.Errorf("pids: old %d, now %d, result %+v", oldPID, pid, results[0])
	}
	if data, err := export(); err != nil || !strings.Contains(data, "second@reload.test") {
		t.Errorf("after the reload the plugin reads %q (%v), want the list the settings file names now", data, err)
	}

	// An unset variable: the reload fails for the connector, which goes on.
	bad := cfg
	bad.Connectors = []connectors.PluginConfig{p}
	bad.Connectors[0].Settings = map[string]connectors.Setting{"file": {Env: "LETHE_TEST_UNSET_VARIABLE_25"}}
	pid := m.PIDs()["newsletter"]
	results, err = m.Reload(ctx, bad)
	if err != nil || len(results) != 1 || results[0].Err == nil || !strings.Contains(results[0].Err.Error(), "LETHE_TEST_UNSET_VARIABLE_25 is not set") {
		t.Fatalf("Reload with an unset variable: %+v %v", results, err)
	}
	if m.PIDs()["newsletter"] != pid {
		t.Error("a failed reload replaced the running process")
	}
	if _, err := export(); err != nil {
		t.Errorf("after a failed reload: %v", err)
	}
	// Adding a connector needs a restart.
	more := cfg
	more.Connectors = append([]connectors.PluginConfig{p}, pluginConfig(t, "statdb", "lethe-statdb", nil))
	if _, err := m.Reload(ctx, more); err == nil || !strings.Contains(err.Error(), "restart Lethe") {
		t.Errorf("Reload adding a connector: %v", err)
	}
}

// callsDuring runs call from four goroutines over and over while during
// runs, and returns how many calls were made and their errors.
func callsDuring(call func() error, during func()) (int, []error) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var calls int
	var failures []error
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := call()
				mu.Lock()
				calls++
				if err != nil {
					failures = append(failures, err)
				}
				mu.Unlock()
			}
		})
	}
	during()
	close(stop)
	wg.Wait()
	return calls, failures
}
