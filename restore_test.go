package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
)

// restoreWorld is a data directory (and on PostgreSQL a database) driven
// only through the real binaries, plus direct access for set-up and checks.
type restoreWorld struct {
	dir, database string
}

func (w restoreWorld) args(cmd string, extra ...string) []string {
	args := []string{cmd, "--data-dir", w.dir}
	if w.database != "" {
		args = append(args, "--database", w.database)
	}
	return append(args, extra...)
}

func (w restoreWorld) connectorDSN(name string) string {
	if w.database == "" {
		return ""
	}
	return store.ConnectorDSN(w.database, name)
}

// connectors starts the built-in plugins on the world's stores, as serve
// does (on PostgreSQL their stores are schemas of Lethe's database).
func (w restoreWorld) connectors(t *testing.T) *connectors.Manager {
	t.Helper()
	cfg := connectors.Config{DataDir: w.dir, PluginDir: binDir}
	if w.database != "" {
		cfg.BuiltinDSN = w.connectorDSN
	}
	m, err := connectors.Load(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// exportsOf asks every connector for a subject; connector → export.
func exportsOf(t *testing.T, m *connectors.Manager, subject retention.Subject) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range m.Names() {
		conn, err := m.Connector(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := conn.Export(context.Background(), []retention.Subject{subject})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res {
			out[name] = string(e.Data)
		}
	}
	return out
}

// restoreCast is who is done what to in the restore scenario.
type restoreCast struct {
	bySweep, byHand, anonymised, untouched []*retention.Customer
}

// setUp creates 200 customers with call records and invoices: 70 due for
// erasure (policy direct), 50 due for anonymisation (cancelled, data
// policy on at 0 days), 30 to delete by hand, 50 left alone.
func (w restoreWorld) setUp(t *testing.T) restoreCast {
	t.Helper()
	ctx := context.Background()
	lethe(t, w.args("migrate")...)
	s, err := store.Open(ctx, store.Config{DataDir: w.dir, Database: w.database})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := retention.NewService(s)
	dp := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 0, AnonymiseCustomerData: true}
	if _, err := svc.UpdateDataPolicy(ctx, dp); err != nil {
		t.Fatal(err)
	}
	var cast restoreCast
	var seed []connectors.SeedCustomer
	for i := range 200 {
		c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp(fmt.Sprintf("Rhea%03d", i)),
			LastName: sp("Restore"), Email: sp(fmt.Sprintf("rhea%03d@restore.test", i)), Phone: sp(fmt.Sprintf("+49 30 555%04d", i))}})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i < 70:
			if _, err := svc.SetCustomerPolicy(ctx, c.ID, retention.PolicyDirect); err != nil {
				t.Fatal(err)
			}
			cast.bySweep = append(cast.bySweep, c)
		case i < 120:
			if _, err := svc.SetCustomerStatus(ctx, c.ID, retention.StatusCancelled, nil); err != nil {
				t.Fatal(err)
			}
			cast.anonymised = append(cast.anonymised, c)
		case i < 150:
			cast.byHand = append(cast.byHand, c)
		default:
			cast.untouched = append(cast.untouched, c)
		}
		seed = append(seed, billing(c, "1 Backup Lane", 2, 1))
	}
	seedStores(t, w.dir, w.database, 1, seed...)
	return cast
}

// backup takes a backup of everything a site backs up: Lethe's database
// (lethe backup on SQLite, pg_dump on PostgreSQL) and the connectors'
// stores (files on SQLite; schemas of the same dump on PostgreSQL). The
// ledger directory is not backed up: that is the point.
func (w restoreWorld) backup(t *testing.T, to string) {
	t.Helper()
	if w.database != "" {
		runTool(t, "pg_dump", "--format=custom", "--file", filepath.Join(to, "lethe.dump"), "--dbname", w.database)
		return
	}
	out := lethe(t, w.args("backup", "--out", filepath.Join(to, "lethe.db"))...)
	if !strings.Contains(out, "erasure ledger position it holds: 0") {
		t.Fatalf("backup output: %s", out)
	}
	runTool(t, "cp", "-a", filepath.Join(w.dir, "connectors"), filepath.Join(to, "connectors"))
}

// restore puts the backup back (every lethe process stopped).
func (w restoreWorld) restore(t *testing.T, from string) string {
	t.Helper()
	if w.database != "" {
		// As docs/operations-backup.md says: a new, empty database, then
		// pg_restore into it (--clean leaves what was created after the
		// dump, such as a connector's tables).
		u, err := url.Parse(w.database)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(u.Path, "/")
		u.Path = "/postgres"
		runTool(t, "psql", "--dbname", u.String(), "-c", "DROP DATABASE "+name+" WITH (FORCE)", "-c", "CREATE DATABASE "+name)
		runTool(t, "pg_restore", "--single-transaction", "--dbname", w.database, filepath.Join(from, "lethe.dump"))
		return ""
	}
	out := lethe(t, w.args("restore", filepath.Join(from, "lethe.db"))...)
	runTool(t, "rm", "-rf", filepath.Join(w.dir, "connectors"))
	runTool(t, "cp", "-a", filepath.Join(from, "connectors"), filepath.Join(w.dir, "connectors"))
	return out
}

func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// TestRestoreReappliesErasuresBeforeServing is the issue's first "done
// when": back up; erase 100 customers (70 by a sweep, 30 by hand) and
// anonymise 50; restore the backup; start → before the first customer read
// is answered, all 150 are relinquished again in Lethe and in every
// connector's store, each with a receipt saying it was re-applied after a
// restore; the other customers are untouched.
func TestRestoreReappliesErasuresBeforeServing(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, database string) {
		ctx := context.Background()
		w := restoreWorld{dir: t.TempDir(), database: database}
		cast := w.setUp(t)
		backupDir := t.TempDir()
		w.backup(t, backupDir)

		out := lethe(t, w.args("sweep")...)
		if !strings.Contains(out, "done 120") {
			t.Fatalf("the sweep did not relinquish the 70 + 50 due customers: %s", out)
		}
		srv := startServe(t, w.dir, w.serveArgs()...)
		for _, c := range cast.byHand {
			res := srv.post(`mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": c.ID})
			if res["errors"] != nil {
				t.Fatalf("delete %s: %v", c.ID, res["errors"])
			}
		}
		stopServe(t, srv)
		if n := ledgerLines(t, w.dir); n != 150 {
			t.Fatalf("the ledger holds %d records after 150 relinquishings", n)
		}

		w.restore(t, backupDir)
		m := w.connectors(t)
		for _, c := range cast.bySweep[:3] { // the restore brought them back
			if ex := exportsOf(t, m, c.Subject()); !holdsData(ex["cdrstore"]) {
				t.Fatalf("the restored call records do not hold %s: %v", c.ID, ex)
			}
		}
		m.Close()

		srv = startServe(t, w.dir, w.serveArgs()...)
		// The very first request that reads customers.
		first := srv.post(`query($id: ID!) { customer(id: $id) { firstName email anonymisedAt } }`, map[string]any{"id": cast.bySweep[0].ID})
		if strings.Contains(fmt.Sprint(first), *cast.bySweep[0].Email) {
			t.Fatalf("the first read after the restore answered with erased data: %v", first)
		}
		if !strings.Contains(srv.log, "erasure ledger re-applied") || strings.Index(srv.log, "erasure ledger re-applied") > strings.Index(srv.log, "lethe serving") {
			t.Fatalf("serve did not re-apply the ledger before serving:\n%s", srv.log)
		}
		metricsText := srv.get(t, "/metrics")
		if !strings.Contains(metricsText, "lethe_ledger_reapplied_total 150") {
			t.Fatalf("metric lethe_ledger_reapplied_total is not 150:\n%s", grepLines(metricsText, "lethe_ledger"))
		}
		stopServe(t, srv)
		w.checkReapplied(ctx, t, cast)
	})
}

func (w restoreWorld) serveArgs() []string {
	if w.database == "" {
		return nil
	}
	return []string{"--database", w.database}
}

// checkReapplied asserts that the 150 are relinquished again everywhere,
// with receipts that say why, and that the others kept everything.
func (w restoreWorld) checkReapplied(ctx context.Context, t *testing.T, cast restoreCast) {
	t.Helper()
	s, err := store.Open(ctx, store.Config{DataDir: w.dir, Database: w.database})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := retention.NewService(s)
	m := w.connectors(t)
	defer m.Close()
	erased := append(append([]*retention.Customer{}, cast.bySweep...), cast.byHand...)
	for _, c := range erased {
		got, err := s.Customer(ctx, c.ID)
		if err != nil || got.ErasedAt == nil || got.Email != nil {
			t.Fatalf("%s is not erased again after the restore: %+v %v", c.ID, got, err)
		}
		for name, data := range exportsOf(t, m, c.Subject()) {
			if holdsData(data) {
				t.Fatalf("%s still holds erased customer %s after the restore: %s", name, c.ID, data)
			}
		}
		checkRestoreReceipt(ctx, t, svc, c.ID)
	}
	for _, c := range cast.anonymised {
		got, err := s.Customer(ctx, c.ID)
		if err != nil || got.AnonymisedAt == nil || got.Email != nil || got.FirstName != nil || got.ErasedAt != nil {
			t.Fatalf("%s is not anonymised again after the restore: %+v %v", c.ID, got, err)
		}
		for name, data := range exportsOf(t, m, c.Subject()) {
			if strings.Contains(data, *c.Email) || strings.Contains(data, *c.FirstName) {
				t.Fatalf("%s still holds the contact data of anonymised customer %s: %s", name, c.ID, data)
			}
		}
		checkRestoreReceipt(ctx, t, svc, c.ID)
	}
	for _, c := range cast.untouched {
		got, err := s.Customer(ctx, c.ID)
		if err != nil || got.ErasedAt != nil || got.AnonymisedAt != nil || got.Email == nil || *got.Email != *c.Email {
			t.Fatalf("%s was touched by the re-application: %+v %v", c.ID, got, err)
		}
		ex := exportsOf(t, m, c.Subject())
		if !holdsData(ex["cdrstore"]) || !strings.Contains(ex["invoicestore"], *c.Email) {
			t.Fatalf("the connectors lost untouched customer %s: %v", c.ID, ex)
		}
	}
	pos, err := s.LedgerPosition(ctx)
	if err != nil || pos.Seq != 150 {
		t.Fatalf("the database's ledger position after catching up: %+v %v", pos, err)
	}
	events, err := s.AuditLog(ctx, retention.AuditQuery{First: 50})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		found = found || e.Action == retention.AuditLedgerReapply
	}
	if !found {
		t.Fatal("no ledger.reapply event in the audit log")
	}
}

func checkRestoreReceipt(ctx context.Context, t *testing.T, svc *retention.Service, id string) {
	t.Helper()
	rec, err := svc.ErasureReceipt(ctx, id)
	if err != nil || len(rec.Entries) != 1 || rec.Entries[0].Trigger != "restore" || !strings.Contains(rec.Entries[0].By, "re-applied after a restore") {
		t.Fatalf("receipt of %s: %+v %v", id, rec, err)
	}
	for _, c := range rec.Entries[0].Connectors {
		if rec.Entries[0].Kind == retention.ActionErase && c.Residue != "clean" {
			t.Fatalf("receipt of %s: connector %s residue check %q", id, c.Connector, c.Residue)
		}
	}
}

// ledgerLines counts the ledger's records.
func ledgerLines(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "ledger", "erasures.ledger"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func stopServe(t *testing.T, srv *served) {
	t.Helper()
	srv.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	select {
	case <-srv.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func (s *served) get(t *testing.T, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTamperedLedgerStopsTheStart: editing, deleting, reordering or
// truncating lines of the ledger stops `lethe serve` (and migrate) with an
// error naming the line; the untouched ledger starts.
func TestTamperedLedgerStopsTheStart(t *testing.T) {
	t.Parallel()
	w := restoreWorld{dir: t.TempDir()}
	w.setUp(t)
	lethe(t, w.args("sweep")...)
	path := filepath.Join(w.dir, "ledger", "erasures.ledger")
	pristine, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(pristine), "\n")
	lines = lines[:len(lines)-1] // the empty string after the last newline
	if len(lines) != 120 {
		t.Fatalf("the sweep appended %d records, want 120", len(lines))
	}
	cases := []struct {
		name, line string
		tamper     func(ls []string) []string
	}{
		{"edit", "line 10", func(ls []string) []string {
			ls[9] = strings.Replace(ls[9], `"customer":"`, `"customer":"x`, 1) // every record has one
			return ls
		}},
		{"delete", "line 50", func(ls []string) []string { return append(ls[:49:49], ls[50:]...) }},
		{"reorder", "line 7", func(ls []string) []string {
			ls[6], ls[7] = ls[7], ls[6]
			return ls
		}},
		// A chain verifies when lines are cut from its end: the database's
		// position (120) tells.
		{"truncate", "line 119", func(ls []string) []string { return ls[:118] }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ls := tc.tamper(append([]string{}, lines...))
			tampered := strings.Join(ls, "")
			if tampered == string(pristine) {
				t.Fatal("the tampering changed nothing")
			}
			if err := os.WriteFile(path, []byte(tampered), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range []string{"serve", "migrate"} {
				args := w.args(cmd)
				if cmd == "serve" {
					args = append(args, "--listen", "127.0.0.1:0", "--sweep=false")
				}
				// A serve that starts after all is killed, and fails the test,
				// instead of serving for ever.
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				c := exec.CommandContext(ctx, filepath.Join(binDir, "lethe"), args...)
				c.WaitDelay = 5 * time.Second // plugin children may hold the output open
				out, err := c.CombinedOutput()
				if err == nil || !strings.Contains(string(out), "does not verify at "+tc.line) {
					t.Fatalf("%s with a ledger tampered by %s: %v\n%s", cmd, tc.name, err, out)
				}
			}
		})
	}
	os.WriteFile(path, pristine, 0o600) //nolint:errcheck
	if out := lethe(t, w.args("migrate")...); !strings.Contains(out, "up to date") {
		t.Fatalf("migrate with the pristine ledger: %s", out)
	}
}
