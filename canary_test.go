package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCanaryFlagsConnectorThatKeepsData is the third "done when":
// the call-record connector is replaced by a planted build that
// acknowledges every delete and deletes nothing (plugins/cdrstore/liar.go,
// built with -tags lethe_liar); within one canary cycle the canary flags
// it (lethe_canary_failing{connector="cdrstore"} 1 and a warning on the
// connector in the API) while the honest connectors pass.
func TestCanaryFlagsConnectorThatKeepsData(t *testing.T) {
	t.Parallel()
	plugins := t.TempDir()
	build := exec.Command("go", "build", "-tags", "lethe_liar", "-o", filepath.Join(plugins, "lethe-cdrstore"), ".")
	build.Dir = "plugins/cdrstore"
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the planted connector: %v\n%s", err, out)
	}
	for _, name := range []string{"lethe-invoicestore", "lethe-statdb"} {
		runTool(t, "cp", filepath.Join(binDir, name), filepath.Join(plugins, name))
	}
	w := restoreWorld{dir: t.TempDir()}
	lethe(t, w.args("migrate")...)
	config := filepath.Join(t.TempDir(), "lethe.yaml")
	yaml := "plugin_dir: " + plugins + "\nscheduler:\n  canary_every: 2s\n  residue_audit_every: -1s\n"
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, w.dir, "--config", config, "--sweep=true", "--metrics=true")
	query := `query Guards { connectors { name canaryWarning resurrected } }`
	deadline := time.Now().Add(90 * time.Second)
	for {
		metrics := srv.get(t, "/metrics")
		if strings.Contains(metrics, `lethe_canary_failing{connector="cdrstore"} 1`) &&
			strings.Contains(metrics, `lethe_canary_failing{connector="invoicestore"} 0`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the canary did not flag the planted connector within 90s:\n%s", grepLines(metrics, "canary"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	res := srv.post(query, nil)
	conns, _ := res["data"].(map[string]any)["connectors"].([]any)
	seen := 0
	for _, c := range conns {
		c := c.(map[string]any)
		switch c["name"] {
		case "cdrstore":
			seen++
			if w, _ := c["canaryWarning"].(string); !strings.Contains(w, "still exports it") {
				t.Fatalf("no canary warning on the planted connector: %v", c)
			}
		case "invoicestore":
			seen++
			if c["canaryWarning"] != nil {
				t.Fatalf("a canary warning on an honest connector: %v", c)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("connectors: %v", res)
	}
}
