package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// buildNewsletter builds the newsletter example stamped with version into
// path, as its README says: a rebuild is a new binary with a new sha256.
func buildNewsletter(t *testing.T, version, path string) string {
	t.Helper()
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+version, "-o", path, ".")
	cmd.Dir = "examples/connector-newsletter"
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build newsletter %s: %v", version, err)
	}
	return mustSum(t, path)
}

// writeReloadConfig writes the configuration: the built-ins and the
// newsletter at bin/connector-newsletter (relative) with this checksum and
// its list file named by the LETHE_TEST_NEWSLETTER_LIST environment
// variable.
func writeReloadConfig(t *testing.T, path, newsletterSum string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("connectors:\n")
	for _, name := range []string{"cdrstore", "invoicestore", "statdb"} {
		bin := filepath.Join(binDir, "lethe-"+name)
		fmt.Fprintf(&b, "  - name: %s\n    path: %s\n    sha256: %s\n", name, bin, mustSum(t, bin))
	}
	fmt.Fprintf(&b, "  - name: newsletter\n    path: bin/connector-newsletter\n    sha256: %s\n    settings:\n      file: {env: LETHE_TEST_NEWSLETTER_LIST}\n", newsletterSum)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// hammer sends the request over and over until stop is closed and counts
// the answers and the failures.
type hammer struct {
	sent, failed atomic.Int64
	mu           sync.Mutex
	firstFailure map[string]any
	done         chan struct{}
}

func startHammer(srv *served, query string, stop chan struct{}) *hammer {
	h := &hammer{done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp := srv.post(query, nil)
			h.sent.Add(1)
			if resp == nil || resp["errors"] != nil {
				h.failed.Add(1)
				h.mu.Lock()
				if h.firstFailure == nil {
					h.firstFailure = resp
				}
				h.mu.Unlock()
			}
		}
	}()
	return h
}

// TestConnectorReloadWhileServing: Lethe serves with the newsletter
// example 1.0.0 (named by a relative path, its list file by an environment
// variable); a HIDDEN purge finds the list unreadable, so the newsletter's
// actions fail and their journal entries stay open. The list is repaired,
// the example rebuilt as 2.0.0, its new checksum written to the
// configuration and reloadConnectors called while exports (which call
// every connector) go on: no export fails, 2.0.0 serves, the old process
// is gone, and the open entries are finished by the new process at once
// (not at a sweep: the server runs none). Then 3.0.0 is loaded by SIGHUP.
func TestConnectorReloadWhileServing(t *testing.T) {
	w := newWorld(t, 3, "")
	ctx := context.Background()
	member, err := w.svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{
		FirstName: sp("Rhea"), LastName: sp("Reload"), Email: sp("rhea@reload.test")}})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := w.svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Ray")}})
	if err != nil {
		t.Fatal(err)
	}
	w.manager.Close()
	list := filepath.Join(t.TempDir(), "subscribers.json")
	subs := []subscription{{Email: "rhea@reload.test", Name: "Rhea Reload"}, {CustomerID: reader.ID, Email: "ray@reload.test"}}
	writeNewsletter(t, list, subs)

	cfgDir := t.TempDir()
	bin := filepath.Join(cfgDir, "bin", "connector-newsletter")
	cfgFile := filepath.Join(cfgDir, "lethe.yaml")
	writeReloadConfig(t, cfgFile, buildNewsletter(t, "1.0.0", bin))
	t.Setenv("LETHE_TEST_NEWSLETTER_LIST", list) // the server inherits it
	srv := startServeIn(t, t.TempDir(), w.dir, "--config", cfgFile)
	version := func() string { return newsletterVersion(srv) }
	if v := version(); v != "1.0.0" {
		t.Fatalf("newsletter version %q before the reload", v)
	}

	// The list is unreadable while the purge is sent: its entries stay open.
	if err := os.WriteFile(list, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if resp := srv.post(`mutation { updateFieldPreferences(fields: [{field: EMAIL, mode: HIDDEN}], confirm: true) { fields { field } } }`, nil); resp["errors"] != nil {
		t.Fatalf("updateFieldPreferences: %v", resp["errors"])
	}
	db := w.store.DB().DB
	action := func() (status string, attempts int) {
		db.QueryRowContext(ctx, "SELECT status, attempts FROM journal_actions WHERE connector = 'newsletter' AND customer_id = ?", member.ID).Scan(&status, &attempts) //nolint:errcheck
		return
	}
	waitFor(t, 60*time.Second, "the newsletter's purge action to fail", func() bool { s, _ := action(); return s == "failed" })
	writeNewsletter(t, list, subs)

	oldPID := pluginPID(t, bin)
	stop := make(chan struct{})
	h := startHammer(srv, fmt.Sprintf(`mutation { exportCustomer(id: %q) { fileName } }`, reader.ID), stop)
	writeReloadConfig(t, cfgFile, buildNewsletter(t, "2.0.0", bin))
	resp := srv.post(`mutation { reloadConnectors { connectors { name reloaded previousVersion version error } resumeRun { id trigger } } }`, nil)
	close(stop)
	<-h.done
	if resp["errors"] != nil {
		t.Fatalf("reloadConnectors: %v", resp["errors"])
	}
	t.Logf("%d exports during the reload, %d failed: %v", h.sent.Load(), h.failed.Load(), h.firstFailure)
	if h.failed.Load() != 0 || h.sent.Load() < 2 {
		t.Fatalf("%d of %d exports failed during the reload (first: %v)", h.failed.Load(), h.sent.Load(), h.firstFailure)
	}
	checkReloaded(t, resp, "1.0.0", "2.0.0")
	if alive(oldPID) {
		t.Errorf("the replaced newsletter process %d still runs", oldPID)
	}
	waitFor(t, 60*time.Second, "the open purge entry to be finished by the new process", func() bool { s, _ := action(); return s == "confirmed" })
	if _, attempts := action(); attempts != 2 {
		t.Errorf("the newsletter's purge action took %d attempts, want 2 (failed on 1.0.0, done on 2.0.0)", attempts)
	}
	if raw, _ := os.ReadFile(list); strings.Contains(string(raw), "rhea@reload.test") {
		t.Errorf("the purged address is still in the list:\n%s", raw)
	}

	// SIGHUP does the same.
	writeReloadConfig(t, cfgFile, buildNewsletter(t, "3.0.0", bin))
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "SIGHUP to load 3.0.0", func() bool { return version() == "3.0.0" })
}

// pluginPID finds the process running the plugin binary at bin.
func pluginPID(t *testing.T, bin string) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || strings.TrimSuffix(exe, " (deleted)") != bin {
			continue
		}
		return pid
	}
	t.Fatalf("no process runs %s", bin)
	return 0
}

func alive(pid int) bool {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	// A zombie (state Z) has exited.
	return err == nil && !strings.Contains(string(raw), ") Z ")
}

// TestConnectorsChecksumBlock: `lethe connectors checksum --config FILE
// PATH` prints a connectors: block that Lethe reads back: the built-ins
// beside the binary, the configured newsletter with its settings kept and
// its path still relative to the file, each with the sha256 of the binary
// on disk now (a rebuild's, not the file's old one).
func TestConnectorsChecksumBlock(t *testing.T) {
	t.Parallel()
	cfgDir := t.TempDir()
	bin := filepath.Join(cfgDir, "bin", "connector-newsletter")
	cfgFile := filepath.Join(cfgDir, "lethe.yaml")
	writeReloadConfig(t, cfgFile, buildNewsletter(t, "1.0.0", bin))
	rebuilt := buildNewsletter(t, "1.0.1", bin)
	cmd := exec.Command(filepath.Join(binDir, "lethe"), "connectors", "checksum", "--config", cfgFile, bin)
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("connectors checksum: %v", err)
	}
	if err := os.WriteFile(cfgFile, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cc, err := readConnectorsFile(cfgFile)
	if err != nil {
		t.Fatalf("the printed block does not parse: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, p := range cc.Connectors {
		if sum := mustSum(t, p.Path); sum != p.SHA256 {
			t.Errorf("%s: sha256 %s, the binary's is %s", p.Name, p.SHA256, sum)
		}
		got[p.Name] = p.Path
		if p.Name == "newsletter" && (p.SHA256 != rebuilt || p.Settings["file"].Env != "LETHE_TEST_NEWSLETTER_LIST") {
			t.Errorf("newsletter entry %+v", p)
		}
	}
	if len(got) != 4 || got["newsletter"] != bin || got["cdrstore"] == "" {
		t.Errorf("connectors %v", got)
	}
	if !strings.Contains(string(out), "path: ./bin/connector-newsletter") || !strings.Contains(string(out), "# newsletter 1.0.1") {
		t.Errorf("the block names the plugin otherwise:\n%s", out)
	}
}

// newsletterVersion is the version the newsletter connector describes.
func newsletterVersion(srv *served) string {
	resp := srv.post(`query Connectors { connectors { name version healthy } }`, nil)
	data, _ := resp["data"].(map[string]any)
	list, _ := data["connectors"].([]any)
	for _, c := range list {
		if c := c.(map[string]any); c["name"] == "newsletter" {
			return c["version"].(string)
		}
	}
	return ""
}

// checkReloaded asserts a reloadConnectors answer: every connector
// reloaded, the newsletter from before to after, a run resuming the open
// journal entries.
func checkReloaded(t *testing.T, resp map[string]any, before, after string) {
	t.Helper()
	reload := resp["data"].(map[string]any)["reloadConnectors"].(map[string]any)
	for _, c := range reload["connectors"].([]any) {
		c := c.(map[string]any)
		if c["reloaded"] != true {
			t.Errorf("connector %v not reloaded: %v", c["name"], c["error"])
		}
		if c["name"] == "newsletter" && (c["previousVersion"] != before || c["version"] != after) {
			t.Errorf("newsletter reload: %v", c)
		}
	}
	if reload["resumeRun"] == nil {
		t.Fatalf("no run resumed the open entries: %v", reload)
	}
}
