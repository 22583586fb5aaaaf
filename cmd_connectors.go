package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lethe-privacy/lethe/connectors"
)

const connectorsUsage = `usage: lethe connectors checksum [--config FILE] [--plugin-dir DIR] [PATH…]

Prints the connectors: block of Lethe's configuration with the sha256 of
every plugin binary as it is on disk now: the built-in connectors (from
--plugin-dir, default beside the lethe binary), the connectors the
configuration file lists (their settings kept), and each PATH given (named
by what it answers to --version). Paste it into the file, then reload the
connectors (SIGHUP, or the reloadConnectors mutation): no restart.`

// connectorsCmd is `lethe connectors …`.
func connectorsCmd(_ context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "checksum" {
		fmt.Fprintln(os.Stderr, connectorsUsage)
		return errors.New("connectors: the only subcommand is checksum")
	}
	fs := flag.NewFlagSet("connectors checksum", flag.ContinueOnError)
	configFile := fs.String("config", os.Getenv("LETHE_CONFIG"), "Lethe's configuration file: its connectors are listed too, settings kept")
	pluginDir := fs.String("plugin-dir", "", "where the built-in plugins are (default: beside the lethe binary)")
	fs.Usage = func() { fmt.Fprintln(fs.Output(), connectorsUsage); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *pluginDir == "" {
		*pluginDir = executableDir()
	}
	block, err := checksumBlock(*configFile, *pluginDir, fs.Args())
	if err != nil {
		return err
	}
	_, err = stdout.Write(block)
	return err
}

// checksumEntry is one connector as the block prints it.
type checksumEntry struct {
	Name     string                        `yaml:"name"`
	Path     string                        `yaml:"path"`
	SHA256   string                        `yaml:"sha256"`
	Settings map[string]connectors.Setting `yaml:"settings,omitempty"`
	Timeout  time.Duration                 `yaml:"call_timeout,omitempty"`
	version  string
}

// checksumBlock builds the YAML: built-ins, then the configured
// connectors, then the paths given, a later one replacing an earlier one of
// the same name; each with the checksum of its binary now.
func checksumBlock(configFile, pluginDir string, paths []string) ([]byte, error) {
	var entries []checksumEntry
	add := func(e checksumEntry) {
		for i := range entries {
			if entries[i].Name == e.Name {
				entries[i] = e
				return
			}
		}
		entries = append(entries, e)
	}
	for _, name := range connectors.BuiltinPlugins {
		if path := filepath.Join(pluginDir, "lethe-"+name); fileExists(path) {
			add(checksumEntry{Name: name, Path: path})
		}
	}
	base := ""
	if configFile != "" {
		cfg, err := loadConfig("connectors checksum", []string{"--config", configFile})
		if err != nil {
			return nil, err
		}
		abs, _ := filepath.Abs(configFile)
		base = filepath.Dir(abs)
		for _, p := range cfg.Connectors.Connectors {
			add(checksumEntry{Name: p.Name, Path: p.Path, Settings: p.Settings, Timeout: p.CallTimeout})
		}
	}
	for _, path := range paths {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		name, version := pluginIdentity(abs)
		e := checksumEntry{Name: name, Path: abs, version: version}
		for _, old := range entries {
			if old.Name == name {
				e.Settings, e.Timeout = old.Settings, old.Timeout
			}
		}
		add(e)
	}
	var out strings.Builder
	out.WriteString("connectors:\n")
	for _, e := range entries {
		sum, err := connectors.FileSHA256(e.Path)
		if err != nil {
			return nil, fmt.Errorf("connector %q: %w", e.Name, err)
		}
		e.SHA256 = sum
		if base != "" {
			// Paths beside the configuration file stay relative to it.
			if rel, err := filepath.Rel(base, e.Path); err == nil && !strings.HasPrefix(rel, "..") {
				e.Path = "./" + rel
			}
		}
		if e.version == "" {
			_, e.version = pluginIdentity(e.Path)
		}
		raw, err := yaml.Marshal([]checksumEntry{e})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&out, "  # %s %s\n", e.Name, e.version)
		for _, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
			out.WriteString("  " + line + "\n")
		}
	}
	return []byte(out.String()), nil
}

// pluginIdentity asks a plugin binary its name and version (--version);
// a binary that does not answer is named after its file.
func pluginIdentity(path string) (name, version string) {
	name = strings.TrimPrefix(filepath.Base(path), "lethe-")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if f := strings.Fields(string(out)); err == nil && len(f) == 2 {
		return f[0], f[1]
	}
	return name, "(no --version answer)"
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}
