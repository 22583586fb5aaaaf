package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/scheduler"
	"github.com/lethe-privacy/lethe/store"
)

// Config is Lethe's configuration: defaults, then the YAML file given with
// --config, then LETHE_* environment variables, then flags.
type Config struct {
	// Listen is the address of the HTTP API; loopback by default so that
	// a first start exposes nothing.
	Listen string `yaml:"listen"`
	// Database selects PostgreSQL (postgres://…); empty means SQLite in
	// the data directory.
	Database string `yaml:"database"`
	// DatabaseMaxConns bounds this process's PostgreSQL connections;
	// requests beyond it queue for a connection until their timeout
	// instead of failing. Default 20: several replicas (and their
	// connectors' pools) stay well under PostgreSQL's default
	// max_connections of 100.
	DatabaseMaxConns int `yaml:"database_max_conns"`
	// Playground serves the GraphQL playground and allows introspection:
	// off by default (it helps attackers explore), on for `make run`.
	Playground bool `yaml:"playground"`
	// Metrics serves Prometheus metrics at /metrics (no personal data).
	Metrics bool `yaml:"metrics"`
	// Limits bound every request: depth, complexity, body size, time.
	Limits LimitsConfig `yaml:"limits"`
	// CORSOrigins lists the origins of browser apps served from elsewhere
	// that may call the API (HTTP and websocket); none by default, so a
	// page on another site cannot use a token a browser holds.
	CORSOrigins []string `yaml:"cors_origins"`
	// Connectors configures the connector plugins; its data_dir is Lethe's
	// data directory.
	Connectors connectors.Config `yaml:",inline"`
	// Scheduler configures the sweep (sweep_schedule, default hourly) and
	// the clean-up of visits left open.
	Scheduler scheduler.Config `yaml:"scheduler"`
	// Sweep: false runs no scheduled sweeps in this process (sweeps can
	// still be started through the API or `lethe sweep`).
	Sweep bool `yaml:"sweep"`
	// PhoneRegion is the country assumed for phone numbers written in
	// national form, so that a search for "07700 949842" finds
	// "+44 7700 949842" (ISO 3166 code; default GB). Stored numbers are
	// indexed with it: changing it affects customers written afterwards.
	PhoneRegion string `yaml:"phone_region"`
	// AuditKeyFile holds the Ed25519 key that signs the audit log's
	// checkpoints (default audit-signing.key in the data directory,
	// created on first use; env LETHE_AUDIT_KEY_FILE). Give every replica
	// the same file. See docs/audit-and-evidence.md.
	AuditKeyFile string `yaml:"audit_key_file"`

	// LedgerDir holds the erasure ledger (default <data-dir>/ledger): keep
	// it on other storage than the database and its backups, since a
	// restore must not reach it; it may be kept forever, it contains no
	// personal data (docs/operations-backup.md).
	LedgerDir string `yaml:"ledger_dir"`

	DataDir    string `yaml:"-"`
	ConfigFile string `yaml:"-"`
}

// LimitsConfig is httpapi.Limits in the configuration file. Each bound
// answers an over-limit request with a clear error and a code instead of
// letting it slow the server.
type LimitsConfig struct {
	MaxDepth       int           `yaml:"max_depth"`
	MaxComplexity  int           `yaml:"max_complexity"`
	MaxBodyBytes   int64         `yaml:"max_body_bytes"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

func defaultConfig() Config {
	return Config{Listen: "127.0.0.1:8080", DataDir: "./data", Playground: false, Metrics: true, Sweep: true, DatabaseMaxConns: store.DefaultMaxConns,
		Limits: LimitsConfig{MaxDepth: 15, MaxComplexity: 1000, MaxBodyBytes: 1 << 20, RequestTimeout: 30 * time.Second}}
}

// setting is one configuration value that a flag and an environment
// variable set (the flag wins): one entry names both, says what it is and
// parses it, so that adding a setting is one line of settings().
type setting struct {
	flag, env, usage string
	set              func(string) error
}

// settings lists the values of cfg that flags and the environment set.
func (cfg *Config) settings() []setting {
	return []setting{
		{"listen", "LETHE_LISTEN", "address to serve on (default 127.0.0.1:8080)", setString(&cfg.Listen)},
		{"data-dir", "LETHE_DATA_DIR", "data directory for the SQLite database and the built-in connectors' stores (default ./data)", setString(&cfg.DataDir)},
		{"ledger-dir", "LETHE_LEDGER_DIR", "directory of the erasure ledger (default <data-dir>/ledger): keep this on other storage; it may be kept forever, it contains no personal data", setString(&cfg.LedgerDir)},
		{"database", "LETHE_DATABASE", "PostgreSQL URL postgres://…; empty: SQLite in the data directory", setString(&cfg.Database)},
		{"phone-region", "LETHE_PHONE_REGION", "country assumed for national phone numbers in search, ISO 3166 code (default GB)", setString(&cfg.PhoneRegion)},
		{"sweep-schedule", "LETHE_SWEEP_SCHEDULE", "cron expression of scheduled sweeps (5 fields, or 6 with seconds); default hourly", setString(&cfg.Scheduler.SweepSchedule)},
		{"lease-ttl", "LETHE_LEASE_TTL", "term of the sweep and leader leases, e.g. 30s (default 30s)", parseDuration("lease-ttl", &cfg.Scheduler.LeaseTTL)},
		{"sweep-batch-size", "LETHE_SWEEP_BATCH_SIZE", "customers per connector call of a sweep (default 500)", parsePositive("sweep-batch-size", &cfg.Scheduler.SweepBatchSize)},
		{"sweep-max-rate", "LETHE_SWEEP_MAX_RATE", "most customers per second a sweep relinquishes (default: no cap)", parsePositive("sweep-max-rate", &cfg.Scheduler.SweepMaxRate)},
		{"database-max-conns", "LETHE_DATABASE_MAX_CONNS", "most PostgreSQL connections of this process (default 20)", parsePositive("database-max-conns", &cfg.DatabaseMaxConns)},
		{"sweep", "LETHE_SWEEP", "run scheduled sweeps in this process: true|false (default true)", parseBool("sweep", &cfg.Sweep)},
		{"playground", "LETHE_PLAYGROUND", "serve the GraphQL playground and allow introspection: true|false (default false)", parseBool("playground", &cfg.Playground)},
		{"metrics", "LETHE_METRICS", "serve Prometheus metrics at /metrics: true|false (default true)", parseBool("metrics", &cfg.Metrics)},
		{"max-depth", "LETHE_MAX_DEPTH", "deepest nesting of a GraphQL operation (default 15)", parsePositive("max-depth", &cfg.Limits.MaxDepth)},
		{"max-complexity", "LETHE_MAX_COMPLEXITY", "highest complexity of a GraphQL operation (default 1000)", parsePositive("max-complexity", &cfg.Limits.MaxComplexity)},
		{"max-body-bytes", "LETHE_MAX_BODY_BYTES", "largest request body in bytes (default 1048576)", parsePositive("max-body-bytes", &cfg.Limits.MaxBodyBytes)},
		{"cors-origins", "LETHE_CORS_ORIGINS", "comma-separated origins of browser apps allowed to call the API, e.g. https://console.example.com (default none)",
			func(v string) error { cfg.CORSOrigins = strings.Split(v, ","); return nil }},
		{"dry-run-retention", "LETHE_DRY_RUN_RETENTION", "how long dry runs and their plans are kept, e.g. 72h, or forever (default 168h)", parseKeep("dry-run-retention", &cfg.Scheduler.DryRunRetention)},
		{"request-timeout", "LETHE_REQUEST_TIMEOUT", "longest a request may work, e.g. 30s (default 30s)", parseDuration("request-timeout", &cfg.Limits.RequestTimeout)},
	}
}

func setString(dst *string) func(string) error {
	return func(v string) error { *dst = v; return nil }
}

func parseDuration(name string, dst *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s: %q is not a duration such as 30s", name, v)
		}
		*dst = d
		return nil
	}
}

// parseKeep reads a retention period: a positive duration, or "forever"
// (stored as the negative value the scheduler reads as "never delete").
func parseKeep(name string, dst *time.Duration) func(string) error {
	return func(v string) error {
		if v == "forever" {
			*dst = -1
			return nil
		}
		return parseDuration(name, dst)(v)
	}
}

func parseBool(name string, dst *bool) func(string) error {
	return func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", name, v)
		}
		*dst = b
		return nil
	}
}

func parsePositive[T int | int64](name string, dst *T) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s: %q is not a positive whole number", name, v)
		}
		*dst = T(n)
		return nil
	}
}

// loadConfig parses the flags of a command over the file and environment.
func loadConfig(command string, args []string, extra ...func(*flag.FlagSet)) (Config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	configFile := fs.String("config", os.Getenv("LETHE_CONFIG"), "YAML configuration file (see examples/lethe.yaml)")
	// The flags are read into strings first: the file, read after the
	// flags are parsed, comes under the environment and the flags.
	settings := cfg.settings()
	flags := make([]*string, len(settings))
	for i, st := range settings {
		flags[i] = fs.String(st.flag, "", st.usage+" (env "+st.env+")")
	}
	for _, e := range extra {
		e(fs)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *configFile != "" {
		if err := cfg.readFile(*configFile); err != nil {
			return cfg, err
		}
	}
	for i, st := range settings {
		for _, v := range []string{os.Getenv(st.env), *flags[i]} {
			if v == "" {
				continue
			}
			if err := st.set(v); err != nil {
				return cfg, err
			}
		}
	}
	err := cfg.normaliseOrigins()
	return cfg, err
}

// readFile reads the YAML configuration file over the defaults.
func (cfg *Config) readFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, cfg); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if cfg.Connectors.DataDir != "" {
		cfg.DataDir = cfg.Connectors.DataDir
	}
	cfg.ConfigFile = path
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	cfg.Connectors = cfg.Connectors.RelativeTo(filepath.Dir(abs))
	return nil
}

// normaliseOrigins checks the CORS origins and drops a trailing slash.
func (cfg *Config) normaliseOrigins() error {
	origins := cfg.CORSOrigins
	cfg.CORSOrigins = nil
	for _, o := range origins {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			return fmt.Errorf("cors-origins: %q is not an origin such as https://console.example.com", o)
		}
		cfg.CORSOrigins = append(cfg.CORSOrigins, o)
	}
	return nil
}
