// Command lethe-statdb is the built-in connector for visit statistics (category
// visit_stats, capability record_visits). Lethe launches it; run by hand it only explains itself.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/statdb/statsdb"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type connector struct {
	mu    sync.RWMutex
	store *statsdb.Store
}

var (
	_ sdk.Connector     = (*connector)(nil)
	_ sdk.VisitRecorder = (*connector)(nil)
)

func main() { sdk.Serve(&connector{}) }

func (c *connector) Configure(ctx context.Context, settings map[string]string) error {
	st, err := statsdb.Open(ctx, settings["data_dir"], settings["dsn"])
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store != nil {
		c.store.Close()
	}
	c.store = st
	sdk.Logger().Info("statistics database open", "postgres", settings["dsn"] != "")
	return nil
}

func (c *connector) db() (*statsdb.Store, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.store == nil {
		return nil, errors.New("not configured")
	}
	return c.store, nil
}

func (c *connector) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:         "statdb",
		Version:      version,
		Categories:   []string{sdk.CategoryVisitStats},
		Capabilities: []string{sdk.CapabilityExport, sdk.CapabilityAnonymise, sdk.CapabilityDelete, sdk.CapabilityRecordVisits},
	}, nil
}

func (c *connector) Export(ctx context.Context, subjects []sdk.Subject) ([]sdk.SubjectExport, error) {
	st, err := c.db()
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
		visits := byCustomer[s.CustomerID]
		if len(visits) == 0 {
			continue
		}
		data, err := json.Marshal(struct {
			Visits []statsdb.Visit `json:"visits"`
		}{visits})
		if err != nil {
			return nil, err
		}
		out = append(out, sdk.SubjectExport{CustomerID: s.CustomerID, Data: data})
	}
	return out, nil
}

func (c *connector) Anonymise(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	st, err := c.db()
	if err != nil {
		return nil, err
	}
	return st.Anonymise(ctx, actions)
}

func (c *connector) Delete(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	st, err := c.db()
	if err != nil {
		return nil, err
	}
	return st.Delete(ctx, actions)
}

func (c *connector) Health(ctx context.Context) error {
	st, err := c.db()
	if err != nil {
		return err
	}
	return st.Ping(ctx)
}

// RecordVisits stores ended visits; a visit id seen before is ignored.
func (c *connector) RecordVisits(ctx context.Context, visits []sdk.VisitRecord) error {
	st, err := c.db()
	if err != nil {
		return err
	}
	rows := make([]statsdb.Visit, len(visits))
	for i, v := range visits {
		rows[i] = statsdb.FromRecord(v)
	}
	return st.Record(ctx, rows)
}
