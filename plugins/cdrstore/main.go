// Command lethe-cdrstore is the built-in connector for call detail records
// (category cdr). Lethe launches it; run by hand it only explains itself.
package main

import (
	"context"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
	"github.com/lethe-privacy/lethe/plugins/internal/pluginkit"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type connector struct {
	pluginkit.Holder[*cdrdb.Store]
}

var _ interface {
	sdk.FieldAnonymiser
	sdk.Seeder
} = (*connector)(nil)

func main() {
	sdk.Serve(&connector{Holder: pluginkit.Holder[*cdrdb.Store]{
		Info: sdk.Info{Name: "cdrstore", Version: sdk.Version(version), Categories: []string{sdk.CategoryCDR},
			Capabilities: []string{sdk.CapabilityExport, sdk.CapabilityAnonymise, sdk.CapabilityDelete, sdk.CapabilityAnonymiseFields}},
		Open: cdrdb.Open, SeedStore: cdrdb.SeedBatch, Label: "cdr store",
	}})
}

func (c *connector) Export(ctx context.Context, subjects []sdk.Subject) ([]sdk.SubjectExport, error) {
	st, err := c.Store()
	if err != nil {
		return nil, err
	}
	return pluginkit.Export(ctx, subjects, st.ByCustomers, func(cdrs []cdrdb.CDR) (any, bool) {
		return struct {
			CallRecords []cdrdb.CDR `json:"callRecords"`
		}{cdrs}, len(cdrs) > 0
	})
}
