package connectors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/retention"
)

func TestExportAcrossAllConnectors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connectors.Config{})
	ctx := context.Background()
	sub := subject("exp1")
	for name, seed := range w.seeders() {
		if err := seed(ctx, toSDK(sub)); err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
	}
	statuses := w.m.Connectors(ctx)
	if len(statuses) != 4 {
		t.Fatalf("Connectors lists %d, want 4", len(statuses))
	}
	// What each store must show for the customer: its own identifier.
	want := map[string]string{"cdrstore": sub.Phone, "invoicestore": sub.Email, "statdb": sub.LastName, "newsletter": sub.Email}
	for _, st := range statuses {
		if !st.Healthy {
			t.Errorf("%s not healthy", st.Info.Name)
		}
		c := w.connector(t, st.Info.Name)
		exports, err := c.Export(ctx, []retention.Subject{sub, subject("nobody")})
		if err != nil {
			t.Fatalf("%s Export: %v", st.Info.Name, err)
		}
		if len(exports) != 1 || exports[0].CustomerID != sub.CustomerID {
			t.Fatalf("%s exported %d entries, want exactly the seeded customer", st.Info.Name, len(exports))
		}
		if !json.Valid(exports[0].Data) || !bytes.Contains(exports[0].Data, []byte(want[st.Info.Name])) {
			t.Errorf("%s export lacks %q: %.200s", st.Info.Name, want[st.Info.Name], exports[0].Data)
		}
	}
	if _, err := w.m.Connector(ctx, "nope"); retention.ErrorCode(err) != retention.CodeNotFound {
		t.Errorf("unknown connector: %v, want NOT_FOUND", err)
	}
}

func TestRecordVisitsOverGRPC(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connectors.Config{})
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	visits := []retention.VisitRecord{{VisitID: "v1", CustomerID: "rv1", Branch: "North", Service: "Counter",
		StartedAt: now.Add(-time.Hour), EndedAt: now, CustomFields: map[string]string{"custom2": "blue"}}}
	stat := w.connector(t, "statdb")
	for range 2 { // a retried RecordVisits stores the visit once
		if err := stat.RecordVisits(ctx, visits); err != nil {
			t.Fatal(err)
		}
	}
	var got struct {
		Visits []struct {
			EndedAt time.Time         `json:"endedAt"`
			Custom  map[string]string `json:"customFields"`
		} `json:"visits"`
	}
	w.exported(t, "statdb", retention.Subject{CustomerID: "rv1"}, &got)
	if len(got.Visits) != 1 || got.Visits[0].Custom["custom2"] != "blue" || !got.Visits[0].EndedAt.Equal(now) {
		t.Fatalf("recorded visits: %+v", got.Visits)
	}
	err := w.connector(t, "cdrstore").RecordVisits(ctx, visits)
	if retention.ErrorCode(err) != retention.CodeConnectorUnavailable {
		t.Errorf("RecordVisits on a connector without the capability: %v, want CONNECTOR_UNAVAILABLE", err)
	}
}

func TestBuiltinsAreDiscovered(t *testing.T) {
	t.Parallel()
	m := mustLoad(t, connectors.Config{PluginDir: binDir})
	var names []string
	for _, st := range m.Connectors(context.Background()) {
		names = append(names, st.Info.Name)
		if !st.Healthy || len(st.Info.Categories) == 0 {
			t.Errorf("%s: %+v", st.Info.Name, st)
		}
	}
	if !slices.Equal(names, []string{"cdrstore", "invoicestore", "statdb"}) {
		t.Errorf("discovered %v", names)
	}
}

func alive(pid int) bool {
	// A reaped process has no /proc entry; a zombie would still be "left
	// behind", so it counts as alive here.
	_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	return err == nil
}

func TestKilledPluginIsRelaunchedOnNextCall(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connectors.Config{HealthInterval: time.Hour}) // only the call may relaunch
	ctx := context.Background()
	sub := subject("kill1")
	if err := w.seeders()["cdrstore"](ctx, toSDK(sub)); err != nil {
		t.Fatal(err)
	}
	c := w.connector(t, "cdrstore")
	old := w.m.PIDs()["cdrstore"]
	if old == 0 || !alive(old) {
		t.Fatalf("no running cdrstore process (pid %d)", old)
	}
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	exports, err := c.Export(ctx, []retention.Subject{sub})
	if err != nil {
		t.Fatalf("Export after kill -9: %v", err)
	}
	if len(exports) != 1 {
		t.Fatalf("Export after restart returned %d entries", len(exports))
	}
	if now := w.m.PIDs()["cdrstore"]; now == 0 || now == old {
		t.Errorf("pid after restart %d (was %d)", now, old)
	}
	if alive(old) {
		t.Errorf("killed process %d was not reaped", old)
	}
}

func TestHealthLoopRelaunchesCrashedPlugin(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connectors.Config{HealthInterval: 100 * time.Millisecond,
		Connectors: []connectors.PluginConfig{pluginConfig(t, "statdb", "lethe-statdb", nil)}})
	old := w.m.PIDs()["statdb"]
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if pid := w.m.PIDs()["statdb"]; pid != 0 && pid != old {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("health loop did not relaunch the killed plugin within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := w.m.Connectors(context.Background()); !st[0].Healthy {
		t.Errorf("relaunched plugin not healthy: %+v", st[0])
	}
}

func TestWrongChecksumIsRefused(t *testing.T) {
	t.Parallel()
	cfg := pluginConfig(t, "cdrstore", "lethe-cdrstore", nil)
	cfg.SHA256 = strings.Repeat("ab", 32)
	_, err := connectors.Load(context.Background(), connectors.Config{DataDir: t.TempDir(),
		Connectors: []connectors.PluginConfig{cfg}}, testLogger(t))
	if err == nil {
		t.Fatal("Load accepted a binary with the wrong checksum")
	}
	if !strings.Contains(err.Error(), `"cdrstore"`) || !errors.Is(err, connectors.ErrChecksumMismatch) {
		t.Errorf("error does not name the plugin and the mismatch: %v", err)
	}
}

func TestReplacedBinaryIsRefusedOnRelaunch(t *testing.T) {
	t.Parallel()
	// A private copy we can replace after launch.
	bin := filepath.Join(t.TempDir(), "lethe-cdrstore")
	copyFile(t, filepath.Join(binDir, "lethe-cdrstore"), bin)
	sum, _ := connectors.FileSHA256(bin)
	w := newWorld(t, connectors.Config{HealthInterval: time.Hour,
		Connectors: []connectors.PluginConfig{{Name: "cdrstore", Path: bin, SHA256: sum}}})
	c := w.connector(t, "cdrstore")
	copyFile(t, filepath.Join(binDir, "lethe-statdb"), bin) // a different, working plugin
	syscall.Kill(w.m.PIDs()["cdrstore"], syscall.SIGKILL)
	_, err := c.Export(context.Background(), []retention.Subject{subject("x")})
	if retention.ErrorCode(err) != retention.CodeConnectorUnavailable || !strings.Contains(err.Error(), "checksum") ||
		!strings.Contains(err.Error(), `"cdrstore"`) {
		t.Fatalf("call after the binary was replaced: %v, want CONNECTOR_UNAVAILABLE naming cdrstore and the checksum", err)
	}
	if pid := w.m.PIDs()["cdrstore"]; pid != 0 {
		t.Errorf("a process (%d) runs from the replaced binary", pid)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := to + ".new"
	if err := os.WriteFile(tmp, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

func TestCloseLeavesNoProcess(t *testing.T) {
	t.Parallel()
	m, err := connectors.Load(context.Background(), connectors.Config{DataDir: t.TempDir(), Connectors: allPlugins(t)}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	pids := m.PIDs()
	for name, pid := range pids {
		if pid == 0 || !alive(pid) {
			t.Fatalf("%s not running before Close (pid %d)", name, pid)
		}
	}
	m.Close()
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) still exists after Close", name, pid)
		}
	}
	if _, err := m.Connector(context.Background(), "cdrstore"); retention.ErrorCode(err) != retention.CodeConnectorUnavailable {
		t.Errorf("Connector after Close: %v, want CONNECTOR_UNAVAILABLE", err)
	}
	if pids := m.PIDs(); pids["cdrstore"] != 0 {
		t.Errorf("a plugin was relaunched after Close: %v", pids)
	}
}

// TestDeleteWithAFailingConnector: one plugin's process dies and its binary
// vanishes; a delete over every connector fails for that one only, with
// CONNECTOR_UNAVAILABLE, and succeeds for all when repeated with the same
// action ids once the binary is back.
func TestDeleteWithAFailingConnector(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "lethe-invoicestore")
	copyFile(t, filepath.Join(binDir, "lethe-invoicestore"), bin)
	sum, _ := connectors.FileSHA256(bin)
	plugins := allPlugins(t)
	plugins[1] = connectors.PluginConfig{Name: "invoicestore", Path: bin, SHA256: sum}
	w := newWorld(t, connectors.Config{HealthInterval: time.Hour, Connectors: plugins})
	ctx := context.Background()

	subs := []retention.Subject{subject("df1"), subject("df2")}
	for name, seed := range w.seeders() {
		if err := seed(ctx, toSDK(subs...)); err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
	}
	actions := []retention.Action{{ID: "erase-df1", Subject: subs[0]}, {ID: "erase-df2", Subject: subs[1]}}
	handles := map[string]retention.Connector{}
	for _, name := range w.m.Names() {
		handles[name] = w.connector(t, name)
	}

	syscall.Kill(w.m.PIDs()["invoicestore"], syscall.SIGKILL)
	if err := os.Rename(bin, bin+".away"); err != nil {
		t.Fatal(err)
	}
	deleteAll := func() map[string]error {
		errs := map[string]error{}
		for name, c := range handles {
			results, err := c.Delete(ctx, actions)
			if err == nil {
				for _, r := range results {
					// NOT_FOUND is success too: the newsletter example keeps
					// no journal, so a repeat finds nothing left to delete.
					if !r.Outcome.Confirmed() {
						err = errors.New(string(r.Outcome) + ": " + r.Reason)
					}
				}
			}
			errs[name] = err
		}
		return errs
	}
	for name, err := range deleteAll() {
		if name == "invoicestore" {
			if retention.ErrorCode(err) != retention.CodeConnectorUnavailable {
				t.Errorf("invoicestore without binary: %v, want CONNECTOR_UNAVAILABLE", err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if st := w.m.Connectors(ctx); st[1].Healthy {
		t.Error("invoicestore reported healthy while its binary is gone")
	}

	if err := os.Rename(bin+".away", bin); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // past the 50ms restart backoff of mustLoad
	// Repeated with the same action ids: invoicestore acts now, the others
	// answer from their journals.
	for name, err := range deleteAll() {
		if err != nil {
			t.Errorf("repeat, %s: %v", name, err)
		}
	}
	held, err := w.connector(t, "invoicestore").Export(ctx, subs)
	if err != nil || len(held) != 0 {
		t.Errorf("invoices left after the repeated delete: %d customers (%v)", len(held), err)
	}
}
