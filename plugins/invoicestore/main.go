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

var (
	_ sdk.Connector       = (*connector)(nil)
	_ sdk.FieldAnonymiser = (*connector)(nil)
)

func main() {
	sdk.Serve(&connector{Holder: pluginkit.Holder[*invoicedb.Store]{Open: invoicedb.Open, Label: "invoice archive"}})
}

func (c *connector) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:         "invoicestore",
		Version:      sdk.Version(version),
		Categories:   []string{sdk.CategoryInvoice, sdk.CategoryContact},
		Capabilities: []string{sdk.CapabilityExport, sdk.CapabilityAnonymise, sdk.CapabilityDelete, sdk.CapabilityAnonymiseFields},
	}, nil
}

func (c *connector) Export(ctx context.Context, subjects []sdk.Subject) ([]sdk.SubjectExport, error) {
	st, err := c.Store()
	if err != nil {
		return nil, err
	}
	return pluginkit.Export(ctx, subjects, st.ByCustomers, func(h *invoicedb.Holding) (any, bool) { return h, h != nil })
}

// AnonymiseFields drops fields an administrator made HIDDEN. The archive
// holds names and e-mail addresses, in its index and printed on every PDF:
// dropping either anonymises the subject's contact and invoices (blank PDFs
// of as many pages), as Anonymise does. Phones and custom fields are not
// held here (NOT_FOUND).
func (c *connector) AnonymiseFields(ctx context.Context, actions []sdk.FieldAction) ([]sdk.ActionResult, error) {
	st, err := c.Store()
	if err != nil {
		return nil, err
	}
	var held []sdk.Action
	for _, a := range actions {
		if holdsAny(a.Fields) {
			held = append(held, sdk.Action{ID: a.ID, Subject: a.Subject})
		}
	}
	byID := map[string]sdk.ActionResult{}
	if len(held) > 0 {
		res, err := st.Anonymise(ctx, held)
		if err != nil {
			return nil, err
		}
		_ = st.Checkpoint(ctx) // best effort, as after every batch
		for _, r := range res {
			byID[r.ActionID] = r
		}
	}
	// Results in the order of the actions.
	out := make([]sdk.ActionResult, len(actions))
	for i, a := range actions {
		r, ok := byID[a.ID]
		if !ok {
			r = sdk.ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: sdk.OutcomeNotFound}
		}
		out[i] = r
	}
	return out, nil
}

func holdsAny(fields []string) bool {
	for _, f := range fields {
		if f == sdk.FieldFirstName || f == sdk.FieldLastName || f == sdk.FieldEmail {
			return true
		}
	}
	return false
}
