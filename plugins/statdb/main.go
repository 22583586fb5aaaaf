// Command lethe-statdb is the built-in connector for visit statistics (category
// visit_stats, capability record_visits). Lethe launches it; run by hand it only explains itself.
package main

import (
	"context"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/internal/pluginkit"
	"github.com/lethe-privacy/lethe/plugins/statdb/statsdb"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type connector struct {
	pluginkit.Holder[*statsdb.Store]
}

var _ interface {
	sdk.FieldAnonymiser
	sdk.VisitRecorder
	sdk.Seeder
} = (*connector)(nil)

func main() {
	sdk.Serve(&connector{Holder: pluginkit.Holder[*statsdb.Store]{
		Info: sdk.Info{Name: "statdb", Version: sdk.Version(version), Categories: []string{sdk.CategoryVisitStats},
			Capabilities: []string{sdk.CapabilityExport, sdk.CapabilityAnonymise, sdk.CapabilityDelete, sdk.CapabilityRecordVisits,
				sdk.CapabilityAnonymiseFields}},
		Open: statsdb.Open, SeedStore: statsdb.SeedBatch, Label: "statistics database",
	}})
}

func (c *connector) Export(ctx context.Context, subjects []sdk.Subject) ([]sdk.SubjectExport, error) {
	st, err := c.Store()
	if err != nil {
		return nil, err
	}
	return pluginkit.Export(ctx, subjects, st.ByCustomers, func(visits []statsdb.Visit) (any, bool) {
		return struct {
			Visits []statsdb.Visit `json:"visits"`
		}{visits}, len(visits) > 0
	})
}

// RecordVisits stores ended visits; a visit id seen before is ignored.
func (c *connector) RecordVisits(ctx context.Context, visits []sdk.VisitRecord) error {
	st, err := c.Store()
	if err != nil {
		return err
	}
	rows := make([]statsdb.Visit, len(visits))
	for i, v := range visits {
		rows[i] = statsdb.FromRecord(v)
	}
	return st.Record(ctx, rows)
}
