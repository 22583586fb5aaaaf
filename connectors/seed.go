package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/retention"
)

// SeedBatch is demo data for some customers, sent to every connector.
type SeedBatch struct {
	Seed      int64
	Now       time.Time
	Customers []SeedCustomer
	// Visits that ended.
	Visits []retention.VisitRecord
}

// SeedCustomer is one demo customer and how much data of each kind it has
// in the connectors' stores.
type SeedCustomer struct {
	retention.Subject
	Address     string
	CallRecords int
	Invoices    int
}

// Seeding feeds demo data to every configured connector (or the built-ins
// found beside lethe) through its plugin's seed command (sdk.Seeder):
// `lethe demo` fills the connectors' stores through the plugins
// themselves, never by writing into a store it does not own. Each plugin
// is one process for the whole demo, reading batches as Send gives them
// while the previous ones are written.
type Seeding struct {
	procs  []*seedProc
	logger *slog.Logger
}

type seedProc struct {
	name   string
	cmd    *exec.Cmd
	in     chan []byte
	stderr bytes.Buffer
	done   chan error // the writer's error, then closed
}

// StartSeeding starts `<plugin> seed` for every connector of cfg and gives
// each its settings, as Load would configure it. A configured plugin whose
// checksum does not match is refused, as Load refuses it.
func StartSeeding(ctx context.Context, cfg Config, logger *slog.Logger) (*Seeding, error) {
	logger = orDiscard(logger)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	plugins, err := cfg.plugins(logger)
	if err != nil {
		return nil, err
	}
	s := &Seeding{logger: logger}
	for _, p := range plugins {
		proc, err := startSeedProc(ctx, cfg, p)
		if err != nil {
			s.Close() //nolint:errcheck // the start error says more
			return nil, fmt.Errorf("connector %q: %w", p.Name, err)
		}
		s.procs = append(s.procs, proc)
	}
	return s, nil
}

func startSeedProc(ctx context.Context, cfg Config, p PluginConfig) (*seedProc, error) {
	if len(cfg.Connectors) > 0 { // the built-ins were hashed as they were found, a moment ago
		want, err := decodeChecksum(p.SHA256)
		if err != nil {
			return nil, err
		}
		if got, err := FileSHA256(p.Path); err != nil || !strings.EqualFold(got, fmt.Sprintf("%x", want)) {
			return nil, fmt.Errorf("%w (%s)", ErrChecksumMismatch, p.Path)
		}
	}
	settings, err := cfg.settings(p)
	if err != nil {
		return nil, err
	}
	first, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	proc := &seedProc{name: p.Name, in: make(chan []byte, 1), done: make(chan error, 1)}
	proc.cmd = exec.CommandContext(ctx, p.Path, sdk.SeedCommand)
	setDeathSignal(proc.cmd)
	proc.cmd.Stderr = &proc.stderr
	stdin, err := proc.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := proc.cmd.Start(); err != nil {
		return nil, err
	}
	go proc.write(stdin)
	proc.in <- first
	return proc, nil
}

// write copies the batches to the process; after a failed write it only
// drains, so that Send never blocks on a process that has died.
func (p *seedProc) write(stdin io.WriteCloser) {
	var err error
	for b := range p.in {
		if err == nil {
			_, err = stdin.Write(b)
		}
	}
	if cerr := stdin.Close(); err == nil {
		err = cerr
	}
	p.done <- err
	close(p.done)
}

// Send gives the batch to every connector; it returns once each has taken
// the previous one, so at most one batch waits per process.
func (s *Seeding) Send(b SeedBatch) error {
	data, err := json.Marshal(seedBatchToSDK(b))
	if err != nil {
		return err
	}
	for _, p := range s.procs {
		p.in <- data
	}
	return nil
}

// Close waits for every connector to write what it was sent. A plugin
// without the seed capability (sdk.ExitNoSeeder) is skipped with a log
// line: the demo has no data for it, which is no failure.
func (s *Seeding) Close() error {
	errs := make([]error, len(s.procs))
	var wg sync.WaitGroup
	for i, p := range s.procs {
		wg.Go(func() { errs[i] = s.wait(p) })
	}
	wg.Wait()
	s.procs = nil
	return errors.Join(errs...)
}

func (s *Seeding) wait(p *seedProc) error {
	close(p.in)
	writeErr := <-p.done
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == sdk.ExitNoSeeder {
		s.logger.Warn("connector has no demo data to seed", "connector", p.name)
		return nil
	}
	if err != nil || writeErr != nil {
		return fmt.Errorf("seed %s: %w: %s", p.name, errors.Join(err, writeErr), strings.TrimSpace(p.stderr.String()))
	}
	return nil
}

func seedBatchToSDK(b SeedBatch) sdk.SeedBatch {
	out := sdk.SeedBatch{Seed: b.Seed, Now: b.Now, Customers: make([]sdk.SeedCustomer, len(b.Customers)), Visits: visitsToSDK(b.Visits)}
	for i, c := range b.Customers {
		out.Customers[i] = sdk.SeedCustomer{Subject: subjectToSDK(c.Subject), Address: c.Address, CallRecords: c.CallRecords, Invoices: c.Invoices}
	}
	return out
}
