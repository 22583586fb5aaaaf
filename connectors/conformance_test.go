package connectors_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/connectors/conformance"
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
	"github.com/lethe-privacy/lethe/retention"
)

func TestConformanceCDRStore(t *testing.T) {
	dataDir := t.TempDir()
	m := mustLoad(t, connectors.Config{DataDir: dataDir, Connectors: []connectors.PluginConfig{
		pluginConfig(t, "cdrstore", "lethe-cdrstore", nil)}})
	c, err := m.Connector(context.Background(), "cdrstore")
	if err != nil {
		t.Fatal(err)
	}
	st, err := cdrdb.Open(context.Background(), filepath.Join(dataDir, "connectors", "cdrstore"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	conformance.Run(t, c, conformance.Fixtures{Seed: func(ctx context.Context, subjects []retention.Subject) error {
		return cdrdb.Seed(ctx, st, seedCustomers(subjects, 3), 1, time.Now())
	}})
}

func seedCustomers(subjects []retention.Subject, n int) []cdrdb.SeedCustomer {
	out := make([]cdrdb.SeedCustomer, len(subjects))
	for i, s := range subjects {
		out[i] = cdrdb.SeedCustomer{ID: s.CustomerID, Phone: s.Phone, Count: n}
	}
	return out
}
