// Package pluginkit holds what every built-in connector does the same way:
// open its store when Lethe configures it, and hand the anonymise, delete
// and health calls to that store.
package pluginkit

import (
	"context"
	"errors"
	"sync"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// Store is what a built-in connector's store offers.
type Store interface {
	Close() error
	Ping(ctx context.Context) error
	Anonymise(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error)
	Delete(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error)
	AnonymiseFields(ctx context.Context, actions []sdk.FieldAction) ([]sdk.ActionResult, error)
}

// Holder keeps the store a connector was configured with. Embedded in a
// connector it provides Describe, Configure, Anonymise, AnonymiseFields,
// Delete, Health and Seed; the connector adds Export.
type Holder[S Store] struct {
	// Info is what Describe answers.
	Info sdk.Info
	// Open opens the store in dataDir, or on PostgreSQL when dsn is set.
	Open func(ctx context.Context, dataDir, dsn string) (S, error)
	// SeedStore writes a demo batch into the store, for `<plugin> seed`.
	SeedStore func(ctx context.Context, st S, b sdk.SeedBatch) error
	// Label names the store in the log.
	Label string

	mu    sync.RWMutex
	store S
	open  bool
}

// Configure opens the store from Lethe's settings (data_dir, dsn). Lethe
// configures again after a relaunch; the previous store is closed.
func (h *Holder[S]) Configure(ctx context.Context, settings map[string]string) error {
	// A session idle inside a transaction for longer than Lethe's bound is
	// ended by the server: a plugin frozen with its host keeps no locks.
	st, err := h.Open(ctx, settings["data_dir"], sdk.BoundIdleTransactions(settings["dsn"], settings))
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open {
		h.store.Close()
	}
	h.store, h.open = st, true
	sdk.Logger().Info(h.Label+" open", "postgres", settings["dsn"] != "")
	return nil
}

// Store returns the configured store; an error before Configure.
func (h *Holder[S]) Store() (S, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if !h.open {
		var zero S
		return zero, errors.New("not configured")
	}
	return h.store, nil
}

// Anonymise hands the batch to the store.
func (h *Holder[S]) Anonymise(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	st, err := h.Store()
	if err != nil {
		return nil, err
	}
	return checkpointed(ctx, st)(st.Anonymise(ctx, actions))
}

// checkpointed clears the store's WAL after a batch changed what it holds,
// so that erased values do not linger in the WAL file.
func checkpointed(ctx context.Context, st any) func([]sdk.ActionResult, error) ([]sdk.ActionResult, error) {
	return func(res []sdk.ActionResult, err error) ([]sdk.ActionResult, error) {
		if c, ok := st.(interface{ Checkpoint(context.Context) error }); ok && err == nil {
			_ = c.Checkpoint(ctx) // best effort: the next batch's checkpoint completes it
		}
		return res, err
	}
}

// AnonymiseFields hands the batch to the store.
func (h *Holder[S]) AnonymiseFields(ctx context.Context, actions []sdk.FieldAction) ([]sdk.ActionResult, error) {
	st, err := h.Store()
	if err != nil {
		return nil, err
	}
	return checkpointed(ctx, st)(st.AnonymiseFields(ctx, actions))
}

// Delete hands the batch to the store.
func (h *Holder[S]) Delete(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	st, err := h.Store()
	if err != nil {
		return nil, err
	}
	return checkpointed(ctx, st)(st.Delete(ctx, actions))
}

// Health pings the store.
func (h *Holder[S]) Health(ctx context.Context) error {
	st, err := h.Store()
	if err != nil {
		return err
	}
	return st.Ping(ctx)
}

// Describe answers Info.
func (h *Holder[S]) Describe(context.Context) (sdk.Info, error) { return h.Info, nil }

// Seed hands a demo batch to the store (sdk.Seeder).
func (h *Holder[S]) Seed(ctx context.Context, b sdk.SeedBatch) error {
	st, err := h.Store()
	if err != nil {
		return err
	}
	return h.SeedStore(ctx, st, b)
}
