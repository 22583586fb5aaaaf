package connectors_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/exportzip"
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
	"github.com/lethe-privacy/lethe/plugins/statdb/statsdb"
	"github.com/lethe-privacy/lethe/retention"
)

// Run: go test ./connectors -run - -bench . -benchtime 200x
// (export figures only: go test ./connectors -run - -bench ExportCustomer -benchtime 200x)
// Each benchmark has a "direct" baseline that calls the store library in
// this process, and a "plugin" variant through the Manager, gRPC and the
// plugin process, so the difference is the cost of the plugin boundary.

func BenchmarkDeleteBatch500(b *testing.B) {
	w := newWorld(b, connectors.Config{Connectors: []connectors.PluginConfig{pluginConfig(b, "cdrstore", "lethe-cdrstore", nil)}})
	c := w.connector(b, "cdrstore")
	ctx := context.Background()
	// del deletes 500 seeded customers and returns the first outcome and
	// the number of results.
	run := func(b *testing.B, del func(subs []retention.Subject) (string, int, error)) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			subs := make([]retention.Subject, 500)
			for j := range subs {
				subs[j] = retention.Subject{CustomerID: fmt.Sprintf("%s-%d-%d", b.Name(), i, j), Phone: "+49301234567"}
			}
			if err := cdrdb.Seed(ctx, w.cdr, seedCustomers(toSDK(subs...), 3), 1, time.Now()); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			outcome, n, err := del(subs)
			if err != nil || n != 500 || outcome != string(retention.OutcomeDeleted) {
				b.Fatalf("delete: %v (%d results)", err, n)
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		run(b, func(subs []retention.Subject) (string, int, error) {
			acts := make([]sdk.Action, len(subs))
			for j, s := range toSDK(subs...) {
				acts[j] = sdk.Action{ID: "del-" + s.CustomerID, Subject: s}
			}
			rs, err := w.cdr.Delete(ctx, acts)
			if err != nil {
				return "", 0, err
			}
			return string(rs[0].Outcome), len(rs), nil
		})
	})
	b.Run("plugin", func(b *testing.B) {
		run(b, func(subs []retention.Subject) (string, int, error) {
			acts := make([]retention.Action, len(subs))
			for j, s := range subs {
				acts[j] = retention.Action{ID: "del-" + s.CustomerID, Subject: s}
			}
			rs, err := c.Delete(ctx, acts)
			if err != nil {
				return "", 0, err
			}
			return string(rs[0].Outcome), len(rs), nil
		})
	})
}

// BenchmarkExportCustomer exports one customer holding 1,000 call records,
// 12 invoices and 20 visits from the three built-in connectors, one after
// another as Lethe's export does, and reports the median and 95th
// percentile of the whole export: as JSON (the documents declared, with
// size and SHA-256), and as a zip with the 12 invoice PDFs streamed from
// the plugin. "direct" reads the same stores in this process.
func BenchmarkExportCustomer(b *testing.B) {
	w := newWorld(b, connectors.Config{Connectors: allPlugins(b)[:3]})
	ctx := context.Background()
	sub := subject("bench")
	if err := cdrdb.Seed(ctx, w.cdr, []cdrdb.SeedCustomer{{ID: sub.CustomerID, Phone: sub.Phone, Count: 1000}}, 1, time.Now()); err != nil {
		b.Fatal(err)
	}
	if err := invoicedb.Seed(ctx, w.inv, []invoicedb.SeedCustomer{{ID: sub.CustomerID, Name: "Ada Lovelace", Email: sub.Email, Invoices: 12}}, invoicedb.SeedOptions{Seed: 1}); err != nil {
		b.Fatal(err)
	}
	var visits []statsdb.Visit
	for i := range 20 {
		visits = append(visits, statsdb.Visit{VisitID: fmt.Sprintf("bv%d", i), CustomerID: sub.CustomerID, Branch: "Main", Service: "Desk",
			StartedAt: time.Now(), EndedAt: time.Now(), VisitorName: "Ada Lovelace"})
	}
	if err := statsdb.Seed(ctx, w.stats, visits); err != nil {
		b.Fatal(err)
	}
	subs := []retention.Subject{sub}
	ids := []string{sub.CustomerID}

	measure := func(b *testing.B, export func() (int, error)) {
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
	b.Run("direct", func(b *testing.B) {
		measure(b, func() (int, error) {
			total := 0
			cdrs, err := w.cdr.ByCustomers(ctx, ids)
			if err != nil {
				return 0, err
			}
			invs, err := w.inv.ByCustomers(ctx, ids)
			if err != nil {
				return 0, err
			}
			vs, err := w.stats.ByCustomers(ctx, ids)
			if err != nil {
				return 0, err
			}
			for _, v := range []any{cdrs, invs, vs} {
				raw, err := json.Marshal(v)
				if err != nil {
					return 0, err
				}
				total += len(raw)
			}
			return total, nil
		})
	})
	b.Run("direct-zip", func(b *testing.B) {
		measure(b, func() (int, error) {
			cw := &countingWriter{}
			zw := zip.NewWriter(cw)
			held := map[string]any{}
			cdrs, err := w.cdr.ByCustomers(ctx, ids)
			if err != nil {
				return 0, err
			}
			invs, err := w.inv.ByCustomers(ctx, ids)
			if err != nil {
				return 0, err
			}
			vs, err := w.stats.ByCustomers(ctx, ids)
			if err != nil {
				return 0, err
			}
			held["cdrstore"], held["invoicestore"], held["statdb"] = cdrs, invs, vs
			raw, err := json.Marshal(held)
			if err != nil {
				return 0, err
			}
			f, _ := zw.Create("export.json")
			f.Write(raw) //nolint:errcheck
			for _, inv := range invs[sub.CustomerID].Invoices {
				r, err := w.inv.OpenDocument(ctx, sub.CustomerID, inv.ID)
				if err != nil {
					return 0, err
				}
				f, _ := zw.Create(inv.ID + ".pdf")
				_, err = io.Copy(f, r)
				r.Close()
				if err != nil {
					return 0, err
				}
			}
			return int(cw.n), zw.Close()
		})
	})
	handles := []retention.Connector{w.connector(b, "cdrstore"), w.connector(b, "invoicestore"), w.connector(b, "statdb")}
	names := []string{"cdrstore", "invoicestore", "statdb"}
	// export is Lethe's gathering of the three connectors' answers.
	export := func() (retention.Export, error) {
		doc := map[string]json.RawMessage{}
		e := retention.Export{CustomerID: sub.CustomerID, FileName: "Ada_Lovelace.json"}
		for i, c := range handles {
			exports, err := c.Export(ctx, subs)
			if err != nil {
				return e, err
			}
			for _, x := range exports {
				doc[names[i]] = x.Data
				for _, d := range x.Documents {
					e.Documents = append(e.Documents, retention.ExportedDocument{Connector: names[i], ID: d.ID, Name: d.Name,
						MediaType: d.MediaType, Size: d.Size, SHA256: d.SHA256, Path: "documents/" + names[i] + "/" + d.Name})
				}
			}
		}
		var err error
		e.Data, err = json.Marshal(doc)
		return e, err
	}
	b.Run("plugin", func(b *testing.B) {
		measure(b, func() (int, error) {
			e, err := export()
			if err == nil && len(e.Documents) != 12 {
				err = fmt.Errorf("%d documents declared, want 12", len(e.Documents))
			}
			return len(e.Data), err
		})
	})
	b.Run("plugin-zip", func(b *testing.B) {
		measure(b, func() (int, error) {
			e, err := export()
			if err != nil {
				return 0, err
			}
			cw := &countingWriter{}
			err = exportzip.Write(ctx, cw, e, w.m)
			return int(cw.n), err
		})
	})
}

// countingWriter discards what it is given and counts it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
