package sdktest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// documents checks a connector declaring documents: each document an
// export declares reads back with the declared size and SHA-256, a
// neighbour cannot read it under their own customer id, and an unknown id
// is ErrDocumentNotFound.
func (s *suite) documents(t *testing.T, ctx context.Context) {
	dr, ok := s.c.(sdk.DocumentReader)
	if !ok || !s.declares(t, ctx, sdk.CapabilityDocuments) {
		t.Skip("the connector does not declare " + sdk.CapabilityDocuments)
	}
	subs := s.subjects(2)
	s.seed(t, ctx, subs[:1])
	exports, err := s.c.Export(ctx, subs[:1])
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	var docs []sdk.Document
	for _, e := range exports {
		docs = append(docs, e.Documents...)
	}
	if len(docs) == 0 {
		t.Fatal("the connector declares documents, but the export of a seeded subject lists none")
	}
	names := map[string]bool{}
	for _, d := range docs {
		if d.Name == "" || d.MediaType == "" || names[d.Name] {
			t.Errorf("document %+v: a name unique in the export and a media type are required", d)
		}
		names[d.Name] = true
		r, err := dr.ReadDocument(ctx, subs[0].CustomerID, d.ID)
		if err != nil {
			t.Fatalf("ReadDocument %s: %v", d.ID, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, r)
		r.Close()
		if err != nil {
			t.Fatalf("read document %s: %v", d.ID, err)
		}
		if n != d.Size || hex.EncodeToString(h.Sum(nil)) != d.SHA256 {
			t.Errorf("document %s: read %d bytes with SHA-256 %x, declared %d bytes, %s", d.ID, n, h.Sum(nil), d.Size, d.SHA256)
		}
		if r, err := dr.ReadDocument(ctx, subs[1].CustomerID, d.ID); !errors.Is(err, sdk.ErrDocumentNotFound) {
			if r != nil {
				r.Close()
			}
			t.Errorf("another customer read document %s (err %v), want ErrDocumentNotFound", d.ID, err)
		}
	}
	if _, err := dr.ReadDocument(ctx, subs[0].CustomerID, "no-such-document"); !errors.Is(err, sdk.ErrDocumentNotFound) {
		t.Errorf("reading an unknown document: %v, want ErrDocumentNotFound", err)
	}
}
