package invoicedb

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Rendering a PDF with fpdf costs about a millisecond; the demo seeds a
// hundred thousand invoices. A Template is an fpdf invoice rendered once
// with fixed-width placeholder text; filling it overwrites the placeholders
// in place, so every offset in the xref table stays right and the result is
// as valid as the template. Only printable ASCII is kept (others become
// '?'), and values are cut to the field width: good for demo data, which is
// why real invoices use Render.

const (
	nameWidth   = 48
	emailWidth  = 48
	numberWidth = 16
	dateWidth   = 10
	moneyWidth  = 20
)

type field struct {
	key   byte
	width int
}

var fields = []field{{'N', nameWidth}, {'E', emailWidth}, {'A', nameWidth}, {'U', numberWidth}, {'D', dateWidth}, {'M', moneyWidth}}

func placeholder(f field) string {
	return "{" + strings.Repeat(string(f.key), f.width-2) + "}"
}

// Template is a pre-rendered invoice with placeholders.
type Template struct {
	pdf     []byte
	offsets map[byte][]int
}

var templates sync.Map // pages -> *Template

// TemplateFor returns the template for invoices of the given page count.
func TemplateFor(pages int) (*Template, error) {
	pages = max(pages, 1)
	if t, ok := templates.Load(pages); ok {
		return t.(*Template), nil
	}
	ph := map[byte]string{}
	for _, f := range fields {
		ph[f.key] = placeholder(f)
	}
	pdf, err := renderText(invoiceText{
		Number: ph['U'], Date: ph['D'], Amount: ph['M'], Name: ph['N'], Email: ph['E'], Address: ph['A'],
	}, pages, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return nil, err
	}
	t := &Template{pdf: pdf, offsets: map[byte][]int{}}
	for _, f := range fields {
		p := []byte(ph[f.key])
		for i := 0; ; {
			j := bytes.Index(pdf[i:], p)
			if j < 0 {
				break
			}
			t.offsets[f.key] = append(t.offsets[f.key], i+j)
			i += j + len(p)
		}
		if len(t.offsets[f.key]) == 0 {
			return nil, fmt.Errorf("invoice template: placeholder %c not found", f.key)
		}
	}
	templates.Store(pages, t)
	return t, nil
}

// Fill returns the template with values written into its placeholders.
func (t *Template) Fill(inv Invoice, name, email, address string) []byte {
	out := bytes.Clone(t.pdf)
	values := map[byte]string{
		'N': name, 'E': email, 'A': address, 'U': inv.Number,
		'D': inv.IssuedAt.Format("2006-01-02"), 'M': money(inv.AmountCents, inv.Currency),
	}
	for _, f := range fields {
		v := pad(values[f.key], f.width)
		for _, off := range t.offsets[f.key] {
			copy(out[off:off+f.width], v)
		}
	}
	return out
}

// pad makes s exactly width bytes of PDF-string-safe ASCII.
func pad(s string, width int) []byte {
	b := make([]byte, 0, width)
	for _, r := range s {
		if len(b) == width {
			break
		}
		if r < 0x20 || r > 0x7e || r == '(' || r == ')' || r == '\\' {
			r = '?'
		}
		b = append(b, byte(r))
	}
	for len(b) < width {
		b = append(b, ' ')
	}
	return b
}
