package connectors_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lethe-privacy/lethe/connectors"
)

// TestConfigFileSettings parses a connectors block as Lethe's
// configuration file holds it: a relative path and a relative settings
// file resolve against the file's directory, and settings may name an
// environment variable or a file instead of a value.
func TestConfigFileSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sum := strings.Repeat("0a", 32)
	raw := `
connectors:
  - name: newsletter
    path: bin/connector-newsletter
    sha256: ` + sum + `  connector-newsletter
    settings:
      file: /tmp/list.json
      dsn: {env: LETHE_TEST_NEWSLETTER_DSN}
      api_key: {file: secrets/key}
health_interval: 5s
`
	var cfg connectors.Config
	if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg = cfg.RelativeTo(dir)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p := cfg.Connectors[0]
	if p.Path != filepath.Join(dir, "bin/connector-newsletter") || cfg.HealthInterval != 5*time.Second {
		t.Errorf("parsed %+v", cfg)
	}
	want := map[string]connectors.Setting{"file": {Value: "/tmp/list.json"}, "dsn": {Env: "LETHE_TEST_NEWSLETTER_DSN"},
		"api_key": {File: filepath.Join(dir, "secrets/key")}}
	for k, v := range want {
		if p.Settings[k] != v {
			t.Errorf("setting %s = %+v, want %+v", k, p.Settings[k], v)
		}
	}
	for _, bad := range []string{"{env: A, file: b}", "{}", "{path: x}", "[a, b]"} {
		var s connectors.Setting
		if err := yaml.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("setting %s accepted as %+v", bad, s)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
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
