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
	// The first document is opened before anything is written, so that a
	// connector that cannot serve it fails the export while the caller can
	// still answer with an error status instead of a broken download.
	var first io.ReadCloser
	if len(e.Documents) > 0 {
		d := e.Documents[0]
		r, err := docs.ReadDocument(ctx, d.Connector, e.CustomerID, d.ID)
		if err != nil {
			return &NotStartedError{fmt.Errorf("document %s of connector %s: %w", d.ID, d.Connector, err)}
		}
		first = r
		defer func() {
			if first != nil {
				first.Close()
			}
		}()
	}
	zw := zip.NewWriter(w)
	modified := time.Now().UTC()
	f, err := zw.CreateHeader(&zip.FileHeader{Name: e.FileName, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	if _, err := f.Write(e.Data); err != nil {
		return err
	}
	for i, d := range e.Documents {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := first
		first = nil
		if i > 0 {
			if r, err = docs.ReadDocument(ctx, d.Connector, e.CustomerID, d.ID); err != nil {
				return fmt.Errorf("document %s of connector %s: %w", d.ID, d.Connector, err)
			}
		}
		if err := writeDocument(zw, r, d, modified); err != nil {
			return fmt.Errorf("document %s of connector %s: %w", d.ID, d.Connector, err)
		}
	}
	return zw.Close()
}

// NotStartedError is returned by Write when it failed before writing
// anything: the caller may still answer with an error status.
type NotStartedError struct{ Err error }

func (e *NotStartedError) Error() string { return e.Err.Error() }
func (e *NotStartedError) Unwrap() error { return e.Err }

// writeDocument copies r (closing it) into the zip at d.Path, checking the
// bytes against d's declared size and SHA-256.
func writeDocument(zw *zip.Writer, r io.ReadCloser, d retention.ExportedDocument, modified time.Time) error {
	defer r.Close()
	f, err := zw.CreateHeader(&zip.FileHeader{Name: d.Path, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	h := sha256.New()
	// One byte more than declared is enough to tell a wrong size: a stream
	// that never ends is cut there.
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, d.Size+1))
	if err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != d.Size || sum != d.SHA256 {
		return fmt.Errorf("read %d bytes with SHA-256 %s, the connector declared %d bytes with %s", n, sum, d.Size, d.SHA256)
	}
	return nil
}
