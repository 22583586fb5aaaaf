package main

import (
	"archive/zip"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestAuditCommands: `lethe audit pubkey` prints the key that verifies the
// checkpoints; `lethe audit verify` answers "verified up to event N" on
// an untouched log, trusts a key given with --pubkey, refuses a foreign
// key, and names the first bad event (and fails) once a row is edited by
// SQL.
func TestAuditCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"ops", "auditor", "backup"} {
		lethe(t, "token", "create", "--data-dir", dir, "--name", name, "--role", "viewer")
	}
	pub := strings.SplitN(lethe(t, "audit", "pubkey", "--data-dir", dir), "\n", 2)[0]
	if !strings.HasPrefix(pub, "ed25519 ") {
		t.Fatalf("pubkey: %q", pub)
	}
	if out := lethe(t, "audit", "checkpoint", "--data-dir", dir); !strings.Contains(out, "checkpoint signs event 3") {
		t.Fatalf("checkpoint: %s", out)
	}
	out := lethe(t, "audit", "verify", "--data-dir", dir, "--only-pubkey", "--pubkey", pub)
	if !strings.HasPrefix(out, "verified up to event 3 at ") || !strings.Contains(out, "signed up to event 3") {
		t.Fatalf("verify: %s", out)
	}
	other := filepath.Join(t.TempDir(), "other.pub")
	os.WriteFile(other, []byte("ed25519 2dp7Qv2SjmQsl0rz0J3wGm5dJ0d+YAHtKiVBjvpbm5U=\n"), 0o600) //nolint:errcheck
	bad, err := exec.Command(filepath.Join(binDir, "lethe"), "audit", "verify", "--data-dir", dir, "--only-pubkey", "--pubkey", other).CombinedOutput()
	if err == nil || !strings.Contains(string(bad), "checkpoint signature wrong") {
		t.Fatalf("a foreign key: %v %s", err, bad)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, "lethe.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET actor = 'mallory' WHERE chain_pos = 2"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	bad, err = exec.Command(filepath.Join(binDir, "lethe"), "audit", "verify", "--data-dir", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(bad), "BROKEN at event 2: changed") || !strings.Contains(string(bad), "verified up to event 1 ") {
		t.Fatalf("an edited event: %v %s", err, bad)
	}
}

// TestEvidenceCommand: `lethe evidence` writes a zip with the report, the
// CSVs and the manifest; a period that ends before it starts is refused.
func TestEvidenceCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lethe(t, "token", "create", "--data-dir", dir, "--name", "ops", "--role", "admin")
	out := filepath.Join(t.TempDir(), "pack.zip")
	if msg := lethe(t, "evidence", "--data-dir", dir, "--from", "2026-01-01", "--out", out); !strings.Contains(msg, "wrote "+out) {
		t.Fatalf("evidence: %s", msg)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	for _, want := range []string{"report.html", "manifest.json", "sweeps.csv", "retention_table.csv", "audit_chain.csv", "policies.csv"} {
		if !names[want] {
			t.Errorf("%s missing from the pack: %v", want, names)
		}
	}
	if msg, err := exec.Command(filepath.Join(binDir, "lethe"), "evidence", "--data-dir", dir, "--from", "2026-02-01", "--to", "2026-01-01").CombinedOutput(); err == nil ||
		!strings.Contains(string(msg), "must be after") {
		t.Fatalf("an empty period: %v %s", err, msg)
	}
}
