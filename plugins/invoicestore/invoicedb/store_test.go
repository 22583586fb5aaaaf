package invoicedb_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
)

func mustOpen(t *testing.T, dsn string) *invoicedb.Store {
	t.Helper()
	st, err := invoicedb.Open(context.Background(), t.TempDir(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestRenderedInvoiceIsValidAndNamed(t *testing.T) {
	for _, pages := range []int{1, 3} {
		inv := invoicedb.Invoice{Number: "2026-00000042", IssuedAt: time.Now(), AmountCents: 12345, Currency: "EUR", Pages: pages}
		pdf, err := invoicedb.Render(inv, "Ada Lovelace", "ada@example.org", "1 Analytical St")
		if err != nil {
			t.Fatal(err)
		}
		n, err := checkPDF(pdf)
		if err != nil {
			t.Fatalf("rendered invoice is not a valid PDF: %v", err)
		}
		if n != pages || invoicedb.PageCount(pdf) != pages {
			t.Errorf("rendered %d pages (PageCount %d), want %d", n, invoicedb.PageCount(pdf), pages)
		}
		if !bytes.Contains(pdfText(pdf), []byte("Ada Lovelace")) {
			t.Error("rendered invoice does not show the customer's name")
		}
		// The fast template path must give an equally valid file.
		tpl, err := invoicedb.TemplateFor(pages)
		if err != nil {
			t.Fatal(err)
		}
		fast := tpl.Fill(inv, "Grace (Hopper) \\ Ünïcode", "grace@example.org", "Navy Yard")
		if _, err := checkPDF(fast); err != nil {
			t.Fatalf("template invoice is not a valid PDF: %v", err)
		}
		if !bytes.Contains(fast, []byte("Grace ?Hopper? ? ?n?code")) || !bytes.Contains(fast, []byte("123.45 EUR")) {
			t.Error("template invoice lacks the filled-in name or amount")
		}
	}
}

// TestAnonymiseReplacesPDFsWithBlankOnes runs on the embedded archive
// (files) and on PostgreSQL, where the PDFs are rows of the same database and
// nothing is written to the data directory.
func TestAnonymiseReplacesPDFsWithBlankOnes(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { testAnonymiseAndDelete(t, "") })
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("LETHE_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("set LETHE_TEST_POSTGRES_DSN to test the PostgreSQL archive")
		}
		testAnonymiseAndDelete(t, dsn)
	})
}

func testAnonymiseAndDelete(t *testing.T, dsn string) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := invoicedb.Open(ctx, dir, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id := "c-1-" + time.Now().Format("150405.000000000")
	cust := invoicedb.SeedCustomer{ID: id, Name: "Ada Lovelace", Email: "ada@example.org", Address: "1 Analytical St", Invoices: 4}
	if err := invoicedb.Seed(ctx, st, []invoicedb.SeedCustomer{cust}, invoicedb.SeedOptions{Seed: 7}); err != nil {
		t.Fatal(err)
	}
	held, err := st.ByCustomers(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	invs := held[id].Invoices
	if len(invs) != 4 {
		t.Fatalf("seeded %d invoices, want 4", len(invs))
	}
	pagesBefore := map[string]int{}
	for _, inv := range invs {
		pdf, err := st.ReadPDF(ctx, inv.File)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(pdfText(pdf), []byte("Ada Lovelace")) {
			t.Fatalf("seeded invoice %s does not carry the name; the test would prove nothing", inv.ID)
		}
		pagesBefore[inv.ID], _ = checkPDF(pdf)
	}

	action := sdk.Action{ID: id + "-a-1", Subject: sdk.Subject{CustomerID: id}}
	res, err := st.Anonymise(ctx, []sdk.Action{action})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != sdk.OutcomeAnonymised || res[0].Records != 5 {
		t.Fatalf("anonymise: %+v, want ANONYMISED of 4 invoices + 1 contact", res[0])
	}
	for _, inv := range invs {
		pdf, err := st.ReadPDF(ctx, inv.File)
		if err != nil {
			t.Fatal(err)
		}
		pages, err := checkPDF(pdf)
		if err != nil {
			t.Fatalf("blanked invoice %s is not a valid PDF: %v", inv.ID, err)
		}
		if pages != pagesBefore[inv.ID] {
			t.Errorf("blanked invoice %s has %d pages, the original had %d", inv.ID, pages, pagesBefore[inv.ID])
		}
		text := pdfText(pdf)
		for _, s := range []string{"Ada", "Lovelace", "ada@example.org", "Analytical", inv.Number} {
			if bytes.Contains(text, []byte(s)) {
				t.Errorf("blanked invoice %s still contains %q", inv.ID, s)
			}
		}
	}
	held, _ = st.ByCustomers(ctx, []string{id})
	if c := held[id].Contact; c == nil || c.Name != "" || c.Email != "" || c.Address != "" || !c.Anonymised {
		t.Errorf("contact after anonymise: %+v", c)
	}

	// Delete removes files and rows; deleting again finds nothing.
	res, err = st.Delete(ctx, []sdk.Action{{ID: id + "-d-1", Subject: action.Subject}})
	if err != nil || res[0].Outcome != sdk.OutcomeDeleted {
		t.Fatalf("delete: %+v %v", res, err)
	}
	for _, inv := range invs {
		if _, err := st.ReadPDF(ctx, inv.File); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("invoice PDF %s survived delete (%v)", inv.File, err)
		}
	}
	res, err = st.Delete(ctx, []sdk.Action{{ID: id + "-d-2", Subject: action.Subject}})
	if err != nil || res[0].Outcome != sdk.OutcomeNotFound {
		t.Fatalf("second delete: %+v %v", res, err)
	}
	if dsn != "" {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("the PostgreSQL archive wrote to its data directory: %v", entries)
		}
	}
}

func TestCategoriesLimitTheAction(t *testing.T) {
	ctx := context.Background()
	st := mustOpen(t, "")
	if err := invoicedb.Seed(ctx, st, []invoicedb.SeedCustomer{{ID: "c-2", Name: "N", Email: "e", Invoices: 2}}, invoicedb.SeedOptions{Fast: true}); err != nil {
		t.Fatal(err)
	}
	res, err := st.Delete(ctx, []sdk.Action{{ID: "x", Subject: sdk.Subject{CustomerID: "c-2"}, Categories: []string{sdk.CategoryContact}}})
	if err != nil || res[0].Records != 1 {
		t.Fatalf("contact-only delete: %+v %v", res, err)
	}
	held, _ := st.ByCustomers(ctx, []string{"c-2"})
	if h := held["c-2"]; h.Contact != nil || len(h.Invoices) != 2 {
		t.Errorf("after contact-only delete: contact %v, %d invoices; want none and 2", h.Contact, len(h.Invoices))
	}
}

func TestPostgres(t *testing.T) {
	dsn := os.Getenv("LETHE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set LETHE_TEST_POSTGRES_DSN (e.g. postgres://user:pw@localhost:5432/lethe_test) to test the PostgreSQL index")
	}
	ctx := context.Background()
	st := mustOpen(t, dsn)
	id := "pg-" + time.Now().Format("150405.000000")
	if err := invoicedb.Seed(ctx, st, []invoicedb.SeedCustomer{{ID: id, Name: "Pg Person", Email: "pg@example.org", Invoices: 2}}, invoicedb.SeedOptions{Fast: true}); err != nil {
		t.Fatal(err)
	}
	res, err := st.Anonymise(ctx, []sdk.Action{{ID: id + "-a", Subject: sdk.Subject{CustomerID: id}}})
	if err != nil || res[0].Outcome != sdk.OutcomeAnonymised || res[0].Records != 3 {
		t.Fatalf("anonymise on postgres: %+v %v", res, err)
	}
	res, err = st.Delete(ctx, []sdk.Action{{ID: id + "-d", Subject: sdk.Subject{CustomerID: id}}})
	if err != nil || res[0].Outcome != sdk.OutcomeDeleted {
		t.Fatalf("delete on postgres: %+v %v", res, err)
	}
	held, err := st.ByCustomers(ctx, []string{id})
	if err != nil || held[id] != nil {
		t.Fatalf("after delete on postgres: %+v %v", held[id], err)
	}
}
