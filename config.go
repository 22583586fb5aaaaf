package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/scheduler"
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
	// Playground serves the GraphQL playground and allows introspection.
	Playground bool `yaml:"playground"`
	// Connectors configures the connector plugins; its data_dir is Lethe's
	// data directory.
	Connectors connectors.Config `yaml:",inline"`
	// Scheduler configures the sweep (sweep_schedule, default hourly) and
	// the clean-up of visits left open.
	Scheduler scheduler.Config `yaml:"scheduler"`
	// Sweep: false runs no scheduled sweeps in this process (sweeps can
	// still be started through the API or `lethe sweep`).
	Sweep bool `yaml:"sweep"`

	DataDir    string `yaml:"-"`
	ConfigFile string `yaml:"-"`
}

func defaultConfig() Config {
	return Config{Listen: "127.0.0.1:8080", DataDir: "./data", Playground: true, Sweep: true}
}

// loadConfig parses the flags of a command over the file and environment.
func loadConfig(command string, args []string, extra ...func(*flag.FlagSet)) (Config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	configFile := fs.String("config", os.Getenv("LETHE_CONFIG"), "YAML configuration file (see examples/lethe.yaml)")
	listen := fs.String("listen", "", "address to serve on (default 127.0.0.1:8080; env LETHE_LISTEN)")
	dataDir := fs.String("data-dir", "", "data directory for the SQLite database and the built-in connectors' stores (default ./data; env LETHE_DATA_DIR)")
	database := fs.String("database", "", "PostgreSQL URL postgres://…; empty: SQLite in the data directory (env LETHE_DATABASE)")
	sweepSchedule := fs.String("sweep-schedule", "", "cron expression of scheduled sweeps (5 fields, or 6 with seconds); default hourly (env LETHE_SWEEP_SCHEDULE)")
	sweep := fs.String("sweep", "", "run scheduled sweeps in this process: true|false (default true; env LETHE_SWEEP)")
	playground := fs.String("playground", "", "serve the GraphQL playground and allow introspection: true|false (default true; env LETHE_PLAYGROUND)")
	for _, e := range extra {
		e(fs)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *configFile != "" {
		b, err := os.ReadFile(*configFile)
		if err != nil {
			return cfg, err
		}
		if err := yaml.Unmarshal(b, &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", *configFile, err)
		}
		if cfg.Connectors.DataDir != "" {
			cfg.DataDir = cfg.Connectors.DataDir
		}
		cfg.ConfigFile = *configFile
	}
	overrides := []struct {
		flag, env string
		set       func(string) error
	}{
		{*listen, "LETHE_LISTEN", func(v string) error { cfg.Listen = v; return nil }},
		{*dataDir, "LETHE_DATA_DIR", func(v string) error { cfg.DataDir = v; return nil }},
		{*database, "LETHE_DATABASE", func(v string) error { cfg.Database = v; return nil }},
		{*sweepSchedule, "LETHE_SWEEP_SCHEDULE", func(v string) error { cfg.Scheduler.SweepSchedule = v; return nil }},
		{*sweep, "LETHE_SWEEP", func(v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("sweep: %q is not true or false", v)
			}
			cfg.Sweep = b
			return nil
		}},
		{*playground, "LETHE_PLAYGROUND", func(v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("playground: %q is not true or false", v)
			}
			cfg.Playground = b
			return nil
		}},
	}
	for _, o := range overrides {
		for _, v := range []string{os.Getenv(o.env), o.flag} {
			if v == "" {
				continue
			}
			if err := o.set(v); err != nil {
				return cfg, err
			}
		}
	}
	return cfg, nil
}
