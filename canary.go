package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/connectors"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/scheduler"
	"github.com/lethe-privacy/lethe/store"
)

// connectorGuards is what the ledger's guards found per connector, for the
// API (graph.ConnectorGuards): erased customers found again, and the last
// canary's verdict. Safe for concurrent use.
type connectorGuards struct {
	mu          sync.Mutex
	resurrected map[string]int
	canary      map[string]string
}

func newConnectorGuards() *connectorGuards {
	return &connectorGuards{resurrected: map[string]int{}, canary: map[string]string{}}
}

// ConnectorGuard implements graph.ConnectorGuards.
func (g *connectorGuards) ConnectorGuard(name string) (resurrected int, canaryWarning string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.resurrected[name], g.canary[name]
}

func (g *connectorGuards) addResurrected(name string, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.resurrected[name] += n
}

func (g *connectorGuards) setCanary(name, warning string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.canary[name] = warning
}

// scheduleCanary adds the canary to the scheduler when canary_every is set:
// a synthetic customer is planted in every connector through its seed
// command (the same one `lethe demo` uses: the connector writes its own
// store), deleted through the connector contract, and exported again. A
// connector that acknowledged the delete and still exports the customer is
// flagged (metric lethe_canary_failing, a warning on the connector in the
// API, the log). Off by default: it writes made-up data into real stores,
// which an operator must choose.
func (a *App) scheduleCanary(sched *scheduler.Scheduler) error {
	if a.Config.Scheduler.CanaryEvery <= 0 {
		return nil
	}
	return sched.Every("canary", a.Config.Scheduler.CanaryEvery, a.runCanary)
}

func (a *App) runCanary(ctx context.Context) {
	log := a.Log.With("component", "canary")
	subject, err := a.plantCanary(ctx)
	if err != nil {
		log.Error("canary could not be planted; no verdict this cycle", "err", err)
		return
	}
	for _, st := range a.Registry.Connectors(ctx) {
		name := st.Info.Name
		verdict, err := checkCanary(ctx, a.Registry, name, subject)
		if err != nil {
			log.Warn("canary check failed", "connector", name, "err", err)
			continue
		}
		switch verdict {
		case canaryKept:
			warning := fmt.Sprintf("at %s the connector acknowledged deleting canary %s but still exports it: it may have stopped deleting",
				time.Now().UTC().Format(time.RFC3339), subject.CustomerID)
			a.guards.setCanary(name, warning)
			a.LedgerMetrics.Canary(name, true)
			log.Error("canary: a connector acknowledged a delete and kept the data", "connector", name, "canary", subject.CustomerID)
		case canaryClean:
			a.guards.setCanary(name, "")
			a.LedgerMetrics.Canary(name, false)
		}
	}
}

// plantCanary writes a synthetic customer into every connector's store.
func (a *App) plantCanary(ctx context.Context) (retention.Subject, error) {
	b := make([]byte, 6)
	rand.Read(b) //nolint:errcheck // never fails
	suffix := hex.EncodeToString(b)
	subject := retention.Subject{CustomerID: "canary_" + suffix, FirstName: "Canary", LastName: suffix,
		Email: "canary-" + suffix + "@canary.lethe.invalid", Phone: fmt.Sprintf("+44 7700 9%05d", int(b[0])<<8|int(b[1]))}
	cc := a.Config.Connectors
	cc.DataDir = a.Config.DataDir
	if store.IsPostgresURL(a.Config.Database) {
		cc.BuiltinDSN = func(name string) string { return store.ConnectorDSN(a.Config.Database, name) }
	}
	if cc.PluginDir == "" {
		cc.PluginDir = executableDir()
	}
	seeding, err := connectors.StartSeeding(ctx, cc, a.Log)
	if err != nil {
		return subject, err
	}
	err = seeding.Send(connectors.SeedBatch{Seed: 1, Now: time.Now(), Customers: []connectors.SeedCustomer{{Subject: subject,
		Address: "1 Canary Row", CallRecords: 1, Invoices: 1}}})
	return subject, joinErr(err, seeding.Close())
}

type canaryVerdict int

const (
	canaryNotPlanted canaryVerdict = iota // the connector holds nothing of its kind: no verdict
	canaryClean
	canaryKept
)

// checkCanary deletes the canary in one connector and exports it again.
func checkCanary(ctx context.Context, reg retention.ConnectorRegistry, name string, subject retention.Subject) (canaryVerdict, error) {
	conn, err := reg.Connector(ctx, name)
	if err != nil {
		return canaryNotPlanted, err
	}
	held := func() (bool, error) {
		ex, err := conn.Export(ctx, []retention.Subject{subject})
		if err != nil {
			return false, err
		}
		for _, e := range ex {
			if d := strings.TrimSpace(string(e.Data)); d != "" && d != "null" && d != "{}" && d != "[]" {
				return true, nil
			}
		}
		return false, nil
	}
	if planted, err := held(); err != nil || !planted {
		return canaryNotPlanted, err
	}
	res, err := conn.Delete(ctx, []retention.Action{{ID: "canary:" + subject.CustomerID, Subject: subject}})
	if err != nil {
		return canaryNotPlanted, err
	}
	if len(res) != 1 || !res[0].Outcome.Confirmed() {
		return canaryNotPlanted, fmt.Errorf("the canary's delete was refused: %+v", res)
	}
	kept, err := held()
	if err != nil {
		return canaryNotPlanted, err
	}
	if kept {
		return canaryKept, nil
	}
	return canaryClean, nil
}

func joinErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
