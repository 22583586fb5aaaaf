package connectors

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// BuiltinPlugins are the connectors shipped with Lethe, discovered beside the
// lethe binary when the configuration lists none. Their binary is named
// "lethe-<name>".
var BuiltinPlugins = []string{"cdrstore", "invoicestore", "statdb"}

// Config is the connectors part of Lethe's configuration.
type Config struct {
	// DataDir is Lethe's data directory. Each connector gets its own
	// DataDir/connectors/<name>, passed as the "data_dir" setting, so a
	// plugin never has to be told where to keep its store and two plugins
	// never share one by accident.
	DataDir string `yaml:"data_dir"`

	// PluginDir is where the built-in plugins are looked for when
	// Connectors is empty; normally the directory of the lethe binary, so a
	// release unpacked anywhere finds its own plugins.
	PluginDir string `yaml:"plugin_dir"`

	// IdleTxTimeout is passed to every plugin as sdk.SettingIdleTxTimeout:
	// how long a session of its database may stay idle inside a
	// transaction (Lethe sets half its lease term, as for its own).
	IdleTxTimeout time.Duration `yaml:"-"`

	// Connectors lists the plugins to launch. When empty, the built-ins in
	// PluginDir are used and their checksums taken at load (they ship with
	// the binary, so there is nothing to pin them against).
	Connectors []PluginConfig `yaml:"connectors"`

	// HealthInterval is how often every plugin is pinged; a dead plugin is
	// relaunched no later than one interval after it died. Default 15s.
	HealthInterval time.Duration `yaml:"health_interval"`

	// RestartBackoff is the wait after the first failed launch; it doubles
	// with each further failure up to RestartBackoffMax, so a plugin that
	// cannot start does not spin the machine. Defaults 1s and 1m.
	RestartBackoff    time.Duration `yaml:"restart_backoff"`
	RestartBackoffMax time.Duration `yaml:"restart_backoff_max"`

	// BuiltinDSN, when set, gives each built-in connector found beside the
	// binary its "dsn" setting: Lethe on PostgreSQL keeps the built-in
	// stores in its database, so that every replica's plugins share them.
	BuiltinDSN func(name string) string `yaml:"-"`

	// StartTimeout bounds one launch: process start, handshake, Configure
	// and Describe. Default 30s.
	StartTimeout time.Duration `yaml:"start_timeout"`

	// CallTimeout bounds every call to a connector (the batches of a
	// sweep, a purge and a residue check, an export, a health check), for
	// the connectors that set none of their own. A plugin that does not
	// answer in time is killed and relaunched, and the call fails like
	// any other: a sweep retries its batch per its backoff while the
	// other connectors go on. Default 60s: a batch of 500 takes the
	// built-in plugins well under a second; set it above your slowest
	// store's worst batch.
	CallTimeout time.Duration `yaml:"call_timeout"`
}

// PluginConfig is one connector to launch.
type PluginConfig struct {
	// Name is how Lethe refers to the connector (registry key, data
	// directory name, log field); lower-case letters, digits, '-' and '_'.
	Name string `yaml:"name"`
	// Path of the plugin executable; a relative path is relative to the
	// directory of the configuration file (Config.RelativeTo), not to the
	// working directory.
	Path string `yaml:"path"`
	// SHA256 of the executable in hex (the output of sha256sum). Lethe
	// refuses to launch a binary whose hash differs, so replacing a plugin
	// on disk needs a matching config change.
	SHA256 string `yaml:"sha256"`
	// Settings are passed to the plugin's Configure, plus "data_dir",
	// which Lethe always sets. "dsn" is the convention for a database the
	// plugin should use instead of its embedded store. A value may name an
	// environment variable or a file instead (see Setting).
	Settings map[string]Setting `yaml:"settings"`
	// CallTimeout, when set, replaces Config.CallTimeout for this
	// connector (a store known to be slow, or one that must be cut off
	// sooner).
	CallTimeout time.Duration `yaml:"call_timeout"`
}

// DefaultCallTimeout is Config.CallTimeout's default.
const DefaultCallTimeout = time.Minute

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// RelativeTo returns c with every relative plugin path (and settings
// file) made relative to dir, the directory of the configuration file that
// named them: "path: ./connector-newsletter" means the binary beside the
// file, wherever Lethe was started from.
func (c Config) RelativeTo(dir string) Config {
	out := c
	out.Connectors = make([]PluginConfig, len(c.Connectors))
	for i, p := range c.Connectors {
		if p.Path != "" && !filepath.IsAbs(p.Path) {
			p.Path = filepath.Join(dir, p.Path)
		}
		p.Settings = relativeSettings(p.Settings, dir)
		out.Connectors[i] = p
	}
	return out
}

// Validate reports the first configuration mistake, naming the connector.
func (c Config) Validate() error {
	seen := map[string]bool{}
	for i, p := range c.Connectors {
		if !nameRE.MatchString(p.Name) {
			return fmt.Errorf("connectors[%d]: name %q must be lower-case letters, digits, '-' or '_'", i, p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("connector %q: configured twice", p.Name)
		}
		seen[p.Name] = true
		if p.Path == "" {
			return fmt.Errorf("connector %q: path is required", p.Name)
		}
		if _, err := decodeChecksum(p.SHA256); err != nil {
			return fmt.Errorf("connector %q: %w", p.Name, err)
		}
		if p.CallTimeout < 0 {
			return fmt.Errorf("connector %q: call_timeout must be positive (or left out for the default)", p.Name)
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.HealthInterval <= 0 {
		c.HealthInterval = 15 * time.Second
	}
	if c.RestartBackoff <= 0 {
		c.RestartBackoff = time.Second
	}
	if c.RestartBackoffMax < c.RestartBackoff {
		c.RestartBackoffMax = max(time.Minute, c.RestartBackoff)
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 30 * time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	return c
}

func decodeChecksum(s string) ([]byte, error) {
	// Accept a pasted "sha256sum" line: the hash is its first field.
	if f := strings.Fields(s); len(f) > 0 {
		s = f[0]
	}
	sum, err := hex.DecodeString(s)
	if err != nil || len(sum) != sha256.Size {
		return nil, errors.New("sha256 must be 64 hex digits (the output of sha256sum)")
	}
	return sum, nil
}

// FileSHA256 returns the hex SHA-256 of a file, as sha256sum prints it.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// plugins lists the connectors to launch: those configured, or the
// built-ins found in PluginDir (with BuiltinDSN's dsn setting).
func (c Config) plugins(logger *slog.Logger) ([]PluginConfig, error) {
	if len(c.Connectors) > 0 || c.PluginDir == "" {
		return c.Connectors, nil
	}
	found, missing, err := discoverBuiltins(c.PluginDir)
	if err != nil {
		return nil, err
	}
	for _, path := range missing {
		logger.Warn("built-in connector not found; running without it", "path", path)
	}
	if c.BuiltinDSN != nil {
		for i := range found {
			found[i].Settings = map[string]Setting{"dsn": {Value: c.BuiltinDSN(found[i].Name)}}
		}
	}
	return found, nil
}

// settings are what a connector's Configure gets: its configured settings
// and its own data directory, DataDir/connectors/<name>, made if missing.
func (c Config) settings(p PluginConfig) (map[string]string, error) {
	dataDir := filepath.Join(c.DataDir, "connectors", p.Name)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	settings, err := resolveSettings(p.Settings)
	if err != nil {
		return nil, err
	}
	settings["data_dir"] = dataDir
	if _, set := settings[sdk.SettingIdleTxTimeout]; !set && c.IdleTxTimeout > 0 {
		settings[sdk.SettingIdleTxTimeout] = c.IdleTxTimeout.String()
	}
	return settings, nil
}

// discoverBuiltins lists the built-in plugins present in dir, pinned to the
// checksum they have now.
func discoverBuiltins(dir string) ([]PluginConfig, []string, error) {
	var found []PluginConfig
	var missing []string
	for _, name := range BuiltinPlugins {
		path := filepath.Join(dir, "lethe-"+name)
		st, err := os.Stat(path)
		if err != nil || st.IsDir() {
			missing = append(missing, path)
			continue
		}
		sum, err := FileSHA256(path)
		if err != nil {
			return nil, nil, fmt.Errorf("connector %q: %w", name, err)
		}
		found = append(found, PluginConfig{Name: name, Path: path, SHA256: sum})
	}
	return found, missing, nil
}
