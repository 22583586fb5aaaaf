package retention

import "testing"

// Document paths in a zip export come from connector and document names a
// plugin chose: they must stay inside documents/<connector>/ and never
// collide.
func TestDocumentPathsAreSafeAndUnique(t *testing.T) {
	taken := map[string]bool{}
	for _, tc := range []struct{ connector, name, want string }{
		{"invoicestore", "invoice-2026-03.pdf", "documents/invoicestore/invoice-2026-03.pdf"},
		{"invoicestore", "invoice-2026-03.pdf", "documents/invoicestore/invoice-2026-03-2.pdf"},
		{"invoicestore", "../../etc/passwd", "documents/invoicestore/_.._etc_passwd"},
		{"invoicestore", "..", "documents/invoicestore/document"},
		{"x/../y", "a b.pdf", "documents/xy/a_b.pdf"},
	} {
		if got := uniquePath(taken, documentPath(tc.connector, tc.name)); got != tc.want {
			t.Errorf("documentPath(%q, %q) = %q, want %q", tc.connector, tc.name, got, tc.want)
		}
	}
}
