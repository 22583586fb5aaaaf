package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
)

// TestResidueAuditReerasesRestoredConnectorStore is the second
// "done when": one connector's store (the call records) is restored from a
// copy taken before a sweep erased 70 customers; within one residue-audit
// cycle every one of them is found, erased again through the journal,
// counted in lethe_resurrected_total{connector="cdrstore"}, audited, and
// shown on the receipt.
func TestResidueAuditReerasesRestoredConnectorStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := restoreWorld{dir: t.TempDir()}
	cast := w.setUp(t)
	copyOfCDRs := filepath.Join(t.TempDir(), "cdrstore")
	runTool(t, "cp", "-a", filepath.Join(w.dir, "connectors", "cdrstore"), copyOfCDRs)
	lethe(t, w.args("sweep")...)
	runTool(t, "rm", "-rf", filepath.Join(w.dir, "connectors", "cdrstore"))
	runTool(t, "cp", "-a", copyOfCDRs, filepath.Join(w.dir, "connectors", "cdrstore"))

	// A cycle of 3 seconds in ticks of one: 70 customers in batches of 24.
	config := filepath.Join(t.TempDir(), "lethe.yaml")
	if err := os.WriteFile(config, []byte("scheduler:\n  residue_audit_every: 1s\n  residue_audit_cycle: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, w.dir, "--config", config, "--sweep=true", "--metrics=true")
	deadline := time.Now().Add(60 * time.Second)
	metric := `lethe_resurrected_total{connector="cdrstore"} 70`
	for !strings.Contains(srv.get(t, "/metrics"), metric) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within a minute:\n%s", metric, grepLines(srv.get(t, "/metrics"), "resurrected"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	res := srv.post(`query Guards { connectors { name resurrected } }`, nil)
	if !strings.Contains(fmt.Sprint(res), "map[name:cdrstore resurrected:70]") {
		t.Fatalf("the API does not show the 70 resurrected on cdrstore: %v", res)
	}
	stopServe(t, srv)

	s, err := store.Open(ctx, store.Config{DataDir: w.dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := retention.NewService(s)
	m := w.connectors(t)
	defer m.Close()
	for _, c := range cast.bySweep {
		for name, data := range exportsOf(t, m, c.Subject()) {
			if holdsData(data) {
				t.Fatalf("%s still holds %s after the residue audit: %s", name, c.ID, data)
			}
		}
		events, err := s.AuditLog(ctx, retention.AuditQuery{Subject: c.ID, First: 20})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range events {
			found = found || e.Action == retention.AuditCustomerResurrected
		}
		if !found {
			t.Fatalf("no customer.resurrected event for %s: %+v", c.ID, events)
		}
		rec, err := svc.ErasureReceipt(ctx, c.ID)
		if err != nil || len(rec.Entries) != 2 || rec.Entries[1].Trigger != "residue" || !strings.Contains(rec.Entries[1].By, "cdrstore") {
			t.Fatalf("receipt of %s: %+v %v", c.ID, rec, err)
		}
	}
	// The anonymised customers keep their (anonymised) call records: the
	// audit looks at erasures only.
	if ex := exportsOf(t, m, cast.anonymised[0].Subject()); !holdsData(ex["cdrstore"]) {
		t.Fatalf("the audit touched an anonymised customer's call records: %v", ex)
	}
}
