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
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
	"github.com/lethe-privacy/lethe/plugins/statdb/statsdb"
	"github.com/lethe-privacy/lethe/retention"
)

// world is a Manager running all four connectors over one data directory,
// with direct handles on their stores for seeding and checking.
type world struct {
	m       *connectors.Manager
	dataDir string
	cdr     *cdrdb.Store
	inv     *invoicedb.Store
	stats   *statsdb.Store
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
	w := &world{m: mustLoad(t, cfg), dataDir: cfg.DataDir}
	ctx := context.Background()
	var err error
	if w.cdr, err = cdrdb.Open(ctx, w.dir("cdrstore"), ""); err != nil {
		t.Fatal(err)
	}
	if w.inv, err = invoicedb.Open(ctx, w.dir("invoicestore"), ""); err != nil {
		t.Fatal(err)
	}
	if w.stats, err = statsdb.Open(ctx, w.dir("statdb"), ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.cdr.Close(); w.inv.Close(); w.stats.Close() })
	return w
}

func (w *world) dir(name string) string { return filepath.Join(w.dataDir, "connectors", name) }

func (w *world) connector(t testing.TB, name string) retention.Connector {
	t.Helper()
	c, err := w.m.Connector(context.Background(), name)
	if err != nil {
		t.Fatalf("Connector(%s): %v", name, err)
	}
	return c
}

// seeders put data for subjects into each store the way its own system
// would (not through the connector).
func (w *world) seeders() map[string]func(context.Context, []sdk.Subject) error {
	return stores{cdr: w.cdr, inv: w.inv, stats: w.stats, newsletterDir: w.dir("newsletter")}.seeders()
}

// stores are the built-in stores (and the example's directory) a test
// seeds; nil ones are not seeded.
type stores struct {
	cdr           *cdrdb.Store
	inv           *invoicedb.Store
	stats         *statsdb.Store
	newsletterDir string
}

func (w stores) seeders() map[string]func(context.Context, []sdk.Subject) error {
	return map[string]func(context.Context, []sdk.Subject) error{
		"cdrstore": func(ctx context.Context, subs []sdk.Subject) error {
			return cdrdb.Seed(ctx, w.cdr, seedCustomers(subs, 3), 1, time.Now())
		},
		"invoicestore": func(ctx context.Context, subs []sdk.Subject) error {
			cs := make([]invoicedb.SeedCustomer, len(subs))
			for i, s := range subs {
				cs[i] = invoicedb.SeedCustomer{ID: s.CustomerID, Name: s.FirstName + " " + s.LastName, Email: s.Email, Invoices: 2}
			}
			return invoicedb.Seed(ctx, w.inv, cs, invoicedb.SeedOptions{Seed: 1, Fast: true})
		},
		"statdb": func(ctx context.Context, subs []sdk.Subject) error {
			vs := make([]statsdb.Visit, len(subs))
			for i, s := range subs {
				vs[i] = statsdb.Visit{VisitID: "visit-" + s.CustomerID, CustomerID: s.CustomerID, Branch: "Main", Service: "Desk",
					StartedAt: time.Now().Add(-time.Hour), EndedAt: time.Now(),
					Custom: map[string]string{"custom1": s.Phone}, VisitorName: s.FirstName + " " + s.LastName}
			}
			return statsdb.Seed(ctx, w.stats, vs)
		},
		"newsletter": func(_ context.Context, subs []sdk.Subject) error {
			return seedNewsletter(filepath.Join(w.newsletterDir, "subscribers.json"), subs)
		},
	}
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

func seedCustomers(subjects []sdk.Subject, n int) []cdrdb.SeedCustomer {
	out := make([]cdrdb.SeedCustomer, len(subjects))
	for i, s := range subjects {
		out[i] = cdrdb.SeedCustomer{ID: s.CustomerID, Phone: s.Phone, Count: n}
	}
	return out
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
		out[i] = sdk.Subject{CustomerID: s.CustomerID, FirstName: s.FirstName, LastName: s.LastName, Email: s.Email, Phone: s.Phone}
	}
	return out
}
