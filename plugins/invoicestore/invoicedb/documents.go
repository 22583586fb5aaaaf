package invoicedb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// Documents declares the PDF of each invoice, for an export: file name,
// media type, size and SHA-256 of the bytes OpenDocument will return. The
// files are read as a stream, never whole.
func (s *Store) Documents(ctx context.Context, invs []Invoice) ([]sdk.Document, error) {
	out := make([]sdk.Document, 0, len(invs))
	for _, inv := range invs {
		f, err := s.openPDF(ctx, s.DB, inv.File)
		if err != nil {
			return nil, fmt.Errorf("invoice %s: %w", inv.ID, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("invoice %s: %w", inv.ID, err)
		}
		out = append(out, sdk.Document{ID: inv.ID, Name: documentName(inv), MediaType: "application/pdf",
			Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	return out, nil
}

// documentName is "invoice-<number>.pdf" with anything but letters, digits,
// '-' and '_' of the number replaced, so it is a safe file name in a zip.
func documentName(inv Invoice) string {
	num := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, inv.Number)
	if num == "" {
		num = "unnumbered"
	}
	return "invoice-" + num + ".pdf"
}

// OpenDocument opens the PDF of invoice documentID if it belongs to
// customerID: a customer can never read another's invoice by guessing an
// id. sdk.ErrDocumentNotFound otherwise.
func (s *Store) OpenDocument(ctx context.Context, customerID, documentID string) (io.ReadCloser, error) {
	invs, err := s.invoices(ctx, s.DB, []string{customerID})
	if err != nil {
		return nil, err
	}
	for _, inv := range invs {
		if inv.ID != documentID {
			continue
		}
		f, err := s.openPDF(ctx, s.DB, inv.File)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, sdk.ErrDocumentNotFound
		}
		return f, err
	}
	return nil, sdk.ErrDocumentNotFound
}
