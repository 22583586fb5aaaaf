package plugins_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/connectors/sdk/sdktest"
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
	"github.com/lethe-privacy/lethe/plugins/statdb/statsdb"
)

// Run: cd plugins && go test -run - -bench . -benchtime 200x
// (export figures only: -bench ExportCustomer)
// Each benchmark has a "direct" baseline that calls the store library in
// this process, and a "plugin" variant through the SDK's host side, gRPC
// and the plugin process (what Lethe's connector manager calls), so the
// difference is the cost of the plugin boundary. They live in the plugins
// module because the baseline needs the stores' code, which Lethe itself
// never links.

// launch starts the built-in plugin name (built now, or taken from
// $LETHE_TEST_BIN as `make test` builds it) on the data directory dir.
func launch(b *testing.B, name, dir string) sdk.Client {
	b.Helper()
	bin := filepath.Join(os.Getenv("LETHE_TEST_BIN"), "lethe-"+name)
	if os.Getenv("LETHE_TEST_BIN") == "" {
		bin = filepath.Join(b.TempDir(), "lethe-"+name)
		if out, err := exec.Command("go", "build", "-o", bin, "./"+name).CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
	return sdktest.LaunchIn(b, dir, bin, nil)
}

func BenchmarkDeleteBatch500(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	st, err := cdrdb.Open(ctx, dir, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	c := launch(b, "cdrstore", dir)
	// run deletes 500 freshly seeded customers per iteration with del.
	run := func(b *testing.B, del func(ctx context.Context, acts []sdk.Action) ([]sdk.ActionResult, error)) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			seeds := make([]cdrdb.SeedCustomer, 500)
			acts := make([]sdk.Action, 500)
			for j := range seeds {
				id := fmt.Sprintf("%s-%d-%d", b.Name(), i, j)
				seeds[j] = cdrdb.SeedCustomer{ID: id, Phone: "+49301234567", Count: 3}
				acts[j] = sdk.Action{ID: "del-" + id, Subject: sdk.Subject{CustomerID: id, Phone: "+49301234567"}}
			}
			if err := cdrdb.Seed(ctx, st, seeds, 1, time.Now()); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			rs, err := del(ctx, acts)
			if err != nil || len(rs) != 500 || rs[0].Outcome != sdk.OutcomeDeleted {
				b.Fatalf("delete: %v (%d results)", err, len(rs))
			}
		}
	}
	b.Run("direct", func(b *testing.B) { run(b, st.Delete) })
	b.Run("plugin", func(b *testing.B) { run(b, c.Delete) })
}

// exportStores are the three built-in stores holding the benchmark's
// customer, opened in this process and launched as plugins.
type exportStores struct {
	cdr     *cdrdb.Store
	inv     *invoicedb.Store
	stats   *statsdb.Store
	clients map[string]sdk.Client
}

// seedExport gives one customer 1,000 call records, 12 invoices and 20
// visits.
func seedExport(b *testing.B, sub sdk.Subject) exportStores {
	ctx := context.Background()
	var s exportStores
	dirs := map[string]string{"cdrstore": b.TempDir(), "invoicestore": b.TempDir(), "statdb": b.TempDir()}
	var err error
	if s.cdr, err = cdrdb.Open(ctx, dirs["cdrstore"], ""); err != nil {
		b.Fatal(err)
	}
	if s.inv, err = invoicedb.Open(ctx, dirs["invoicestore"], ""); err != nil {
		b.Fatal(err)
	}
	if s.stats, err = statsdb.Open(ctx, dirs["statdb"], ""); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.cdr.Close(); s.inv.Close(); s.stats.Close() })
	if err := cdrdb.Seed(ctx, s.cdr, []cdrdb.SeedCustomer{{ID: sub.CustomerID, Phone: sub.Phone, Count: 1000}}, 1, time.Now()); err != nil {
		b.Fatal(err)
	}
	if err := invoicedb.Seed(ctx, s.inv, []invoicedb.SeedCustomer{{ID: sub.CustomerID, Name: "Ada Lovelace", Email: sub.Email, Invoices: 12}}, invoicedb.SeedOptions{Seed: 1}); err != nil {
		b.Fatal(err)
	}
	var visits []statsdb.Visit
	for i := range 20 {
		visits = append(visits, statsdb.Visit{VisitID: fmt.Sprintf("bv%d", i), CustomerID: sub.CustomerID, Branch: "Main", Service: "Desk",
			StartedAt: time.Now(), EndedAt: time.Now(), VisitorName: "Ada Lovelace"})
	}
	if err := statsdb.Seed(ctx, s.stats, visits); err != nil {
		b.Fatal(err)
	}
	s.clients = map[string]sdk.Client{}
	for name, dir := range dirs {
		s.clients[name] = launch(b, name, dir)
	}
	return s
}

// BenchmarkExportCustomer exports one customer holding 1,000 call records,
// 12 invoices and 20 visits from the three built-in connectors, one after
// another as Lethe's export does, and reports the median and 95th
// percentile of the whole export: as JSON (the documents declared, with
// size and SHA-256), and as a zip with the 12 invoice PDFs streamed from
// the plugin. "direct" reads the same stores in this process.
func BenchmarkExportCustomer(b *testing.B) {
	ctx := context.Background()
	sub := sdk.Subject{CustomerID: "bench", FirstName: "Ada", LastName: "Lovelace", Email: "bench@example.org", Phone: "+4930555000"}
	s := seedExport(b, sub)
	ids := []string{sub.CustomerID}
	// direct reads what the three stores hold in this process.
	direct := func() (map[string]any, []invoicedb.Invoice, error) {
		cdrs, err := s.cdr.ByCustomers(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		invs, err := s.inv.ByCustomers(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		vs, err := s.stats.ByCustomers(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		return map[string]any{"cdrstore": cdrs, "invoicestore": invs, "statdb": vs}, invs[sub.CustomerID].Invoices, nil
	}
	// export is Lethe's gathering of the three connectors' answers.
	export := func() (map[string]json.RawMessage, []sdk.Document, error) {
		doc := map[string]json.RawMessage{}
		var docs []sdk.Document
		for _, name := range []string{"cdrstore", "invoicestore", "statdb"} {
			exports, err := s.clients[name].Export(ctx, []sdk.Subject{sub})
			if err != nil {
				return nil, nil, err
			}
			for _, x := range exports {
				doc[name] = x.Data
				docs = append(docs, x.Documents...)
			}
		}
		return doc, docs, nil
	}
	b.Run("direct", func(b *testing.B) {
		measure(b, func() (int, error) {
			held, _, err := direct()
			return jsonSize(held, err)
		})
	})
	b.Run("direct-zip", func(b *testing.B) {
		measure(b, func() (int, error) {
			held, invs, err := direct()
			ids := make([]string, len(invs))
			for i, inv := range invs {
				ids[i] = inv.ID
			}
			return zipSize(held, ids, err, func(id string) (io.ReadCloser, error) { return s.inv.OpenDocument(ctx, sub.CustomerID, id) })
		})
	})
	b.Run("plugin", func(b *testing.B) {
		measure(b, func() (int, error) {
			held, docs, err := export()
			if err == nil && len(docs) != 12 {
				err = fmt.Errorf("%d documents declared, want 12", len(docs))
			}
			return jsonSize(held, err)
		})
	})
	b.Run("plugin-zip", func(b *testing.B) {
		measure(b, func() (int, error) {
			held, docs, err := export()
			ids := make([]string, len(docs))
			for i, d := range docs {
				ids[i] = d.ID
			}
			return zipSize(held, ids, err, func(id string) (io.ReadCloser, error) {
				return s.clients["invoicestore"].ReadDocument(ctx, sub.CustomerID, id)
			})
		})
	})
}

// measure runs export b.N times and reports the median and 95th percentile.
func measure(b *testing.B, export func() (int, error)) {
	durations := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		start := time.Now()
		n, err := export()
		durations = append(durations, time.Since(start))
		if err != nil || n < 1000 {
			b.Fatalf("export: %v (%d bytes)", err, n)
		}
	}
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(durations[len(durations)*95/100].Microseconds())/1000, "p95-ms")
}

func jsonSize(held any, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	raw, err := json.Marshal(held)
	return len(raw), err
}

// zipSize writes held as export.json and each document open returns into a
// zip, and counts its bytes.
func zipSize(held any, docs []string, err error, open func(id string) (io.ReadCloser, error)) (int, error) {
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{}
	zw := zip.NewWriter(cw)
	raw, err := json.Marshal(held)
	if err != nil {
		return 0, err
	}
	f, _ := zw.Create("export.json")
	f.Write(raw) //nolint:errcheck // a countingWriter does not fail
	for _, id := range docs {
		r, err := open(id)
		if err != nil {
			return 0, err
		}
		f, _ := zw.Create(id + ".pdf")
		_, err = io.Copy(f, r)
		r.Close()
		if err != nil {
			return 0, err
		}
	}
	return int(cw.n), zw.Close()
}

// countingWriter discards what it is given and counts it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
