// Package exportzip writes a customer's export as a zip: the JSON document
// of retention.Service.ExportCustomer and every document it lists (invoice
// PDFs), streamed from the connector that holds it straight into the
// archive, so no document is ever held whole in memory.
package exportzip

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// DocumentReader opens a document a connector declared in an export
// (implemented by connectors.Manager).
type DocumentReader interface {
	ReadDocument(ctx context.Context, connector, customerID, documentID string) (io.ReadCloser, error)
}

// FileName is the zip's download name: the JSON's name with ".zip".
func FileName(e retention.Export) string {
	return strings.TrimSuffix(e.FileName, ".json") + ".zip"
}

// Write writes the zip to w: the JSON at the top under the export's file
// name, each document at its Path. A document whose bytes do not match the
// size and SHA-256 its connector declared fails the whole archive: Write
// returns the error before writing the zip's central directory, so a
// partial or wrong archive does not open as if complete.
func Write(ctx context.Context, w io.Writer, e retention.Export, docs DocumentReader) error {
	zw := zip.NewWriter(w)
	modified := time.Now().UTC()
	f, err := zw.CreateHeader(&zip.FileHeader{Name: e.FileName, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	if _, err := f.Write(e.Data); err != nil {
		return err
	}
	for _, d := range e.Documents {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeDocument(ctx, zw, e.CustomerID, d, docs, modified); err != nil {
			return fmt.Errorf("document %s of connector %s: %w", d.ID, d.Connector, err)
		}
	}
	return zw.Close()
}

func writeDocument(ctx context.Context, zw *zip.Writer, customerID string, d retention.ExportedDocument, docs DocumentReader, modified time.Time) error {
	r, err := docs.ReadDocument(ctx, d.Connector, customerID, d.ID)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := zw.CreateHeader(&zip.FileHeader{Name: d.Path, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != d.Size || sum != d.SHA256 {
		return fmt.Errorf("read %d bytes with SHA-256 %s, the connector declared %d bytes with %s", n, sum, d.Size, d.SHA256)
	}
	return nil
}
