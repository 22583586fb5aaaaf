package connectors

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Setting is one value passed to a plugin's Configure. In YAML it is a
// plain value, or names where to read the value at each launch, so that a
// secret (a DSN with a password) never sits in the configuration file:
//
//	settings:
//	  file: /var/lib/newsletter/subscribers.json   # plain
//	  dsn: {env: NEWSLETTER_DSN}                   # from the environment
//	  api_key: {file: secrets/newsletter.key}      # from a file (trailing newline dropped)
//
// A relative file is relative to the configuration file. The value is read
// afresh at every launch and reload, so rotating a secret needs only a
// reload; a variable that is unset or a file that cannot be read fails the
// launch, naming the setting but never its value.
type Setting struct {
	Value string
	Env   string
	File  string
}

// Plain makes settings of plain values, for code that configures plugins.
func Plain(values map[string]string) map[string]Setting {
	if values == nil {
		return nil
	}
	out := make(map[string]Setting, len(values))
	for k, v := range values {
		out[k] = Setting{Value: v}
	}
	return out
}

// UnmarshalYAML reads a scalar, {env: NAME} or {file: PATH}.
func (s *Setting) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = Setting{Value: n.Value}
		return nil
	}
	var ref struct {
		Env  string `yaml:"env"`
		File string `yaml:"file"`
	}
	if n.Kind != yaml.MappingNode || n.Decode(&ref) != nil || (ref.Env == "") == (ref.File == "") || len(n.Content) != 2 {
		return fmt.Errorf("line %d: a setting is a plain value, {env: NAME} or {file: PATH}", n.Line)
	}
	*s = Setting{Env: ref.Env, File: ref.File}
	return nil
}

// MarshalYAML writes the setting back in the form it was read in
// ({env: NAME} and {file: PATH} on one line).
func (s Setting) MarshalYAML() (any, error) {
	ref := func(key, value string) *yaml.Node {
		return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: key}, {Kind: yaml.ScalarNode, Value: value}}}
	}
	switch {
	case s.Env != "":
		return ref("env", s.Env), nil
	case s.File != "":
		return ref("file", s.File), nil
	}
	return s.Value, nil
}

// resolve returns the value now.
func (s Setting) resolve() (string, error) {
	switch {
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, nil
	case s.File != "":
		raw, err := os.ReadFile(s.File)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("read %s: %v", s.File, err)
		}
		return strings.TrimRight(string(raw), "\r\n"), nil
	}
	return s.Value, nil
}

// resolveSettings reads every setting of a connector for a launch.
func resolveSettings(settings map[string]Setting) (map[string]string, error) {
	out := make(map[string]string, len(settings)+1)
	for k, s := range settings {
		v, err := s.resolve()
		if err != nil {
			return nil, fmt.Errorf("setting %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

func relativeSettings(settings map[string]Setting, dir string) map[string]Setting {
	if settings == nil {
		return nil
	}
	out := make(map[string]Setting, len(settings))
	for k, s := range settings {
		if s.File != "" && !filepath.IsAbs(s.File) {
			s.File = filepath.Join(dir, s.File)
		}
		out[k] = s
	}
	return out
}
