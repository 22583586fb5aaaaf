package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
)

// demoOptions are the flags of `lethe demo`.
type demoOptions struct {
	customers  int
	seed       uint64
	now        time.Time
	cpuProfile string
	// lean writes Lethe's customers and events only, not the connectors'
	// stores: a load for measuring Lethe at tens of millions of customers.
	lean bool
}

func demoFlags(args []string) (Config, demoOptions, error) {
	var o demoOptions
	var nowFlag string
	cfg, err := loadConfig("demo", args, func(fs *flag.FlagSet) {
		fs.IntVar(&o.customers, "customers", 2000, "number of customers")
		fs.Uint64Var(&o.seed, "seed", 1, "random seed: the same seed and day give the same data")
		fs.StringVar(&nowFlag, "now", "", "reference time (RFC 3339); default: today at 00:00 UTC")
		fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
		fs.BoolVar(&o.lean, "lean", false, "write Lethe's customers and events only, not the connectors' demo data (a bench loader: up to 20,000,000 customers)")
	})
	if err != nil {
		return cfg, o, err
	}
	if limit := demoMaxCustomers(o.lean); o.customers < 0 || o.customers > limit {
		return cfg, o, fmt.Errorf("--customers must be between 0 and %d", limit)
	}
	o.now = time.Now().UTC().Truncate(24 * time.Hour)
	if nowFlag != "" {
		if o.now, err = time.Parse(time.RFC3339, nowFlag); err != nil {
			return cfg, o, fmt.Errorf("--now: %w", err)
		}
		o.now = o.now.UTC()
	}
	return cfg, o, nil
}

// demoCmd writes deterministic demo data: Lethe's customers into its
// database, and the connectors' data through each plugin's seed command.
func demoCmd(ctx context.Context, args []string) error {
	cfg, o, err := demoFlags(args)
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Three chunks are in flight (generated, queued, written), and the
		// garbage they leave would let the heap grow to twice what is live
		// before the collector runs: a soft limit makes it collect sooner
		// instead, so that the demo's resident memory stays under 500 MB at
		// any size (SQLite's page caches come on top of it).
		debug.SetMemoryLimit(demoHeapLimit)
	}
	start := time.Now()
	app, err := OpenApp(ctx, cfg, AppOptions{BulkLoad: true})
	if err != nil {
		return err
	}
	defer app.Close()
	var seeding *connectors.Seeding
	if !o.lean {
		if seeding, err = connectors.StartSeeding(ctx, connectorsConfig(cfg), app.Log.With("component", "connectors")); err != nil {
			return err
		}
	}
	n, importTime, err := writeDemo(ctx, app.Store, seeding, o)
	if seeding != nil {
		err = errors.Join(err, seeding.Close())
	}
	seedTime := time.Since(start)
	if err != nil {
		return err
	}
	if err := app.Store.RefreshPlannerStatistics(ctx); err != nil {
		return err
	}
	where, _ := filepath.Abs(cfg.DataDir)
	if cfg.Database != "" {
		where = "the configured database"
	}
	fmt.Fprintf(os.Stderr, "demo: %d customers, %d appointments, %d visits written to %s in %s (Lethe's database %s; the connectors' plugins, at the same time, done after %s)\n",
		n.customers, n.appointments, n.visits, where, time.Since(start).Round(time.Millisecond),
		importTime.Round(time.Millisecond), seedTime.Round(time.Millisecond))
	return nil
}

// demoMaxCustomers bounds --customers: the full demo also writes every
// connector's store; a lean one only Lethe's database.
func demoMaxCustomers(lean bool) int {
	if lean {
		return 20_000_000
	}
	return 5_000_000
}

type demoCounts struct{ customers, appointments, visits int }

// writeDemo generates, writes and drops the data a chunk at a time, so
// that memory stays flat however many customers are asked for: the next
// chunk is generated while the previous one is written, and Lethe's
// database and the connectors' stores (independent, each written by its
// plugin's process) are written at the same time.
func writeDemo(ctx context.Context, s *store.Store, seeding *connectors.Seeding, o demoOptions) (demoCounts, time.Duration, error) {
	chunks := make(chan demoData, 1)
	var genErr error
	go func() {
		defer close(chunks)
		genErr = generateDemo(o.customers, o.seed, o.now, demoChunk, func(d demoData) error {
			d.rows = s.PrepareImport(d.customers, d.appointments, d.visits)
			select {
			case chunks <- d:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var n demoCounts
	var importTime time.Duration
	var writeErr error
	for d := range chunks {
		if writeErr != nil {
			continue // drain, so that the generator ends
		}
		if seeding != nil {
			batch := demoSeedBatch(d, o.seed)
			batch.Now = o.now
			writeErr = seeding.Send(batch)
		}
		t0 := time.Now()
		writeErr = errors.Join(writeErr, s.Import(ctx, d.rows))
		importTime += time.Since(t0)
		n = demoCounts{n.customers + len(d.customers), n.appointments + len(d.appointments), n.visits + len(d.visits)}
	}
	return n, importTime, errors.Join(genErr, writeErr)
}

// demoHeapLimit is the demo's soft limit on the Go heap.
const demoHeapLimit = 256 << 20

// demoChunk is how many customers the demo generates and writes at a time.
const demoChunk = 20000

type demoData struct {
	first        int // the position of customers[0] in the whole demo
	customers    []*retention.Customer
	appointments []retention.Appointment
	visits       []retention.Visit
	// rows are the same customers and events as Lethe writes them,
	// prepared by the generator while the previous chunk is written.
	rows *store.ImportBatch
}

var demoFirstNames = strings.Fields(`Ada Alan Amara Anna Aoife Arjun Astrid Ben Bjorn Carla Chen Chloe Dara Diego Elena Emil Erik Fatima
Felix Grace Hana Hugo Ines Isla Ivan Jonas Julia Kai Kenji Lara Leo Lina Luca Maja Marek Maria Mateo Mei Mila Nadia Noah Nora Omar
Oscar Priya Rafael Rosa Sami Sara Sofia Tariq Theo Una Vera Wei Yara Yusuf Zoe`)

var demoLastNames = strings.Fields(`Abbott Ahmed Andersen Bauer Becker Brennan Castro Chen Costa Dubois Eriksen Fischer Garcia Gomez
Hansen Hoffmann Ivanova Jansen Kaur Kim Kowalski Larsen Lopez Martin Meyer Moreau Murphy Nakamura Novak Nowak OBrien Okafor Olsen
Patel Petrov Popescu Quinn Rossi Santos Schmidt Schneider Silva Singh Smith Sousa Tanaka Taylor Torres Varga Wagner Walsh Weber
Wong Yilmaz Young Zhang`)

var demoCustomValues = map[string][]string{
	"custom1": {"walk-in", "referral", "online", "phone"},
	"custom2": {"branch-north", "branch-south", "branch-east", "head-office"},
	"custom3": {"consultation", "repair", "billing question", "contract change", "complaint"},
	"custom4": {"", "VIP", "follow-up needed"},
	"custom5": {"", "prefers email", "prefers phone"},
}

// generateDemo makes realistic, deterministic data: active, cancelled and
// deleted customers with status changes over the past two years, visits with
// custom fields (a few still open, some of walk-ins), past and future
// appointments and a few customers on the direct policy. Nothing stores
// when Lethe acts: the rules in force derive it from the anchors. The data
// goes to emit chunk customers at a time (with their events); the
// same seed gives the same data whatever the chunk size.
func generateDemo(n int, seed uint64, now time.Time, chunk int, emit func(demoData) error) error {
	g := &demoGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: now, tag: fmt.Sprintf("%x", seed),
		storage: retention.DefaultCustomFieldStorage()}
	var d demoData
	for i := 0; i < n; i++ {
		if len(d.customers) == chunk {
			if err := emit(d); err != nil {
				return err
			}
			d = demoData{first: i}
		}
		d.customers = append(d.customers, g.customer(&d, i))
	}
	// A few walk-ins are in the building now: their data lives on the visit
	// until it ends.
	for i := 0; i < min(5, n/100+1); i++ {
		first, phone := g.pick(demoFirstNames), fmt.Sprintf("07700 9%05d", g.rng.IntN(100000))
		d.visits = append(d.visits, retention.Visit{ID: fmt.Sprintf("vis_demo%s_walkin_%d", g.tag, i),
			Visitor:   &retention.PersonalData{FirstName: &first, Phone: &phone},
			StartedAt: now.Add(-time.Duration(5+g.rng.IntN(30)) * time.Minute), CustomFields: g.customFields(), Storage: g.storage})
	}
	return emit(d)
}

// demoGen draws the demo from one random source, in a fixed order: the
// same seed gives the same data.
type demoGen struct {
	rng     *rand.Rand
	now     time.Time
	tag     string
	storage retention.CustomFieldStorage
}

// between is a minute between now+from and now+to.
func (g *demoGen) between(from, to time.Duration) time.Time {
	return g.now.Add(from + time.Duration(g.rng.Int64N(int64(to-from)))).Truncate(time.Minute)
}

func (g *demoGen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *demoGen) customFields() []retention.CustomFieldValue {
	var out []retention.CustomFieldValue
	for _, f := range retention.CustomFields {
		if v := g.pick(demoCustomValues[f]); v != "" {
			out = append(out, retention.CustomFieldValue{Field: f, Value: &v})
		}
	}
	return out
}

// customer makes the i-th customer, adding its visits and appointments to d.
func (g *demoGen) customer(d *demoData, i int) *retention.Customer {
	day := retention.Day
	first, last := g.pick(demoFirstNames), g.pick(demoLastNames)
	email := fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), i)
	phone := fmt.Sprintf("+44 7700 9%05d", g.rng.IntN(100000))
	created := g.between(-3*365*day, -1*day)
	c := &retention.Customer{
		ID:           fmt.Sprintf("cus_demo%s_%07d", g.tag, i),
		PersonalData: retention.PersonalData{FirstName: &first, LastName: &last, Email: &email, Phone: &phone},
		Status:       retention.StatusActive, CreatedAt: created, TouchedAt: created,
	}
	if g.rng.IntN(10) == 0 { // some customers were imported without an email
		c.Email = nil
	}
	c.Timeline.Observe(retention.EventImported, created)
	switch r := g.rng.IntN(100); {
	case r < 20:
		at := g.between(-2*365*day, -day)
		c.Status, c.StatusChangedAt = retention.StatusCancelled, &at
	case r < 30:
		at := g.between(-2*365*day, -day)
		c.Status, c.StatusChangedAt = retention.StatusDeleted, &at
	}
	if c.StatusChangedAt != nil {
		if c.StatusChangedAt.Before(created) {
			c.CreatedAt, c.TouchedAt = *c.StatusChangedAt, *c.StatusChangedAt
			c.Timeline = retention.Timeline{}
			c.Timeline.Observe(retention.EventImported, c.TouchedAt)
		}
		c.Timeline.Observe(retention.EventStatusChange, *c.StatusChangedAt)
	}
	g.visits(d, c, i)
	g.appointments(d, c, i)
	// Most customers were in touch recently (an imported last
	// interaction), so only part of the base is due: the first sweep
	// relinquishes what a real backlog would hold, not everything.
	if g.rng.IntN(100) < 85 {
		if t := g.between(-25*day, -time.Hour); t.After(c.TouchedAt) {
			c.TouchedAt = t
			c.Timeline.Observe(retention.EventImported, t)
		}
	}
	if g.rng.IntN(50) == 0 {
		c.PolicyName = retention.PolicyDirect
	}
	return c
}

// visits gives about half the customers one to three past visits, and a
// few active ones a visit open right now.
func (g *demoGen) visits(d *demoData, c *retention.Customer, i int) {
	if g.rng.IntN(100) >= 55 {
		return
	}
	for v := 0; v < 1+g.rng.IntN(3); v++ {
		started := g.between(-2*365*retention.Day, -2*time.Hour)
		ended := started.Add(time.Duration(10+g.rng.IntN(80)) * time.Minute)
		d.visits = append(d.visits, retention.Visit{ID: fmt.Sprintf("vis_demo%s_%07d_%d", g.tag, i, v), CustomerID: c.ID,
			StartedAt: started, EndedAt: &ended, CustomFields: g.customFields(), Storage: g.storage})
		c.Timeline.Visits++
		c.Timeline.Observe(retention.EventVisit, ended)
	}
	if c.Status == retention.StatusActive && g.rng.IntN(200) == 0 { // an open visit right now
		started := g.now.Add(-time.Duration(5+g.rng.IntN(50)) * time.Minute)
		d.visits = append(d.visits, retention.Visit{ID: fmt.Sprintf("vis_demo%s_%07d_open", g.tag, i), CustomerID: c.ID,
			StartedAt: started, CustomFields: g.customFields(), Storage: g.storage})
		c.Timeline.Visits++
		c.Timeline.OpenVisits++
		c.Timeline.Observe(retention.EventVisit, started)
	}
}

// appointments gives two in five customers one or two appointments, one
// in eight of an active customer's ahead.
func (g *demoGen) appointments(d *demoData, c *retention.Customer, i int) {
	if g.rng.IntN(100) >= 40 {
		return
	}
	day := retention.Day
	for a := 0; a < 1+g.rng.IntN(2); a++ {
		startsAt := g.between(-2*365*day, -day)
		if c.Status == retention.StatusActive && g.rng.IntN(8) == 0 {
			startsAt = g.between(day, 60*day)
		}
		endsAt := startsAt.Add(time.Duration(1+g.rng.IntN(4)) * 15 * time.Minute)
		d.appointments = append(d.appointments, retention.Appointment{ID: fmt.Sprintf("apt_demo%s_%07d_%d", g.tag, i, a),
			CustomerID: c.ID, StartsAt: startsAt, EndsAt: endsAt})
		c.Timeline.Appointments++
		c.Timeline.Observe(retention.EventAppointment, endsAt)
	}
}
