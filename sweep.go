package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// sweepCmd runs one sweep from the command line: `lethe sweep [--dry-run]
// [--as-of T]`, with a progress bar on a terminal.
func sweepCmd(ctx context.Context, args []string) error {
	var dryRun bool
	var asOf string
	var batch int
	var cpuProfile string
	cfg, err := loadConfig("sweep", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "show what would be done; change nothing")
		fs.StringVar(&asOf, "as-of", "", "act as of this RFC 3339 time (dry runs may look into the future)")
		fs.IntVar(&batch, "batch-size", 0, "customers per connector call (default 500)")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	})
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// A sweep allocates and drops a batch's rows, statements and
		// connector results over and over while its live heap stays
		// small (a batch or two): collecting at 4x the live heap instead
		// of 2x took a seventh off its CPU at 20,000 customers, for a
		// heap still bounded by the batch size, not the customers.
		debug.SetGCPercent(400)
	}
	if cpuProfile != "" {
		stop, err := startCPUProfile(cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	opts := retention.RunOptions{DryRun: dryRun, Trigger: "cli", Actor: "cli:" + currentUser()}
	if asOf != "" {
		t, err := time.Parse(time.RFC3339, asOf)
		if err != nil {
			return fmt.Errorf("--as-of: %q is not an RFC 3339 time such as 2026-12-01T00:00:00Z", asOf)
		}
		opts.AsOf = &t
	}
	// A sweep serves nothing: no metrics to collect.
	cfg.Metrics = false
	app, err := OpenApp(ctx, cfg, AppOptions{Connectors: true})
	if err != nil {
		return err
	}
	defer app.Close()
	engine := app.Engine
	if err := app.catchUpUnlessDry(ctx, dryRun); err != nil {
		return err
	}
	if batch > 0 {
		engine.BatchSize = batch
	}
	if isTerminal(os.Stderr) {
		engine.Progress = progressBar(os.Stderr)
	}
	run, err := engine.Run(ctx, opts)
	if isTerminal(os.Stderr) {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil && run.ID == "" {
		return cliError(err)
	}
	printRun(os.Stdout, run)
	if dryRun {
		actions, aerr := app.Store.RunActions(ctx, run.ID, 20)
		if aerr == nil && len(actions) > 0 {
			fmt.Printf("first actions of the plan (all of them: retentionRun(id: %q) { actions(first: …) }):\n", run.ID)
			for _, a := range actions {
				fmt.Printf("  %-28s %-14s %s\n", a.CustomerID, a.Connector, a.Action)
			}
		}
	}
	if err != nil {
		return cliError(err)
	}
	if run.Status == retention.RunFailed {
		return fmt.Errorf("run %s failed: %s", run.ID, run.Error)
	}
	return nil
}

func printRun(w io.Writer, run retention.Run) {
	kind := "sweep"
	if run.DryRun {
		kind = "dry run"
	}
	fmt.Fprintf(w, "%s %s as of %s: %s; customers planned %d, done %d, failed %d, skipped %d; connector actions %d\n",
		kind, run.ID, run.AsOf.Format(time.RFC3339), run.Status, run.CustomersPlanned, run.CustomersDone,
		run.CustomersFailed, run.CustomersSkipped, run.ActionsPlanned)
	if run.Error != "" {
		fmt.Fprintln(w, "  ", run.Error)
	}
}

func progressBar(w io.Writer) func(retention.Run) {
	return func(run retention.Run) {
		total := max(run.CustomersPlanned, 1)
		finished := run.CustomersDone + run.CustomersFailed + run.CustomersSkipped
		const width = 30
		filled := min(width, finished*width/total)
		fmt.Fprintf(w, "\r[%s%s] %3d%% %d/%d customers (failed %d, skipped %d)", strings.Repeat("#", filled),
			strings.Repeat(" ", width-filled), finished*100/total, finished, run.CustomersPlanned, run.CustomersFailed, run.CustomersSkipped)
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// cliError shows domain errors as their message and others in full: the
// command line is the operator's own terminal.
func cliError(err error) error {
	if retention.ErrorCode(err) == retention.CodeInternal {
		return err
	}
	return errors.New(retention.ErrorMessage(err))
}
