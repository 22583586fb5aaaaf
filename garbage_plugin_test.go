package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/exportzip"
	"github.com/lethe-privacy/lethe/retention"
)

// withMisbehaving configures the three built-ins and the SDK test kit's
// misbehaving plugin in mode.
func withMisbehaving(t *testing.T, mode string) func(*Config) {
	return func(cfg *Config) {
		for _, name := range []string{"lethe-cdrstore", "lethe-invoicestore", "lethe-statdb", "misbehave"} {
			path := filepath.Join(binDir, name)
			if name == "misbehave" {
				path = filepath.Join(testPlugins, name)
			}
			sum, err := connectors.FileSHA256(path)
			if err != nil {
				t.Fatal(err)
			}
			p := connectors.PluginConfig{Name: strings.TrimPrefix(name, "lethe-"), Path: path, SHA256: sum}
			if name == "misbehave" {
				p.Settings = connectors.Plain(map[string]string{"mode": mode})
			}
			cfg.Connectors.Connectors = append(cfg.Connectors.Connectors, p)
		}
	}
}

// TestGarbagePluginFailsItsBatch sweeps with a plugin answering garbage
// (results for other subjects, one result too few, outcomes the contract
// does not know, oversized reasons): each batch fails with an error naming
// the plugin and what it broke, no customer is done on the strength of
// its answers, the journal records the other connectors'
// confirmations and nothing done without every confirmation.
func TestGarbagePluginFailsItsBatch(t *testing.T) {
	t.Parallel()
	// Modes whose exports (the residue checks) are garbage too; in the
	// others the plugin's empty exports are true answers.
	badExports := map[string]bool{"other-subject": true, "huge": true}
	for mode, says := range map[string]string{
		"other-subject":   "names customer",
		"wrong-count":     "twice|answered 0 of the 1 actions",
		"unknown-outcome": "has no outcome the contract knows",
		"huge":            "bytes long",
	} {
		t.Run(mode, func(t *testing.T) {
			w := openWorldWith(t, 100, withMisbehaving(t, mode))
			ctx := context.Background()
			if _, err := w.svc.UpdateDataPolicy(ctx, relinquishPolicy); err != nil {
				t.Fatal(err)
			}
			run, err := w.engine.Run(ctx, retention.RunOptions{})
			if err != nil && run.ID == "" {
				t.Fatal(err)
			}
			// Customers with nothing for the garbage plugin to do (CDRs
			// only) may be done; every other one fails.
			if run.CustomersFailed == 0 || run.CustomersDone+run.CustomersFailed != run.CustomersPlanned || run.Status != retention.RunFailed {
				t.Fatalf("run: %+v", run)
			}
			failures, err := w.engine.RunFailures(ctx, run.ID, nil)
			if err != nil || len(failures) != run.CustomersFailed {
				t.Fatalf("failures: %d %v", len(failures), err)
			}
			for _, f := range failures {
				if !strings.Contains(f.Error, `connector "misbehave" broke the contract`) || !containsAny(f.Error, strings.Split(says, "|")) {
					t.Fatalf("failure does not say what the plugin broke: %+v", f)
				}
			}
			w.checkNothingWrong(t)
			var doneWithGarbage, othersConfirmed, misbehaveConfirmed int
			db := w.store.DB()
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM journal_entries e WHERE e.status = 'done'
				AND EXISTS (SELECT 1 FROM journal_actions a WHERE a.entry_id = e.id AND a.connector = 'misbehave' AND a.operation <> 'verify')`).Scan(&doneWithGarbage); err != nil || doneWithGarbage != 0 {
				t.Fatalf("%d customers done on a garbage answer (%v)", doneWithGarbage, err)
			}
			if err := db.QueryRowContext(ctx, `SELECT count(CASE WHEN connector <> 'misbehave' AND status = 'confirmed' THEN 1 END),
				count(CASE WHEN connector = 'misbehave' AND status = 'confirmed' AND (operation <> 'verify' OR ?) THEN 1 END) FROM journal_actions`,
				badExports[mode]).Scan(&othersConfirmed, &misbehaveConfirmed); err != nil {
				t.Fatal(err)
			}
			if othersConfirmed == 0 || misbehaveConfirmed != 0 {
				t.Fatalf("journal: %d actions of the other connectors confirmed, %d of the garbage plugin", othersConfirmed, misbehaveConfirmed)
			}
			t.Logf("%s: %+v; first failure: %s", mode, run, failures[0].Error)
		})
	}
}

// TestEndlessDocumentStream: a plugin that declares a 10-byte document and
// streams it for ever fails the zip export after 11 bytes instead of
// filling the disk or the response.
func TestEndlessDocumentStream(t *testing.T) {
	t.Parallel()
	w := openWorldWith(t, 5, withMisbehaving(t, "endless"))
	ctx := retention.WithActor(context.Background(), retention.Actor{Name: "test", Role: retention.RoleAdmin})
	found, err := w.svc.SearchCustomers(ctx, "", nil, nil)
	if err != nil || len(found.Customers) == 0 {
		t.Fatalf("customers: %v", err)
	}
	export, err := w.svc.ExportCustomer(ctx, found.Customers[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	err = exportzip.Write(ctx, io.Discard, export, w.manager)
	if err == nil || !strings.Contains(err.Error(), "read 11 bytes") || !strings.Contains(err.Error(), "declared 10 bytes") {
		t.Fatalf("endless document: %v", err)
	}
}

func containsAny(s string, parts []string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
