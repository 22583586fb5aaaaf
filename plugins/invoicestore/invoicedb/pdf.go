package invoicedb

import (
	"bytes"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/go-pdf/fpdf"
)

// Invoice is one archived invoice; its PDF lives in a file under the
// store's data directory.
type Invoice struct {
	ID           string    `json:"id"`
	CustomerID   string    `json:"customerId"`
	Number       string    `json:"number"`
	IssuedAt     time.Time `json:"issuedAt"`
	AmountCents  int64     `json:"amountCents"`
	Currency     string    `json:"currency"`
	Pages        int       `json:"pages"`
	CustomerName string    `json:"customerName"`
	File         string    `json:"-"` // a path inside the archive; exports declare the PDF as a document instead
	Anonymised   bool      `json:"anonymised"`
}

// Render draws an invoice PDF addressed to name/email. Compression is off:
// invoice PDFs are small, and plain content streams let the anonymise test
// (and an auditor with grep) see that a blanked file holds no name.
// Invoices with pages > 1 carry an itemised call list on the extra pages.
func Render(inv Invoice, name, email, address string) ([]byte, error) {
	return renderText(invoiceText{
		Number: inv.Number, Date: inv.IssuedAt.Format("2006-01-02"), Amount: money(inv.AmountCents, inv.Currency),
		Name: name, Email: email, Address: address,
	}, inv.Pages, inv.IssuedAt)
}

// invoiceText is every variable text of an invoice, already formatted.
type invoiceText struct {
	Number, Date, Amount, Name, Email, Address string
}

func renderText(t invoiceText, pages int, created time.Time) ([]byte, error) {
	pdf := newPDF(created)
	pages = max(pages, 1)
	for p := range pages {
		pdf.AddPage()
		pdf.SetFont("Helvetica", "B", 18)
		pdf.Cell(0, 12, "Invoice "+t.Number)
		pdf.Ln(14)
		pdf.SetFont("Helvetica", "", 11)
		if p == 0 {
			for _, line := range []string{t.Name, t.Email, t.Address, "", "Date: " + t.Date} {
				pdf.Cell(0, 6, line)
				pdf.Ln(6)
			}
			pdf.Ln(6)
			pdf.Cell(120, 7, "Telephony services")
			pdf.Cell(0, 7, t.Amount)
			pdf.Ln(12)
			pdf.SetFont("Helvetica", "B", 12)
			pdf.Cell(120, 7, "Total")
			pdf.Cell(0, 7, t.Amount)
		} else {
			pdf.Cell(0, 6, fmt.Sprintf("Itemised calls, page %d of %d", p, pages-1))
			pdf.Ln(8)
			for i := range 30 {
				pdf.Cell(0, 5, fmt.Sprintf("call %03d", p*30+i))
				pdf.Ln(5)
			}
		}
	}
	return output(pdf)
}

func newPDF(created time.Time) *fpdf.Fpdf {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	// Fixed dates make the same invoice render to the same bytes.
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	return pdf
}

func output(pdf *fpdf.Fpdf) ([]byte, error) {
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func money(cents int64, currency string) string {
	return fmt.Sprintf("%d.%02d %s", cents/100, cents%100, currency)
}

var blanks sync.Map // pages -> []byte; a blank PDF depends only on its page count

// Blank returns a valid PDF of empty A4 pages: what an anonymised invoice is
// replaced with, so archive tooling that expects a document (and its page
// count) keeps working.
func Blank(pages int) ([]byte, error) {
	pages = max(pages, 1)
	if b, ok := blanks.Load(pages); ok {
		return b.([]byte), nil
	}
	pdf := newPDF(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	for range pages {
		pdf.AddPage()
	}
	b, err := output(pdf)
	if err != nil {
		return nil, err
	}
	blanks.Store(pages, b)
	return b, nil
}

var pageObj = regexp.MustCompile(`/Type\s*/Page[^s]`)

// PageCount counts the page objects of a PDF written without object
// streams (as fpdf writes them). Anonymise uses it so a blank copy has as
// many pages as the file on disk, whatever the index says.
func PageCount(pdf []byte) int {
	return len(pageObj.FindAllIndex(pdf, -1))
}
