package connectors

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// ReloadResult is what a reload did to one connector.
type ReloadResult struct {
	Name                string
	OldVersion, Version string
	OldPID, PID         int
	// Err is why the connector kept its old process (a checksum that does
	// not match the binary, settings its Configure refused); nil when the
	// new process serves it.
	Err error
}

// Reload applies cfg (the configuration file read again) to the running
// connectors without stopping Lethe, one connector at a time: a new
// process is launched from the configured path, verified against the
// configured sha256 and configured with the settings as they read now
// (environment variables and files included); once it answered Configure
// and Describe it takes every new call, and the old process ends when the
// calls it was serving have returned. A connector whose new process cannot
// start keeps its old one, and its result says why. Connectors may not be
// added or removed by a reload (that changes what a sweep plans): Lethe
// must be restarted for that. Call timeouts, health intervals and
// backoffs keep their values from the start.
func (m *Manager) Reload(ctx context.Context, cfg Config) ([]ReloadResult, error) {
	cfg.DataDir = m.cfg.DataDir
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	plugins, err := cfg.plugins(m.logger)
	if err != nil {
		return nil, err
	}
	byName := map[string]PluginConfig{}
	for _, p := range plugins {
		byName[p.Name] = p
	}
	var names []string
	for name := range byName {
		names = append(names, name)
	}
	slices.Sort(names)
	have := slices.Sorted(slices.Values(m.order))
	if !slices.Equal(names, have) {
		return nil, fmt.Errorf("the configuration lists connectors %s, Lethe runs %s: restart Lethe to add or remove connectors",
			strings.Join(names, ", "), strings.Join(have, ", "))
	}
	m.reloading.Lock()
	defer m.reloading.Unlock()
	out := make([]ReloadResult, 0, len(m.order))
	for _, name := range m.order {
		p := byName[name]
		res := m.plugins[name].reload(ctx, p, cfg, cmp.Or(p.CallTimeout, cfg.CallTimeout))
		if res.Err != nil {
			m.logger.Error("connector not reloaded; its running process goes on", "connector", name, "error", res.Err)
		} else {
			m.logger.Info("connector reloaded", "connector", name, "old_version", res.OldVersion, "version", res.Version,
				"old_pid", res.OldPID, "pid", res.PID)
		}
		out = append(out, res)
	}
	return out, nil
}

// reload launches a new process for m from p, switches calls to it, and
// ends the old process once the calls it serves have returned.
func (m *managed) reload(ctx context.Context, p PluginConfig, cfg Config, callTimeout time.Duration) ReloadResult {
	m.mu.Lock()
	res := ReloadResult{Name: m.name, OldVersion: m.info.Version}
	m.mu.Unlock()
	res.OldPID = m.pid()
	sum, err := decodeChecksum(p.SHA256)
	if err != nil {
		res.Err = err
		return res
	}
	next := &managed{name: m.name, path: p.Path, checksum: sum, settings: p.Settings, cfg: cfg, logger: m.logger, callTimeout: callTimeout}
	if err := next.launchLocked(ctx); err != nil {
		res.Err = err
		return res
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		next.client.Kill()
		res.Err = fmt.Errorf("connector manager is closed")
		return res
	}
	oldClient, oldCalls := m.client, m.calls
	m.path, m.checksum, m.settings = next.path, next.checksum, next.settings
	m.client, m.rpc, m.info, m.healthy = next.client, next.rpc, next.info, true
	m.calls = nil
	m.failures, m.lastErr, m.nextAttempt = 0, nil, time.Time{}
	res.Version = m.info.Version
	m.mu.Unlock()
	res.PID = m.pid()
	if oldClient != nil {
		drain(ctx, oldCalls)
		oldClient.Kill()
	}
	m.mu.Lock()
	for rpc, wg := range m.callsOf {
		if wg == oldCalls {
			delete(m.callsOf, rpc)
		}
	}
	m.mu.Unlock()
	return res
}

// hold counts one more use of the process serving rpc, from inside a call
// on it, until the returned release: a document stream outlives the call
// that opened it, and a reload must not end the process under it.
func (m *managed) hold(rpc sdk.Client) (release func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	wg := m.callsOf[rpc]
	if wg == nil {
		return func() {}
	}
	wg.Add(1) // the call's own count is held: never from zero
	var once sync.Once
	return func() { once.Do(wg.Done) }
}

// heldStream releases its hold on the process when closed.
type heldStream struct {
	io.ReadCloser
	release func()
}

func (s heldStream) Close() error {
	defer s.release()
	return s.ReadCloser.Close()
}

// drainLimit bounds the wait for a replaced process's calls and document
// streams: a stream its reader never closes must not hold a reload.
const drainLimit = 2 * time.Minute

// drain waits for the calls a replaced process serves, for drainLimit at
// most, or for ctx.
func drain(ctx context.Context, calls *sync.WaitGroup) {
	if calls == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, drainLimit)
	defer cancel()
	done := make(chan struct{})
	go func() { calls.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// acquire is current, counting the call on the process it returns until
// release is called: a reload ends a replaced process only after its calls
// returned, so no call is cut off by a reload.
func (m *managed) acquire(ctx context.Context) (*plugin.Client, sdk.Client, func(), error) {
	for {
		client, rpc, err := m.current(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		m.mu.Lock()
		if m.client != client {
			m.mu.Unlock()
			continue // replaced meanwhile: use the new process
		}
		if m.calls == nil {
			m.calls = &sync.WaitGroup{}
			if m.callsOf == nil {
				m.callsOf = map[sdk.Client]*sync.WaitGroup{}
			}
			m.callsOf[rpc] = m.calls
		}
		calls := m.calls
		calls.Add(1)
		m.mu.Unlock()
		return client, rpc, calls.Done, nil
	}
}
