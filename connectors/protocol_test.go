package connectors_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/retention"
)

// A plugin binary built with the first SDK (protocol 1) runs under this
// host: the Manager launches it, the calls protocol 1 has work, and the
// call it lacks fails as CONNECTOR_UNAVAILABLE instead of passing as done.
func TestV1PluginRunsUnderTheV2Host(t *testing.T) {
	t.Parallel()
	m := mustLoad(t, connectors.Config{Connectors: []connectors.PluginConfig{
		pluginConfig(t, "legacy", "v1connector", map[string]string{"customers": "old-1,old-2"}),
	}})
	ctx := context.Background()
	c, err := m.Connector(ctx, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	st := m.Connectors(ctx)
	if len(st) != 1 || !st[0].Healthy || st[0].Info.Version != "1.0.0-v1" {
		t.Fatalf("status %+v", st)
	}
	exports, err := c.Export(ctx, []retention.Subject{{CustomerID: "old-1"}, {CustomerID: "new"}})
	if err != nil || len(exports) != 1 || !bytes.Contains(exports[0].Data, []byte("held since v1")) {
		t.Fatalf("Export: %+v, %v", exports, err)
	}
	results, err := c.Delete(ctx, []retention.Action{{ID: "d1", Subject: retention.Subject{CustomerID: "old-1"}}})
	if err != nil || len(results) != 1 || results[0].Outcome != retention.OutcomeDeleted {
		t.Fatalf("Delete: %+v, %v", results, err)
	}
	if exports, err := c.Export(ctx, []retention.Subject{{CustomerID: "old-1"}}); err != nil || len(exports) != 0 {
		t.Fatalf("Export after delete: %+v, %v", exports, err)
	}
	_, err = c.AnonymiseFields(ctx, []retention.FieldAction{{ID: "f1", Subject: retention.Subject{CustomerID: "old-2"}, Fields: []string{"email"}}})
	if retention.ErrorCode(err) != retention.CodeConnectorUnavailable {
		t.Fatalf("AnonymiseFields on a v1 plugin: %v, want CONNECTOR_UNAVAILABLE", err)
	}
}

// AnonymiseFields reaches each built-in plugin process and drops exactly
// the fields named, for exactly the subject named.
func TestAnonymiseFieldsThroughThePlugins(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connectors.Config{})
	ctx := context.Background()
	subs := []retention.Subject{subject("af1"), subject("af2")}
	subs[1].Email = subs[0].Email // a neighbour sharing the e-mail address
	for name, seed := range w.seeders() {
		if err := seed(ctx, toSDK(subs...)); err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
	}
	before := map[string][]byte{}
	for _, name := range []string{"cdrstore", "invoicestore", "statdb"} {
		exports, err := w.connector(t, name).Export(ctx, subs[1:])
		if err != nil || len(exports) != 1 {
			t.Fatalf("%s export: %v", name, err)
		}
		before[name] = exports[0].Data
	}
	fields := []string{"phone", "email", "custom1"}
	want := map[string]retention.Outcome{"cdrstore": retention.OutcomeAnonymised, "invoicestore": retention.OutcomeAnonymised,
		"statdb": retention.OutcomeAnonymised, "newsletter": retention.OutcomeAnonymised}
	for name, outcome := range want {
		acts := []retention.FieldAction{{ID: "fields-af1", Subject: subs[0], Fields: fields}}
		results, err := w.connector(t, name).AnonymiseFields(ctx, acts)
		if err != nil || len(results) != 1 || results[0].Outcome != outcome {
			t.Errorf("%s AnonymiseFields: %+v, %v; want %s", name, results, err, outcome)
		}
	}

	// The fields are gone where they were held ...
	var cdrs struct {
		CallRecords []struct{ Caller string } `json:"callRecords"`
	}
	if !w.exported(t, "cdrstore", subs[0], &cdrs) || len(cdrs.CallRecords) == 0 {
		t.Error("cdrstore holds no call record of the customer any more")
	}
	for _, r := range cdrs.CallRecords {
		if strings.Contains(r.Caller, subs[0].Phone[4:]) {
			t.Errorf("call record still shows the phone number: %+v", r)
		}
	}
	checkInvoicesForget(t, w, subs[0])
	var visits struct {
		Visits []struct {
			Custom      map[string]string `json:"customFields"`
			VisitorName string            `json:"visitorName"`
		} `json:"visits"`
	}
	if !w.exported(t, "statdb", subs[0], &visits) || len(visits.Visits) == 0 {
		t.Error("statdb holds no visit of the customer any more")
	}
	for _, v := range visits.Visits {
		if v.Custom["custom1"] != "" || v.VisitorName == "" {
			t.Errorf("visit after dropping custom1: %+v (the visitor name must stay)", v)
		}
	}
	// ... and the neighbour sharing the e-mail address is untouched.
	for name, data := range before {
		exports, err := w.connector(t, name).Export(ctx, subs[1:])
		if err != nil || len(exports) != 1 || !bytes.Equal(exports[0].Data, data) {
			t.Errorf("%s: the neighbour changed", name)
		}
	}
}

// checkInvoicesForget: after dropping sub's email, the invoice contact
// keeps the name but not the address, and no invoice PDF prints the
// customer any more.
func checkInvoicesForget(t *testing.T, w *world, sub retention.Subject) {
	t.Helper()
	var held struct {
		Contact *struct {
			Name, Email string
		} `json:"contact"`
		Invoices []struct{ ID string } `json:"invoices"`
	}
	if !w.exported(t, "invoicestore", sub, &held) || held.Contact == nil || held.Contact.Email != "" || held.Contact.Name == "" {
		t.Errorf("invoice contact after dropping email: %+v (the name must stay)", held.Contact)
		return
	}
	exports, err := w.connector(t, "invoicestore").Export(context.Background(), []retention.Subject{sub})
	if err != nil || len(exports) != 1 || len(exports[0].Documents) != len(held.Invoices) {
		t.Fatalf("invoicestore declares %+v for %d invoices (%v)", exports, len(held.Invoices), err)
	}
	for _, d := range exports[0].Documents {
		if text := pdfText(t, w, sub.CustomerID, d.ID); strings.Contains(text, sub.Email) || strings.Contains(text, sub.LastName) {
			t.Errorf("invoice %s still prints the customer", d.ID)
		}
	}
}

func pdfText(t *testing.T, w *world, customerID, documentID string) string {
	t.Helper()
	r, err := w.m.ReadDocument(context.Background(), "invoicestore", customerID, documentID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Each plugin reports the version its build was stamped with (the
// Makefile passes -X main.version), not a placeholder.
func TestPluginsReportTheirBuildVersion(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connectors.Config{})
	for _, st := range w.m.Connectors(context.Background()) {
		if st.Info.Version != testVersion {
			t.Errorf("%s reports version %q, want the stamped %q", st.Info.Name, st.Info.Version, testVersion)
		}
	}
}
