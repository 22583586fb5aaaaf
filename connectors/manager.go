package connectors

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/retention"
)

// Manager launches the configured connector plugins, keeps them running and
// hands them out as retention.Connectors. It is Lethe's
// retention.ConnectorRegistry.
type Manager struct {
	logger  *slog.Logger
	cfg     Config
	order   []string
	plugins map[string]*managed

	// reloading lets one Reload run at a time.
	reloading sync.Mutex

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

var _ retention.ConnectorRegistry = (*Manager)(nil)

// Load launches every connector of cfg (or the built-ins found in
// cfg.PluginDir when cfg lists none), configures each and starts the health
// loop. A plugin that fails to start is not fatal: it is reported unhealthy,
// its calls return CONNECTOR_UNAVAILABLE and it is retried with backoff. A
// configuration error or a checksum mismatch is fatal, naming the plugin,
// because running an unexpected binary is never the right fallback. The
// returned Manager must be closed.
func Load(ctx context.Context, cfg Config, logger *slog.Logger) (*Manager, error) {
	logger = orDiscard(logger)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		return nil, errors.New("connectors: data dir is required")
	}
	cfg = cfg.withDefaults()
	plugins, err := cfg.plugins(logger)
	if err != nil {
		return nil, err
	}

	m := &Manager{logger: logger, cfg: cfg, plugins: map[string]*managed{}, stop: make(chan struct{})}
	for _, p := range plugins {
		sum, err := decodeChecksum(p.SHA256)
		if err != nil {
			return nil, fmt.Errorf("connector %q: %w", p.Name, err)
		}
		m.order = append(m.order, p.Name)
		m.plugins[p.Name] = &managed{
			name: p.Name, path: p.Path, checksum: sum, settings: p.Settings,
			cfg: cfg, logger: logger, info: retention.ConnectorInfo{Name: p.Name},
			callTimeout: cmp.Or(p.CallTimeout, cfg.CallTimeout),
		}
	}

	// Launch in parallel: each launch is a process start plus a handshake,
	// and Lethe's start-up waits for all of them.
	var wg sync.WaitGroup
	for _, p := range m.plugins {
		wg.Go(func() { _, _, _ = p.current(ctx) })
	}
	wg.Wait()
	for _, name := range m.order {
		p := m.plugins[name]
		p.mu.Lock()
		err := p.lastErr
		p.mu.Unlock()
		if errors.Is(err, ErrChecksumMismatch) {
			m.Close()
			return nil, fmt.Errorf("connector %q: %w", name, err)
		}
	}

	m.wg.Go(m.healthLoop)
	return m, nil
}

// Close stops the health loop and ends every plugin process. It waits for
// the processes to exit, so none is left behind when it returns.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		close(m.stop)
		m.wg.Wait()
		var wg sync.WaitGroup
		for _, p := range m.plugins {
			wg.Go(p.kill)
		}
		wg.Wait()
	})
	return nil
}

// Names lists the configured connectors in configuration order.
func (m *Manager) Names() []string { return append([]string(nil), m.order...) }

// PIDs maps each connector to the process id now serving it (0 when none
// runs), for diagnostics and tests.
func (m *Manager) PIDs() map[string]int {
	out := make(map[string]int, len(m.plugins))
	for name, p := range m.plugins {
		out[name] = p.pid()
	}
	return out
}

// Connectors lists every configured connector, pinging each running plugin
// so Healthy reflects now, not the last health tick.
func (m *Manager) Connectors(ctx context.Context) []retention.ConnectorStatus {
	out := make([]retention.ConnectorStatus, len(m.order))
	var wg sync.WaitGroup
	for i, name := range m.order {
		p := m.plugins[name]
		wg.Go(func() {
			p.mu.Lock()
			client, rpc, info := p.client, p.rpc, p.info
			p.mu.Unlock()
			healthy := false
			if client != nil && !client.Exited() {
				hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				healthy = rpc.Health(hctx) == nil
				cancel()
			}
			out[i] = retention.ConnectorStatus{Info: info, Healthy: healthy}
		})
	}
	wg.Wait()
	return out
}

// Connector returns the named connector: NOT_FOUND when it is not
// configured, CONNECTOR_UNAVAILABLE when its plugin cannot be started now.
// The returned value survives plugin restarts; keep it as long as you like.
func (m *Manager) Connector(ctx context.Context, name string) (retention.Connector, error) {
	p, ok := m.plugins[name]
	if !ok {
		return nil, retention.Errorf(retention.CodeNotFound, "connector %q is not configured", name)
	}
	if _, _, err := p.current(ctx); err != nil {
		return nil, err
	}
	return &handle{m: p}, nil
}

// healthLoop pings every plugin each HealthInterval; current() relaunches a
// plugin whose process has died, subject to its backoff.
func (m *Manager) healthLoop() {
	t := time.NewTicker(m.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		var wg sync.WaitGroup
		for _, p := range m.plugins {
			wg.Go(func() { m.checkHealth(p) })
		}
		wg.Wait()
	}
}

func (m *Manager) checkHealth(p *managed) {
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.StartTimeout)
	defer cancel()
	client, rpc, err := p.current(ctx)
	if err != nil {
		return // current logged it and scheduled the next attempt
	}
	timeout := min(5*time.Second, p.callTimeout)
	hctx, hcancel := context.WithTimeout(ctx, timeout)
	err = rpc.Health(hctx)
	timedOut := err != nil && hctx.Err() != nil
	hcancel()
	if timedOut {
		// Frozen or stuck: replaced now, not at its next call.
		p.abandon(client, timeout)
	}
	p.mu.Lock()
	was := p.healthy
	p.healthy = err == nil
	p.mu.Unlock()
	if err != nil && was {
		m.logger.Warn("connector unhealthy", "connector", p.name, "error", grpcMessage(err))
	} else if err == nil && !was {
		m.logger.Info("connector healthy again", "connector", p.name)
	}
}

// ReadDocument opens a document the named connector declared in an export
// of customerID, streaming its bytes from the plugin. The caller closes
// it. NOT_FOUND when the connector is unknown or holds no such document.
func (m *Manager) ReadDocument(ctx context.Context, connector, customerID, documentID string) (io.ReadCloser, error) {
	p, ok := m.plugins[connector]
	if !ok {
		return nil, retention.Errorf(retention.CodeNotFound, "connector %q is not configured", connector)
	}
	r, err := (&handle{m: p}).ReadDocument(ctx, customerID, documentID)
	if errors.Is(err, sdk.ErrDocumentNotFound) {
		return nil, retention.Errorf(retention.CodeNotFound, "connector %q holds no document %q for this customer", connector, documentID)
	}
	return r, err
}
