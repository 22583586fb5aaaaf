// Command lethe-invoicestore is the built-in connector for the invoice PDF archive
// (categories invoice and contact). Lethe launches it; run by hand it only explains itself.
package main

import (
	"context"
	"encoding/json"
	"io"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/internal/pluginkit"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type connector struct {
	pluginkit.Holder[*invoicedb.Store]
}

var _ interface {
	sdk.FieldAnonymiser
	sdk.DocumentReader
	sdk.Seeder
} = (*connector)(nil)

func main() {
	sdk.Serve(&connector{Holder: pluginkit.Holder[*invoicedb.Store]{
		Info: sdk.Info{Name: "invoicestore", Version: sdk.Version(version), Categories: []string{sdk.CategoryInvoice, sdk.CategoryContact},
			Capabilities: []string{sdk.CapabilityExport, sdk.CapabilityAnonymise, sdk.CapabilityDelete,
				sdk.CapabilityAnonymiseFields, sdk.CapabilityDocuments}},
		Open: invoicedb.Open, SeedStore: invoicedb.SeedBatch, Label: "invoice archive",
	}})
}

// Export answers each customer's billing contact and invoice index as
// JSON, and declares each invoice's PDF as a document.
func (c *connector) Export(ctx context.Context, subjects []sdk.Subject) ([]sdk.SubjectExport, error) {
	st, err := c.Store()
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(subjects))
	for i, s := range subjects {
		ids[i] = s.CustomerID
	}
	held, err := st.ByCustomers(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []sdk.SubjectExport
	for _, s := range subjects {
		h := held[s.CustomerID]
		if h == nil {
			continue // nothing held: left out, as the protocol asks
		}
		data, err := json.Marshal(h)
		if err != nil {
			return nil, err
		}
		docs, err := st.Documents(ctx, h.Invoices)
		if err != nil {
			return nil, err
		}
		out = append(out, sdk.SubjectExport{CustomerID: s.CustomerID, Data: data, Documents: docs})
	}
	return out, nil
}

// ReadDocument streams an invoice PDF the customer's export declared.
func (c *connector) ReadDocument(ctx context.Context, customerID, documentID string) (io.ReadCloser, error) {
	st, err := c.Store()
	if err != nil {
		return nil, err
	}
	return st.OpenDocument(ctx, customerID, documentID)
}
