package exportzip_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/exportzip"
	"github.com/lethe-privacy/lethe/retention"
)

// docs serves documents from memory, standing in for the connectors
// Manager; the plugin path is tested end to end in the root package.
type docs map[string]string

func (d docs) ReadDocument(_ context.Context, connector, customerID, id string) (io.ReadCloser, error) {
	body, ok := d[connector+"/"+customerID+"/"+id]
	if !ok {
		return nil, retention.Errorf(retention.CodeNotFound, "no document")
	}
	return io.NopCloser(strings.NewReader(body)), nil
}

func declared(connector, id, body, path string) retention.ExportedDocument {
	sum := sha256.Sum256([]byte(body))
	return retention.ExportedDocument{Connector: connector, ID: id, Name: id + ".pdf", MediaType: "application/pdf",
		Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), Path: path}
}

func TestWriteHoldsTheJSONAndEveryDocument(t *testing.T) {
	src := docs{"invoicestore/c1/i1": "%PDF-1 one", "invoicestore/c1/i2": "%PDF-1 two"}
	e := retention.Export{CustomerID: "c1", FileName: "Ada_Lovelace.json", Data: []byte(`{"customer":{}}`),
		Documents: []retention.ExportedDocument{
			declared("invoicestore", "i1", "%PDF-1 one", "documents/invoicestore/i1.pdf"),
			declared("invoicestore", "i2", "%PDF-1 two", "documents/invoicestore/i2.pdf"),
		}}
	var buf bytes.Buffer
	if err := exportzip.Write(context.Background(), &buf, e, src); err != nil {
		t.Fatal(err)
	}
	if exportzip.FileName(e) != "Ada_Lovelace.zip" {
		t.Errorf("file name %q", exportzip.FileName(e))
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Ada_Lovelace.json": `{"customer":{}}`,
		"documents/invoicestore/i1.pdf": "%PDF-1 one", "documents/invoicestore/i2.pdf": "%PDF-1 two"}
	if len(zr.File) != len(want) {
		t.Fatalf("%d files in the zip, want %d", len(zr.File), len(want))
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		got, _ := io.ReadAll(rc)
		rc.Close()
		if want[f.Name] != string(got) {
			t.Errorf("%s = %q, want %q", f.Name, got, want[f.Name])
		}
	}
}

// A document whose bytes differ from what its connector declared fails the
// export, and the archive written so far does not open.
func TestWriteRefusesADocumentThatDiffersFromItsDeclaration(t *testing.T) {
	src := docs{"invoicestore/c1/i1": "%PDF-1 changed since the export"}
	e := retention.Export{CustomerID: "c1", FileName: "x.json", Data: []byte(`{}`),
		Documents: []retention.ExportedDocument{declared("invoicestore", "i1", "%PDF-1 one", "documents/invoicestore/i1.pdf")}}
	var buf bytes.Buffer
	err := exportzip.Write(context.Background(), &buf, e, src)
	if err == nil || !strings.Contains(err.Error(), "declared") {
		t.Fatalf("Write: %v, want a mismatch error", err)
	}
	if _, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil {
		t.Error("the partial archive opens as if complete")
	}
	// Another customer's id finds nothing.
	e.CustomerID = "c2"
	if err := exportzip.Write(context.Background(), io.Discard, e, docs{"invoicestore/c1/i1": "%PDF-1 one"}); retention.ErrorCode(err) != retention.CodeNotFound {
		t.Errorf("reading under another customer: %v, want NOT_FOUND", err)
	}
}

// A first document that cannot be opened fails the export before a byte is
// written, so the caller can still answer with an error status.
func TestWriteFailsBeforeWritingWhenTheFirstDocumentCannotBeRead(t *testing.T) {
	e := retention.Export{CustomerID: "c1", FileName: "x.json", Data: []byte(`{}`),
		Documents: []retention.ExportedDocument{declared("invoicestore", "i1", "%PDF-1 one", "documents/invoicestore/i1.pdf")}}
	var buf bytes.Buffer
	err := exportzip.Write(context.Background(), &buf, e, docs{})
	var notStarted *exportzip.NotStartedError
	if !errors.As(err, &notStarted) || retention.ErrorCode(err) != retention.CodeNotFound || buf.Len() != 0 {
		t.Fatalf("Write: %v with %d bytes written, want a NotStartedError (NOT_FOUND) and nothing written", err, buf.Len())
	}
}
