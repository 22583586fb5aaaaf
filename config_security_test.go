package main

import (
	"testing"
	"time"
)

// TestSecurityConfig: the limits and switches come from the defaults, the
// example file, the environment and flags, in that order.
func TestSecurityConfig(t *testing.T) {
	cfg, err := loadConfig("serve", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Playground || len(cfg.CORSOrigins) != 0 || !cfg.Metrics || cfg.Limits.MaxDepth != 15 || cfg.Limits.MaxComplexity != 1000 ||
		cfg.Limits.MaxBodyBytes != 1<<20 || cfg.Limits.RequestTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v", cfg)
	}
	t.Setenv("LETHE_CONFIG", "examples/lethe.yaml")
	t.Setenv("LETHE_MAX_DEPTH", "20")
	t.Setenv("LETHE_REQUEST_TIMEOUT", "5s")
	t.Setenv("LETHE_METRICS", "false")
	cfg, err = loadConfig("serve", []string{"--playground=true", "--max-complexity", "2500"})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Playground || cfg.Metrics || cfg.Limits.MaxDepth != 20 || cfg.Limits.MaxComplexity != 2500 ||
		cfg.Limits.MaxBodyBytes != 1<<20 || cfg.Limits.RequestTimeout != 5*time.Second {
		t.Fatalf("file, env and flags: %+v", cfg)
	}
	t.Setenv("LETHE_CORS_ORIGINS", "https://console.example.com/, http://localhost:5173")
	if cfg, err := loadConfig("serve", nil); err != nil || len(cfg.CORSOrigins) != 2 || cfg.CORSOrigins[0] != "https://console.example.com" {
		t.Fatalf("cors origins: %v %v", cfg.CORSOrigins, err)
	}
	t.Setenv("LETHE_CORS_ORIGINS", "")
	if cfg, err := loadConfig("serve", []string{"--dry-run-retention", "72h"}); err != nil || cfg.Scheduler.DryRunRetention != 72*time.Hour {
		t.Fatalf("dry-run-retention 72h: %v %v", cfg.Scheduler.DryRunRetention, err)
	}
	if cfg, err := loadConfig("serve", []string{"--dry-run-retention", "forever"}); err != nil || cfg.Scheduler.DryRunRetention >= 0 {
		t.Fatalf("dry-run-retention forever: %v %v", cfg.Scheduler.DryRunRetention, err)
	}
	for env, bad := range map[string]string{"LETHE_DRY_RUN_RETENTION": "0s", "LETHE_CORS_ORIGINS": "*", "LETHE_MAX_DEPTH": "-1", "LETHE_MAX_BODY_BYTES": "lots", "LETHE_REQUEST_TIMEOUT": "soon", "LETHE_METRICS": "maybe"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, bad)
			if _, err := loadConfig("serve", nil); err == nil {
				t.Fatalf("%s=%s accepted", env, bad)
			}
		})
	}
}
