// Command lethe-cdrstore is the built-in connector for call detail records
// (category cdr). Lethe launches it; run by hand it only explains itself.
package main

import (
	"context"
	"encoding/json"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
	"github.com/lethe-privacy/lethe/plugins/internal/pluginkit"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type connector struct {
	pluginkit.Holder[*cdrdb.Store]
}

var _ sdk.Connector = (*connector)(nil)

func main() {
	sdk.Serve(&connector{Holder: pluginkit.Holder[*cdrdb.Store]{Open: cdrdb.Open, Label: "cdr store"}})
}

func (c *connector) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:         "cdrstore",
		Version:      version,
		Categories:   []string{sdk.CategoryCDR},
		Capabilities: []string{sdk.CapabilityExport, sdk.CapabilityAnonymise, sdk.CapabilityDelete},
	}, nil
}

func (c *connector) Export(ctx context.Context, subjects []sdk.Subject) ([]sdk.SubjectExport, error) {
	st, err := c.Store()
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(subjects))
	for i, s := range subjects {
		ids[i] = s.CustomerID
	}
	byCustomer, err := st.ByCustomers(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []sdk.SubjectExport
	for _, s := range subjects {
		cdrs := byCustomer[s.CustomerID]
		if len(cdrs) == 0 {
			continue
		}
		data, err := json.Marshal(struct {
			CallRecords []cdrdb.CDR `json:"callRecords"`
		}{cdrs})
		if err != nil {
			return nil, err
		}
		out = append(out, sdk.SubjectExport{CustomerID: s.CustomerID, Data: data})
	}
	return out, nil
}
