package connectors

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/retention"
)

// ErrChecksumMismatch is returned (wrapped, naming the connector) when a
// plugin binary's SHA-256 differs from the configured one.
var ErrChecksumMismatch = errors.New("plugin binary checksum does not match the configured sha256")

// managed is one configured connector and the process currently serving it.
// The process comes and goes (crash, relaunch); the managed value stays.
type managed struct {
	name     string
	path     string
	checksum []byte
	settings map[string]Setting
	cfg      Config
	logger   *slog.Logger
	// callTimeout bounds every call but a document stream (0: none).
	callTimeout time.Duration

	mu          sync.Mutex
	client      *plugin.Client
	rpc         sdk.Client
	info        retention.ConnectorInfo
	healthy     bool
	lastErr     error
	failures    int
	nextAttempt time.Time
	closed      bool
	// calls counts the calls the current process serves (acquire); a
	// reload waits for them before ending the process it replaced.
	calls *sync.WaitGroup
	// callsOf maps each process's client to its calls, for streams that
	// outlive a call (hold) until a reload drained it.
	callsOf map[sdk.Client]*sync.WaitGroup
}

// current returns the live plugin, launching it when there is none or it
// exited. A launch that failed recently is not retried before its backoff
// expires: the caller gets CONNECTOR_UNAVAILABLE at once instead.
func (m *managed) current(ctx context.Context) (*plugin.Client, sdk.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, nil, unavailable(m.name, "connector manager is closed")
	}
	if m.client != nil && !m.client.Exited() {
		return m.client, m.rpc, nil
	}
	if m.client != nil {
		m.logger.Warn("connector process exited; relaunching", "connector", m.name)
		m.client.Kill() // reaps the process and releases go-plugin's goroutines
		m.client, m.rpc, m.healthy = nil, nil, false
	}
	if wait := time.Until(m.nextAttempt); wait > 0 {
		return nil, nil, unavailable(m.name, fmt.Sprintf("last launch failed (%v); next attempt in %s", m.lastErr, wait.Round(time.Millisecond)))
	}
	if err := m.launchLocked(ctx); err != nil {
		m.failures++
		m.lastErr = err
		m.nextAttempt = time.Now().Add(m.backoff())
		m.healthy = false
		m.logger.Error("connector launch failed", "connector", m.name, "path", m.path, "error", err, "failures", m.failures)
		if errors.Is(err, ErrChecksumMismatch) {
			return nil, nil, retention.Errorf(retention.CodeConnectorUnavailable, "connector %q unavailable: %v", m.name, err)
		}
		return nil, nil, unavailable(m.name, err.Error())
	}
	m.failures, m.lastErr, m.nextAttempt, m.healthy = 0, nil, time.Time{}, true
	return m.client, m.rpc, nil
}

func (m *managed) backoff() time.Duration {
	d := m.cfg.RestartBackoff
	for i := 1; i < m.failures && d < m.cfg.RestartBackoffMax; i++ {
		d *= 2
	}
	return min(d, m.cfg.RestartBackoffMax)
}

// launchLocked starts the plugin process, verifies its checksum, negotiates
// the protocol, configures it and asks it to describe itself.
func (m *managed) launchLocked(ctx context.Context) error {
	settings, err := m.cfg.settings(PluginConfig{Name: m.name, Settings: m.settings})
	if err != nil {
		return err
	}
	cmd := exec.Command(m.path)
	setDeathSignal(cmd)
	cfg := sdk.ClientConfig(cmd)
	// A fresh hash per launch: hash.Hash keeps state, and the binary on
	// disk may have been replaced since the last launch.
	cfg.SecureConfig = &plugin.SecureConfig{Checksum: m.checksum, Hash: sha256.New()}
	cfg.StartTimeout = m.cfg.StartTimeout
	cfg.Logger = newHCLog(m.logger, m.name)
	client := plugin.NewClient(cfg)
	rpc, err := sdk.Dispense(client)
	if err != nil {
		client.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return fmt.Errorf("%w (%s)", ErrChecksumMismatch, m.path)
		}
		return fmt.Errorf("start %s: %w", m.path, err)
	}

	ctx, cancel := context.WithTimeout(ctx, m.cfg.StartTimeout)
	defer cancel()
	if err := rpc.Configure(ctx, settings); err != nil {
		client.Kill()
		return fmt.Errorf("configure: %s", grpcMessage(err))
	}
	described, err := rpc.Describe(ctx)
	info := infoFromSDK(described)
	if err != nil {
		client.Kill()
		return fmt.Errorf("describe: %s", grpcMessage(err))
	}
	if info.Name != m.name {
		// The configured name is the registry key; the plugin's own name is
		// only informative.
		m.logger.Debug("connector describes itself under another name", "connector", m.name, "self", info.Name)
		info.Name = m.name
	}
	pid := 0
	if rc := client.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	m.logger.Info("connector launched", "connector", m.name, "version", info.Version, "pid", pid,
		"protocol", rpc.Protocol(), "categories", info.Categories)
	m.client, m.rpc, m.info = client, rpc, info
	return nil
}

// abandon kills client's process, when it still serves the connector,
// because a call to it did not answer within timeout, and launches a new
// one in the background. The kill is a SIGKILL: a frozen (SIGSTOPped) or
// stuck process never answers go-plugin's graceful shutdown, which would
// wait for it for ever.
func (m *managed) abandon(client *plugin.Client, timeout time.Duration) {
	m.mu.Lock()
	if m.client != client {
		m.mu.Unlock()
		return // another call has abandoned it already
	}
	m.client, m.rpc, m.healthy = nil, nil, false
	m.mu.Unlock()
	pid := 0
	if rc := client.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	m.logger.Error("connector did not answer in time; killing its plugin process and launching a new one",
		"connector", m.name, "call_timeout", timeout, "pid", pid)
	if pid > 0 {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
	go func() {
		client.Kill() // reaps the process and releases go-plugin's goroutines
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.StartTimeout)
		defer cancel()
		_, _, _ = m.current(ctx) // logs a failure and schedules the next attempt
	}()
}

// kill ends the process, if any, and refuses further launches.
func (m *managed) kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	if m.client != nil {
		m.client.Kill()
		m.client, m.rpc, m.healthy = nil, nil, false
	}
}

// pid is the process id of the running plugin, 0 when none runs.
func (m *managed) pid() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client == nil || m.client.Exited() {
		return 0
	}
	if rc := m.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// waitExited reports whether client's process has exited, giving go-plugin
// up to a second to notice: a call can fail on the broken connection before
// the process reaper has run.
func waitExited(client *plugin.Client) bool {
	deadline := time.Now().Add(time.Second)
	for {
		if client.Exited() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
