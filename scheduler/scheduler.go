// Package scheduler runs Lethe's periodic jobs with gocron: the retention
// sweep on a cron schedule, the clean-up of visits left open, and the
// redelivery of ended visits a connector missed. Among
// several replicas only the elected leader runs them.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
)

// Config configures the jobs.
type Config struct {
	// SweepSchedule is a cron expression (5 fields, or 6 with seconds
	// first); default hourly.
	SweepSchedule string `yaml:"sweep_schedule"`
	// VisitCleanupSchedule is when visits left open are ended; default
	// every 15 minutes.
	VisitCleanupSchedule string `yaml:"visit_cleanup_schedule"`
	// VisitMaxOpen is how long a visit may stay open before the clean-up
	// ends it (erasing walk-in data stored on it); default 12h.
	VisitMaxOpen time.Duration `yaml:"visit_max_open"`
	// VisitRecordsSchedule is when ended visits a connector missed are
	// sent again; default every minute.
	VisitRecordsSchedule string `yaml:"visit_records_schedule"`
	// LeaseTTL is the term of the sweep lease and of the leader lease;
	// default 30s. A process frozen or cut off for longer is replaced, and
	// fenced out: what it then tries to change is refused. Shorter terms
	// replace a frozen sweeper sooner and cost more renewals.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// SweepBatchSize is the number of customers per connector call of a
	// sweep; default 500. Smaller batches reach checkpoints more often.
	SweepBatchSize int `yaml:"sweep_batch_size"`
	// SweepMaxRate caps a sweep's customers per second; 0: no cap.
	SweepMaxRate int `yaml:"sweep_max_rate"`
	// ResidueAuditEvery is how often a batch of erased customers from the
	// erasure ledger is checked in every connector (default 10m; 0 after
	// defaults is impossible, a negative value turns the audit off), and
	// ResidueAuditCycle how long it takes to check all of them, newest
	// first (default 168h): the batch is sized to fit.
	ResidueAuditEvery time.Duration `yaml:"residue_audit_every"`
	ResidueAuditCycle time.Duration `yaml:"residue_audit_cycle"`
	// CanaryEvery, when set, plants a synthetic customer in every
	// connector that often, deletes it and checks it is gone (off by
	// default: it writes made-up data into the real stores).
	CanaryEvery time.Duration `yaml:"canary_every"`
	// DryRunRetention is how long dry runs and previews are kept, with
	// their plans (default 168h, retention.DefaultDryRunRetention; a
	// negative value keeps them for ever). The clean-up runs hourly.
	DryRunRetention time.Duration `yaml:"dry_run_retention"`
}

// DefaultLeaseTTL is the default term of the sweep and leader leases.
const DefaultLeaseTTL = 30 * time.Second

// Lease returns the configured lease term, or the default.
func (c Config) Lease() time.Duration {
	if c.LeaseTTL <= 0 {
		return DefaultLeaseTTL
	}
	return c.LeaseTTL
}

func (c Config) withDefaults() Config {
	if c.SweepSchedule == "" {
		c.SweepSchedule = "0 * * * *"
	}
	if c.VisitCleanupSchedule == "" {
		c.VisitCleanupSchedule = "*/15 * * * *"
	}
	if c.VisitMaxOpen == 0 {
		c.VisitMaxOpen = 12 * time.Hour
	}
	if c.VisitRecordsSchedule == "" {
		c.VisitRecordsSchedule = "* * * * *"
	}
	if c.ResidueAuditEvery == 0 {
		c.ResidueAuditEvery = 10 * time.Minute
	}
	if c.DryRunRetention == 0 {
		c.DryRunRetention = retention.DefaultDryRunRetention
	}
	if c.ResidueAuditCycle <= 0 {
		c.ResidueAuditCycle = 7 * 24 * time.Hour
	}
	return c
}

// Residue returns the residue audit's interval and cycle, defaults applied;
// every <= 0: off.
func (c Config) Residue() (every, cycle time.Duration) {
	c = c.withDefaults()
	return c.ResidueAuditEvery, c.ResidueAuditCycle
}

// Every runs task every d (the leader only, one at a time), the first time
// after d: jobs such as the residue audit that other packages define.
func (s *Scheduler) Every(name string, d time.Duration, task func(ctx context.Context)) error {
	_, err := s.s.NewJob(gocron.DurationJob(d), gocron.NewTask(task), gocron.WithName(name),
		gocron.WithSingletonMode(gocron.LimitModeReschedule))
	return err
}

// Scheduler runs the jobs until Stop.
type Scheduler struct {
	s    gocron.Scheduler
	log  *slog.Logger
	quit chan struct{}
	done chan struct{}
}

// JoinSweeps looks every `every` for a run with unclaimed batches, on every
// replica (not the leader only: the leader starts and plans a run, the
// others share its batches), and claims them until none is left. The look
// is one indexed read (a claim, a write, follows only when it finds one).
func (s *Scheduler) JoinSweeps(engine *relinquish.Engine, every time.Duration) {
	s.quit, s.done = make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.quit
		cancel()
	}()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := engine.Join(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Error("sweep batches joined with errors", "batches", n, "err", err)
			} else if n > 0 {
				s.log.Info("sweep batches of a shared run finished", "batches", n)
			}
		}
	}()
}

// Start schedules the sweep and the visit clean-up. elector decides, on
// every run, whether this process is the leader; nil means it always is (one
// process on SQLite). The first sweep runs at once, so that a restarted
// process finishes the journal entries a crash left open.
func Start(cfg Config, engine *relinquish.Engine, svc *retention.Service, elector gocron.Elector, log *slog.Logger) (*Scheduler, error) {
	cfg = cfg.withDefaults()
	opts := []gocron.SchedulerOption{gocron.WithLocation(time.UTC)}
	if elector != nil {
		opts = append(opts, gocron.WithDistributedElector(elector))
	}
	s, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, err
	}
	sweep := func(ctx context.Context) {
		run, err := engine.Run(ctx, retention.RunOptions{Trigger: "scheduler", Actor: "scheduler"})
		switch {
		case errors.Is(err, retention.ErrSweepRunning):
			log.Info("scheduled sweep skipped: another sweep is running")
		case err != nil:
			log.Error("scheduled sweep failed", "run", run.ID, "err", err)
		default:
			log.Info("scheduled sweep finished", "run", run.ID, "status", run.Status, "planned", run.CustomersPlanned,
				"done", run.CustomersDone, "failed", run.CustomersFailed, "skipped", run.CustomersSkipped)
		}
	}
	// Singleton mode: a sweep that outlasts its interval is not started
	// twice in this process; the sweep lease covers other processes.
	if _, err := s.NewJob(cronJob(cfg.SweepSchedule), gocron.NewTask(sweep),
		gocron.WithName("retention-sweep"), gocron.WithSingletonMode(gocron.LimitModeReschedule),
		gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
		s.Shutdown() //nolint:errcheck
		return nil, fmt.Errorf("sweep schedule %q: %w", cfg.SweepSchedule, err)
	}
	cleanup := func(ctx context.Context) {
		n, err := svc.EndStaleVisits(ctx, cfg.VisitMaxOpen)
		if err != nil {
			log.Error("visit clean-up failed", "err", err)
		} else if n > 0 {
			log.Info("visits left open were ended", "visits", n)
		}
	}
	if _, err := s.NewJob(cronJob(cfg.VisitCleanupSchedule), gocron.NewTask(cleanup),
		gocron.WithName("visit-cleanup"), gocron.WithSingletonMode(gocron.LimitModeReschedule)); err != nil {
		s.Shutdown() //nolint:errcheck
		return nil, fmt.Errorf("visit clean-up schedule %q: %w", cfg.VisitCleanupSchedule, err)
	}
	deliver := func(ctx context.Context) {
		if n, err := svc.DeliverPendingVisits(ctx); err != nil {
			log.Warn("ended visits not yet recorded by every connector; retried on the next run", "delivered", n, "err", err)
		} else if n > 0 {
			log.Info("ended visits recorded by the connectors that had missed them", "visits", n)
		}
	}
	if _, err := s.NewJob(cronJob(cfg.VisitRecordsSchedule), gocron.NewTask(deliver),
		gocron.WithName("visit-records"), gocron.WithSingletonMode(gocron.LimitModeReschedule)); err != nil {
		s.Shutdown() //nolint:errcheck
		return nil, fmt.Errorf("visit records schedule %q: %w", cfg.VisitRecordsSchedule, err)
	}
	if err := scheduleDryRunCleanup(s, cfg.DryRunRetention, svc, log); err != nil {
		s.Shutdown() //nolint:errcheck
		return nil, err
	}
	s.Start()
	return &Scheduler{s: s, log: log}, nil
}

// scheduleDryRunCleanup deletes the dry runs older than keep every hour,
// the first time at once.
func scheduleDryRunCleanup(s gocron.Scheduler, keep time.Duration, svc *retention.Service, log *slog.Logger) error {
	if keep < 0 {
		return nil
	}
	purge := func(ctx context.Context) {
		if n, err := svc.PurgeDryRuns(ctx, keep); err != nil {
			log.Error("dry run clean-up failed", "deleted", n, "err", err)
		} else if n > 0 {
			log.Info("old dry runs deleted", "runs", n, "older_than", keep)
		}
	}
	_, err := s.NewJob(gocron.DurationJob(time.Hour), gocron.NewTask(purge), gocron.WithName("dry-run-cleanup"),
		gocron.WithSingletonMode(gocron.LimitModeReschedule), gocron.WithStartAt(gocron.WithStartImmediately()))
	return err
}

// cronJob accepts 5-field expressions and 6-field ones with seconds.
func cronJob(expr string) gocron.JobDefinition {
	return gocron.CronJob(expr, len(strings.Fields(expr)) == 6)
}

// Stop waits for running jobs and stops.
func (s *Scheduler) Stop() error {
	if s.quit != nil {
		close(s.quit)
		<-s.done
	}
	return s.s.Shutdown()
}
