// Command lethe-invoicestore is the built-in connector for the invoice PDF archive
// (categories invoice and contact). Lethe launches it; run by hand it only explains itself.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/invoicestore/invoicedb"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type connector struct {
	mu    sync.RWMutex
	store *invoicedb.Store
}

var _ sdk.Connector = (*connector)(nil)

func main() { sdk.Serve(&connector{}) }

func (c *connector) Configure(ctx context.Context, settings map[string]string) error {
	st, err := invoicedb.Open(ctx, settings["data_dir"], settings["dsn"])
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store != nil {
		c.store.Close()
	}
	c.store = st
	sdk.Logger().Info("invoice archive open", "postgres", settings["dsn"] != "")
	return nil
}

func (c *connector) db() (*invoicedb.Store, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.store == nil {
		return nil, errors.New("not configured")
	}
	return c.store, nil
}

func (c *connector) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:         "invoicestore",
		Version:      version,
		Categories:   []string{sdk.CategoryInvoice, sdk.CategoryContact},
		Capabilities: []string{sdk.CapabilityExport, sdk.CapabilityAnonymise, sdk.CapabilityDelete},
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
		h := byCustomer[s.CustomerID]
		if h == nil {
			continue
		}
		data, err := json.Marshal(h)
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
