// Package evidence builds the evidence pack an auditor reads without
// Lethe: one zip with a self-contained HTML report (inline CSS, inline SVG
// charts, printable), the same data as CSV files, and a JSON manifest with
// the SHA-256 of every file. Nothing in it is personal data: customers
// appear by id only, and only the audit log's fields, which never hold
// names, emails or phone numbers, are read.
package evidence

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"slices"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/auditchain"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
)

// Verifier walks the audit log's hash chain (the store).
type Verifier interface {
	VerifyAudit(ctx context.Context, keys ...ed25519.PublicKey) (*auditchain.Result, error)
}

// Sources are the parts of Lethe a pack is read from.
type Sources struct {
	Service *retention.Service
	// Engine lists the sweeps; Connectors the connectors; either may be
	// nil (the pack then says there are none).
	Engine     *relinquish.Engine
	Connectors retention.ConnectorRegistry
	Chain      Verifier
}

// Pack is what the report shows, for the period [From, To).
type Pack struct {
	From, To, GeneratedAt time.Time
	// Policies in force at the start and at the end of the period.
	PoliciesAtStart, PoliciesAtEnd []PolicyRow
	PolicyChanges                  []Change
	DataPolicyAtStart              retention.DataPolicy
	DataPolicyAtEnd                retention.DataPolicy
	DataPolicyChanges              []Change
	Sweeps                         []Sweep
	ManualErasures                 []Change
	Exports                        []Change
	Holds                          []Change
	Connectors                     []ConnectorRow
	Chain                          *auditchain.Result
	RetentionTable                 []RetentionRow
}

// PolicyRow is one retention policy.
type PolicyRow struct {
	Name        string
	Days        int
	Description string
	BuiltIn     bool
}

// Change is one audit event as the pack shows it.
type Change struct {
	At       time.Time
	Actor    string
	Action   string
	Subject  string
	Sentence string
}

// Sweep is one retention run of the period.
type Sweep struct {
	ID, Trigger, Actor, Status            string
	DryRun                                bool
	StartedAt                             time.Time
	FinishedAt                            *time.Time
	Planned, Done, Failed, Skipped        int
	ResidueChecks, ResidueFailed, Actions int
	ConnectorFailures                     int
}

// ConnectorRow is one connector: what it declares, whether it answers
// now, and what it did over the period.
type ConnectorRow struct {
	Name, Version                   string
	Categories, Capabilities        []string
	HealthyNow                      bool
	Actions, Failed, ResidueChecked int
}

// Build reads everything the pack shows for [from, to).
func Build(ctx context.Context, src Sources, from, to time.Time) (*Pack, error) {
	if !from.Before(to) {
		return nil, retention.FieldErrorf("to", "to (%s) must be after from (%s)", to.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339))
	}
	p := &Pack{From: from.UTC(), To: to.UTC(), GeneratedAt: time.Now().UTC()}
	if err := p.readRules(ctx, src.Service); err != nil {
		return nil, err
	}
	counted, err := p.readCustomerEvents(ctx, src.Service)
	if err != nil {
		return nil, err
	}
	if err := p.readSweeps(ctx, src.Engine, counted); err != nil {
		return nil, err
	}
	p.readConnectors(ctx, src.Connectors, counted)
	if src.Chain != nil {
		if p.Chain, err = src.Chain.VerifyAudit(ctx); err != nil {
			return nil, err
		}
	}
	p.RetentionTable = RetentionTable(p.PoliciesAtEnd, p.DataPolicyAtEnd, p.Connectors)
	return p, nil
}

// events reads the audit events of one action in [from, to) (to nil: up
// to now), oldest first.
func events(ctx context.Context, svc *retention.Service, action string, from time.Time, to *time.Time) ([]retention.AuditEvent, error) {
	ev, err := svc.AuditEvents(ctx, retention.AuditFilter{Action: action, From: &from, To: to})
	if err != nil {
		return nil, err
	}
	slices.Reverse(ev)
	return ev, nil
}

func change(e retention.AuditEvent) Change {
	return Change{At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Subject: e.Subject, Sentence: e.Sentence()}
}

func inPeriod(p *Pack, t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// tally counts the connector actions that erase and anonymise events
// record, per run and per connector.
type tally struct {
	runs  map[string]*Sweep
	conns map[string]*ConnectorRow
}

func (t *tally) add(e retention.AuditEvent) {
	run := t.runs[str(e.Details["run"])]
	if run == nil {
		run = &Sweep{}
		t.runs[str(e.Details["run"])] = run
	}
	for _, o := range outcomes(e) {
		name := str(o["connector"])
		conn := t.conns[name]
		if conn == nil {
			conn = &ConnectorRow{Name: name}
			t.conns[name] = conn
		}
		failed := o["outcome"] == string(retention.OutcomeFailed)
		run.Actions++
		conn.Actions++
		if failed {
			conn.Failed++
		}
		switch {
		case strings.HasPrefix(str(o["operation"]), retention.OpVerify):
			run.ResidueChecks++
			conn.ResidueChecked++
			if failed {
				run.ResidueFailed++
			}
		case failed:
			run.ConnectorFailures++
		}
	}
}

// readCustomerEvents reads the erasures, exports and holds of the period,
// a page at a time: a year of sweeps may have erased millions. Only the
// manual erasures are kept one by one; the others are counted.
func (p *Pack) readCustomerEvents(ctx context.Context, svc *retention.Service) (*tally, error) {
	t := &tally{runs: map[string]*Sweep{}, conns: map[string]*ConnectorRow{}}
	for _, action := range []string{retention.AuditCustomerErase, retention.AuditCustomerAnonymise, retention.AuditCustomerExport,
		retention.AuditLegalHoldPlace, retention.AuditLegalHoldRelease} {
		err := svc.WalkAuditEvents(ctx, retention.AuditFilter{Action: action, From: &p.From, To: &p.To}, func(e retention.AuditEvent) error {
			switch action {
			case retention.AuditCustomerExport:
				p.Exports = append(p.Exports, change(e))
			case retention.AuditLegalHoldPlace, retention.AuditLegalHoldRelease:
				p.Holds = append(p.Holds, change(e))
			default:
				t.add(e)
				if e.Details["trigger"] == "manual" {
					p.ManualErasures = append(p.ManualErasures, change(e))
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	byTime := func(a, b Change) int { return a.At.Compare(b.At) }
	slices.SortStableFunc(p.Exports, byTime)
	slices.SortStableFunc(p.Holds, byTime)
	slices.SortStableFunc(p.ManualErasures, byTime)
	return t, nil
}

// readSweeps lists the runs started in the period (previews aside), with
// the residue checks their erasures recorded.
func (p *Pack) readSweeps(ctx context.Context, engine *relinquish.Engine, t *tally) error {
	if engine == nil {
		return nil
	}
	var after *string
	first := retention.MaxPageSize
	for {
		page, err := engine.RunsPage(ctx, &first, after, false)
		if err != nil {
			return err
		}
		for _, r := range page.Items {
			if inPeriod(p, r.StartedAt) {
				p.Sweeps = append(p.Sweeps, sweepRow(r, t.runs[r.ID]))
			}
		}
		n := len(page.Items)
		if !page.HasNextPage || n == 0 || page.Items[n-1].StartedAt.Before(p.From) {
			break
		}
		id := page.Items[n-1].ID
		after = &id
	}
	slices.SortStableFunc(p.Sweeps, func(a, b Sweep) int { return a.StartedAt.Compare(b.StartedAt) })
	return nil
}

func sweepRow(r retention.Run, counted *Sweep) Sweep {
	s := Sweep{ID: r.ID, Trigger: r.Trigger, Actor: r.Actor, Status: string(r.Status), DryRun: r.DryRun, StartedAt: r.StartedAt.UTC(), FinishedAt: r.FinishedAt,
		Planned: r.CustomersPlanned, Done: r.CustomersDone, Failed: r.CustomersFailed, Skipped: r.CustomersSkipped}
	if counted != nil {
		s.Actions, s.ConnectorFailures, s.ResidueChecks, s.ResidueFailed = counted.Actions, counted.ConnectorFailures, counted.ResidueChecks, counted.ResidueFailed
	}
	return s
}

// outcomes are the connector outcomes an erase or anonymise event records.
func outcomes(e retention.AuditEvent) []map[string]any {
	list, _ := e.Details["connectors"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, o := range list {
		if m, ok := o.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// readConnectors lists the connectors configured now with what each did
// over the period; one no longer configured still shows what it did.
func (p *Pack) readConnectors(ctx context.Context, reg retention.ConnectorRegistry, t *tally) {
	rows := map[string]*ConnectorRow{}
	if reg != nil {
		for _, c := range reg.Connectors(ctx) {
			rows[c.Info.Name] = &ConnectorRow{Name: c.Info.Name, Version: c.Info.Version, Categories: c.Info.Categories,
				Capabilities: c.Info.Capabilities, HealthyNow: c.Healthy}
		}
	}
	for name, counted := range t.conns {
		row := rows[name]
		if row == nil {
			row = &ConnectorRow{Name: name, Version: "(no longer configured)"}
			rows[name] = row
		}
		row.Actions, row.Failed, row.ResidueChecked = counted.Actions, counted.Failed, counted.ResidueChecked
	}
	for _, r := range rows {
		p.Connectors = append(p.Connectors, *r)
	}
	slices.SortFunc(p.Connectors, func(a, b ConnectorRow) int { return cmp.Compare(a.Name, b.Name) })
}
