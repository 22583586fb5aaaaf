package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lethe-privacy/lethe/evidence"
)

// evidenceCmd writes the evidence pack of a period:
//
//	lethe evidence --from 2026-01-01 --to 2026-04-01 --out pack.zip
func evidenceCmd(ctx context.Context, args []string) error {
	var from, to, out string
	cfg, err := loadConfig("evidence", args, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "start of the period, included: 2026-01-01 or an RFC 3339 time")
		fs.StringVar(&to, "to", "", "end of the period, excluded: 2026-04-01 or an RFC 3339 time (default now)")
		fs.StringVar(&out, "out", "", "the zip file to write (default evidence_<from>_<to>.zip)")
	})
	if err != nil {
		return err
	}
	start, err := parseDay("from", from)
	if err != nil {
		return err
	}
	end := time.Now().UTC()
	if to != "" {
		if end, err = parseDay("to", to); err != nil {
			return err
		}
	}
	app, err := OpenApp(ctx, cfg, AppOptions{Connectors: true})
	if err != nil {
		return err
	}
	defer app.Close()
	pack, err := evidence.Build(ctx, *app.EvidenceSources(), start, end)
	if err != nil {
		return err
	}
	if out == "" {
		out = pack.FileName()
	}
	// Written beside, then renamed: a failure never leaves half a pack
	// under the final name.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".evidence-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := errors.Join(pack.WriteZip(tmp), tmp.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %s to %s, %d sweeps, %d manual erasures, %d exports\n", out, pack.From.Format(time.RFC3339), pack.To.Format(time.RFC3339),
		len(pack.Sweeps), len(pack.ManualErasures), len(pack.Exports))
	return nil
}

// parseDay reads 2026-01-01 (midnight UTC) or an RFC 3339 time.
func parseDay(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("--%s is required (2026-01-01 or an RFC 3339 time)", name)
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want 2026-01-01 or an RFC 3339 time", name, v)
	}
	return t.UTC(), nil
}
