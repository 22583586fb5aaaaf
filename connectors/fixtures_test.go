package connectors_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/retention"
)

// world is a Manager running all four connectors over one data directory.
// Tests seed the stores through each plugin's own seed command and read
// them back through the contract (Export, ReadDocument), as Lethe does: the
// main module knows nothing of how a built-in store is laid out.
type world struct {
	m   *connectors.Manager
	cfg connectors.Config
}

func allPlugins(t testing.TB) []connectors.PluginConfig {
	return []connectors.PluginConfig{
		pluginConfig(t, "cdrstore", "lethe-cdrstore", nil),
		pluginConfig(t, "invoicestore", "lethe-invoicestore", nil),
		pluginConfig(t, "statdb", "lethe-statdb", nil),
		pluginConfig(t, "newsletter", "newsletter", nil),
	}
}

func newWorld(t testing.TB, cfg connectors.Config) *world {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Connectors == nil {
		cfg.Connectors = allPlugins(t)
	}
	return &world{m: mustLoad(t, cfg), cfg: cfg}
}

func (w *world) connector(t testing.TB, name string) retention.Connector {
	t.Helper()
	c, err := w.m.Connector(context.Background(), name)
	if err != nil {
		t.Fatalf("Connector(%s): %v", name, err)
	}
	return c
}

// seeders put data for subjects into each store of the world.
func (w *world) seeders() map[string]func(context.Context, []sdk.Subject) error {
	return seeders(w.cfg)
}

// exported exports sub from the named connector and decodes what it holds
// into v; false when it holds nothing of sub.
func (w *world) exported(t *testing.T, name string, sub retention.Subject, v any) bool {
	t.Helper()
	exports, err := w.connector(t, name).Export(context.Background(), []retention.Subject{sub})
	if err != nil {
		t.Fatalf("%s export: %v", name, err)
	}
	if len(exports) == 0 {
		return false
	}
	if err := json.Unmarshal(exports[0].Data, v); err != nil {
		t.Fatalf("%s export: %v", name, err)
	}
	return true
}

// seeders put data for subjects into the store of each connector of cfg
// the way `lethe demo` does, through the plugin's seed command: three call
// records and two invoices a subject, and one ended visit carrying the
// subject's phone number in custom1. The example newsletter connector has
// no seed command: its list file is written in the format its README
// documents.
func seeders(cfg connectors.Config) map[string]func(context.Context, []sdk.Subject) error {
	out := map[string]func(context.Context, []sdk.Subject) error{}
	for _, p := range cfg.Connectors {
		one := cfg
		one.Connectors = []connectors.PluginConfig{p}
		out[p.Name] = func(ctx context.Context, subs []sdk.Subject) error {
			if p.Name == "newsletter" {
				return seedNewsletter(filepath.Join(cfg.DataDir, "connectors", p.Name, "subscribers.json"), subs)
			}
			return seed(ctx, one, seedBatch(subs, 3, 2))
		}
	}
	return out
}

// seed sends one batch to the seed command of every connector of cfg.
func seed(ctx context.Context, cfg connectors.Config, b connectors.SeedBatch) error {
	s, err := connectors.StartSeeding(ctx, cfg, nil)
	if err != nil {
		return err
	}
	if err := s.Send(b); err != nil {
		s.Close() //nolint:errcheck // the send error says more
		return err
	}
	return s.Close()
}

// seedBatch gives each subject callRecords call records, invoices invoices
// and one visit that ended now.
func seedBatch(subs []sdk.Subject, callRecords, invoices int) connectors.SeedBatch {
	now := time.Now()
	b := connectors.SeedBatch{Seed: 1, Now: now}
	for _, s := range subs {
		b.Customers = append(b.Customers, connectors.SeedCustomer{Subject: retention.Subject(s), CallRecords: callRecords, Invoices: invoices})
		b.Visits = append(b.Visits, retention.VisitRecord{VisitID: "visit-" + s.CustomerID, CustomerID: s.CustomerID, Branch: "Main",
			Service: "Desk", StartedAt: now.Add(-time.Hour), EndedAt: now, CustomFields: map[string]string{"custom1": s.Phone}})
	}
	return b
}

// seedNewsletter appends to the example connector's list file, in the
// format its README documents.
func seedNewsletter(path string, subs []sdk.Subject) error {
	var list struct {
		Subscribers []map[string]any `json:"subscribers"`
	}
	if raw, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(raw, &list); err != nil {
			return err
		}
	}
	for _, s := range subs {
		list.Subscribers = append(list.Subscribers, map[string]any{
			"customerId": s.CustomerID, "email": s.Email, "name": s.FirstName + " " + s.LastName,
			"topics": []string{"offers"}, "subscribedAt": time.Now().UTC(),
		})
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o600)
}

func subject(id string) retention.Subject {
	return retention.Subject{CustomerID: id, FirstName: "Ada", LastName: "Lovelace-" + id,
		Email: id + "@example.org", Phone: "+4930555" + id}
}

// toSDK converts subjects as the host does before a call, for seeding
// stores with the subjects a test sends through the Manager.
func toSDK(subs ...retention.Subject) []sdk.Subject {
	out := make([]sdk.Subject, len(subs))
	for i, s := range subs {
		out[i] = sdk.Subject(s)
	}
	return out
}
