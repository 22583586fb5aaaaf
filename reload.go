package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"gopkg.in/yaml.v3"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/retention"
)

// ReloadConnectors reads the configuration file again and reloads the
// connector plugins from it, one at a time, without stopping Lethe (see
// connectors.Manager.Reload); then it starts a run that sends the open
// journal entries to the new processes at once. Run is that run; nil when
// another run holds the sweep lease (it resumes them) or no entry is open.
// Errors: BAD_USER_INPUT when the file cannot be read or changes the set
// of connectors.
func (a *App) ReloadConnectors(ctx context.Context) ([]connectors.ReloadResult, *retention.Run, error) {
	if a.Connectors == nil {
		return nil, nil, retention.Errorf(retention.CodeBadUserInput, "this process runs no connectors")
	}
	cfg := a.Config
	if cfg.ConfigFile != "" {
		cc, err := readConnectorsFile(cfg.ConfigFile)
		if err != nil {
			return nil, nil, retention.Errorf(retention.CodeBadUserInput, "connectors not reloaded: %v", err)
		}
		cfg.Connectors = cc
	}
	results, err := a.Connectors.Reload(ctx, connectorsConfig(cfg))
	if err != nil {
		return nil, nil, retention.Errorf(retention.CodeBadUserInput, "connectors not reloaded: %v", err)
	}
	run, err := a.Service.ResumeOpenEntries(ctx, "reload")
	if errors.Is(err, retention.ErrSweepRunning) {
		return results, nil, nil
	}
	if err != nil || run.ID == "" {
		return results, nil, err
	}
	return results, &run, nil
}

// readConnectorsFile reads the connectors part of the configuration file,
// relative paths resolved against it.
func readConnectorsFile(path string) (connectors.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return connectors.Config{}, err
	}
	var cfg Config
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return connectors.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return connectors.Config{}, err
	}
	return cfg.Connectors.RelativeTo(filepath.Dir(abs)), nil
}

// reloadOnSIGHUP reloads the connectors each time the process gets SIGHUP,
// as `kill -HUP` after a plugin's checksum was updated, until ctx ends.
func (a *App) reloadOnSIGHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			results, run, err := a.ReloadConnectors(ctx)
			if err != nil {
				a.Log.Error("SIGHUP: connectors not reloaded", "error", err)
				continue
			}
			failed := 0
			for _, r := range results {
				if r.Err != nil {
					failed++
				}
			}
			runID := ""
			if run != nil {
				runID = run.ID
			}
			a.Log.Info("SIGHUP: connectors reloaded", "connectors", len(results), "failed", failed, "resume_run", runID)
		}
	}()
}

// graphReload is ReloadConnectors in the resolver's terms.
func (a *App) graphReload(ctx context.Context) ([]graph.ConnectorReloadResult, *retention.Run, error) {
	results, run, err := a.ReloadConnectors(ctx)
	out := make([]graph.ConnectorReloadResult, len(results))
	for i, r := range results {
		version := r.Version
		if r.Err != nil {
			version = r.OldVersion
		}
		out[i] = graph.ConnectorReloadResult{Name: r.Name, PreviousVersion: r.OldVersion, Version: version, Err: r.Err}
	}
	return out, run, err
}
