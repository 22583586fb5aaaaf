// Command lethe-invoicestore is the built-in connector for the invoice PDF archive
// (categories invoice and contact). Lethe launches it; run by hand it only explains itself.
package main

import (
	"context"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/internal/pluginkit"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type connector struct {
	pluginkit.Holder[*invoicedb.Store]
}

var _ sdk.Connector = (*connector)(nil)

func main() {
	sdk.Serve(&connector{Holder: pluginkit.Holder[*invoicedb.Store]{Open: invoicedb.Open, Label: "invoice archive"}})
}

func (c *connector) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:         "invoicestore",
		Version:      sdk.Version(version),
		Categories:   []string{sdk.CategoryInvoice, sdk.CategoryContact},
		Capabilities: []string{sdk.CapabilityExport, sdk.CapabilityAnonymise, sdk.CapabilityDelete},
	}, nil
}

func (c *connector) Export(ctx context.Context, subjects []sdk.Subject) ([]sdk.SubjectExport, error) {
	st, err := c.Store()
	if err != nil {
		return nil, err
	}
	return pluginkit.Export(ctx, subjects, st.ByCustomers, func(h *invoicedb.Holding) (any, bool) { return h, h != nil })
}
