package connectors_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
)

func TestLoadConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lethe.yaml")
	sum := strings.Repeat("0a", 32)
	yaml := `
http: {addr: ":8080"}   # other keys of Lethe's config are ignored
connectors:
  - name: newsletter
    path: bin/connector-newsletter
    sha256: ` + sum + `  connector-newsletter
    settings: {file: /tmp/list.json}
health_interval: 5s
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := connectors.LoadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Connectors[0]
	if p.Path != filepath.Join(dir, "bin/connector-newsletter") || p.Settings["file"] != "/tmp/list.json" || cfg.HealthInterval != 5*time.Second {
		t.Errorf("parsed %+v", cfg)
	}
}

func TestConfigValidation(t *testing.T) {
	ok := connectors.PluginConfig{Name: "a", Path: "/x", SHA256: strings.Repeat("ff", 32)}
	for _, tc := range []struct {
		name string
		edit func(*connectors.PluginConfig)
		want string
	}{
		{"bad name", func(p *connectors.PluginConfig) { p.Name = "../etc" }, "name"},
		{"no path", func(p *connectors.PluginConfig) { p.Path = "" }, `"a": path`},
		{"short hash", func(p *connectors.PluginConfig) { p.SHA256 = "abc" }, `"a": sha256`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			err := connectors.Config{Connectors: []connectors.PluginConfig{p}}.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
	if err := (connectors.Config{Connectors: []connectors.PluginConfig{ok, ok}}).Validate(); err == nil {
		t.Error("duplicate names accepted")
	}
}
