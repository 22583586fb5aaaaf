package relinquish

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// A preview is range counts under the proposed rules: it stores nothing.
// Its id carries the proposal and the instant, so that its plan can be
// listed later, page by page, by walking the same ranges (the plan shows the
// proposal applied to the data as it is when the page is read).

// previewPrefix marks the ids of previews (never stored runs).
const previewPrefix = "prv_"

// proposal is what a preview proposes, as its id carries it.
type proposal struct {
	Policy *string               `json:"p,omitempty"`
	Days   *int                  `json:"d,omitempty"`
	Data   *retention.DataPolicy `json:"dp,omitempty"`
	AsOf   time.Time             `json:"t"`
	Actor  string                `json:"a,omitempty"`
	// NoForecast skips the forecast (a client that does not ask for it).
	NoForecast bool `json:"-"`
}

// PreviewOption changes what a preview computes.
type PreviewOption func(*proposal)

// WithoutForecast leaves the preview's forecast out: its 52 weeks of range
// counts are most of a preview's cost, for a client that does not show it.
func WithoutForecast() PreviewOption { return func(p *proposal) { p.NoForecast = true } }

func (p proposal) id() string {
	b, _ := json.Marshal(p)
	return previewPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func parseProposal(id string) (proposal, bool) {
	if !strings.HasPrefix(id, previewPrefix) {
		return proposal{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(id[len(previewPrefix):])
	var p proposal
	if err != nil || json.Unmarshal(b, &p) != nil {
		return proposal{}, false
	}
	return p, true
}

// apply returns the rules with the proposal applied. Errors: NOT_FOUND for
// an unknown policy.
func (p proposal) apply(policies retention.PolicySet, dp retention.DataPolicy) (retention.PolicySet, retention.DataPolicy, error) {
	if p.Data != nil {
		dp = *p.Data
	}
	if p.Policy == nil {
		return policies, dp, nil
	}
	pol, ok := policies[*p.Policy]
	if !ok {
		return nil, retention.DataPolicy{}, retention.Errorf(retention.CodeNotFound, "no retention policy named %q", retention.Truncate(*p.Policy, 70))
	}
	out := make(retention.PolicySet, len(policies))
	for k, v := range policies {
		out[k] = v
	}
	if p.Days != nil {
		pol.RetentionDays = *p.Days
	}
	pol.Version++
	out[pol.Name] = pol
	return out, dp, nil
}

// PreviewPolicyUpdate shows what a run would do if the policy were changed
// so, without changing it or storing anything. Errors: BAD_USER_INPUT,
// NOT_FOUND.
func (e *Engine) PreviewPolicyUpdate(ctx context.Context, name string, days *int, description *string, asOf *time.Time, actor string, opts ...PreviewOption) (retention.Run, error) {
	if days != nil {
		if err := retention.ValidateRetentionDays("retentionDays", *days); err != nil {
			return retention.Run{}, err
		}
	}
	return e.preview(ctx, proposal{Policy: &name, Days: days, Actor: actor}, asOf, opts)
}

// PreviewDataPolicy shows what a run would do under the proposed data
// policy, without saving it or storing anything. Errors: BAD_USER_INPUT.
func (e *Engine) PreviewDataPolicy(ctx context.Context, dp retention.DataPolicy, asOf *time.Time, actor string, opts ...PreviewOption) (retention.Run, error) {
	if err := dp.Validate(); err != nil {
		return retention.Run{}, err
	}
	return e.preview(ctx, proposal{Data: &dp, Actor: actor}, asOf, opts)
}

func (e *Engine) preview(ctx context.Context, p proposal, asOf *time.Time, opts []PreviewOption) (retention.Run, error) {
	if err := e.Validate(retention.RunOptions{DryRun: true, AsOf: asOf}); err != nil {
		return retention.Run{}, err
	}
	for _, o := range opts {
		o(&p)
	}
	now := e.nowUTC()
	p.AsOf = now
	if asOf != nil {
		p.AsOf = asOf.UTC()
	}
	run, err := e.previewRun(ctx, p, now)
	if err != nil || p.NoForecast {
		return run, err
	}
	policies, dp, err := e.settings(ctx, e.store)
	if err != nil {
		return retention.Run{}, err
	}
	if policies, dp, err = p.apply(policies, dp); err != nil {
		return retention.Run{}, err
	}
	forecast, err := retention.ForecastUnder(ctx, e.store, policies, dp, now, retention.DefaultForecastWeeks)
	if err != nil {
		return retention.Run{}, err
	}
	run.Forecast = &forecast
	return run, nil
}

// previewRun counts what a run as of p.AsOf would do under the proposal,
// and what the change adds and removes compared with the rules in force.
func (e *Engine) previewRun(ctx context.Context, p proposal, now time.Time) (retention.Run, error) {
	policies, dp, err := e.settings(ctx, e.store)
	if err != nil {
		return retention.Run{}, err
	}
	proposed, pdp, err := p.apply(policies, dp)
	if err != nil {
		return retention.Run{}, err
	}
	tally, err := retention.TallyChange(ctx, e.store, retention.CutoffsAt(policies, dp, p.AsOf), retention.CutoffsAt(proposed, pdp, p.AsOf))
	if err != nil {
		return retention.Run{}, err
	}
	entries, actions, err := e.retryableCounts(ctx, p.AsOf)
	if err != nil {
		return retention.Run{}, err
	}
	added, removed := tally.OnlyAfter, tally.OnlyBefore
	run := retention.Run{ID: p.id(), DryRun: true, Status: retention.RunSucceeded, Trigger: "preview", Actor: p.Actor, AsOf: p.AsOf,
		StartedAt: now, FinishedAt: &now, HeartbeatAt: now, CustomersPlanned: entries + tally.DueAfter(),
		ActionsPlanned: actions + tallyActions(tally, pdp, e.connectorInfos(ctx)), AddedByChange: &added, RemovedByChange: &removed}
	return run, nil
}

// retryableCounts counts the open journal entries a run as of asOf would
// resume, and their actions.
func (e *Engine) retryableCounts(ctx context.Context, asOf time.Time) (entries, actions int, err error) {
	afterID := ""
	for {
		page, err := e.store.RetryableEntries(ctx, asOf, afterID, e.BatchSize)
		if err != nil || len(page) == 0 {
			return entries, actions, err
		}
		afterID = page[len(page)-1].ID
		ids := make([]string, len(page))
		for i, en := range page {
			ids[i] = en.ID
		}
		acts, err := e.store.EntryActions(ctx, ids)
		if err != nil {
			return 0, 0, err
		}
		for _, en := range page {
			entries++
			actions += len(acts[en.ID])
		}
	}
}

// tallyActions is how many connector actions the due customers of a tally
// need: what planCustomer would journal for each.
func tallyActions(t retention.ChangeTally, dp retention.DataPolicy, conns []connInfo) int {
	n := 0
	for _, ci := range conns {
		n += t.AfterErase * len(connectorOps(retention.ActionErase, nil, ci.Info))
		for mask, v := range t.AfterAnonymise {
			n += v * len(connectorOps(retention.ActionAnonymise, retention.MissingOf(mask, dp.Categories()), ci.Info))
		}
	}
	return n
}

// previewPlanPage lists a page of a preview's plan: the open entries a run
// would resume, then the due customers by the proposal's ranges. The cursor
// says where the walk stands and how many actions of the customer there
// were listed already.
func (e *Engine) previewPlanPage(ctx context.Context, p proposal, n int, after string) ([]retention.PlannedAction, error) {
	policies, dp, err := e.settings(ctx, e.store)
	if err != nil {
		return nil, err
	}
	if policies, dp, err = p.apply(policies, dp); err != nil {
		return nil, err
	}
	pos, skip := retention.DuePosition{Group: -1}, 0
	if after != "" {
		if pos, skip, err = retention.DecodePlanCursor(after); err != nil {
			return nil, err
		}
	}
	conns := e.connectorInfos(ctx)
	run := retention.Run{ID: p.id(), AsOf: p.AsOf}
	now := e.nowUTC()
	var out []retention.PlannedAction
	emit := func(at retention.DuePosition, lines []retention.PlannedAction, from int) bool {
		for i := from; i < len(lines) && len(out) < n; i++ {
			lines[i].Cursor = retention.EncodePlanCursor(at, i+1)
			out = append(out, lines[i])
		}
		return len(out) < n
	}
	if pos.Group < 0 {
		if !e.previewEntries(ctx, p.AsOf, &pos, skip, emit) {
			return out, nil
		}
		pos, skip = retention.DuePosition{}, 0
	}
	plan := func(c *retention.Customer) []retention.PlannedAction {
		entry, actions, ok := planCustomer(c, policies, dp, conns, run, now)
		if !ok {
			return nil
		}
		lines := []retention.PlannedAction{{CustomerID: c.ID, Connector: retention.CoreConnector, Action: string(entry.Kind)}}
		for _, a := range actions {
			lines = append(lines, retention.PlannedAction{CustomerID: c.ID, Connector: a.Connector, Action: retention.DescribeOperation(a.Operation, a.Categories)})
		}
		return lines
	}
	if skip > 0 && pos.After != nil {
		// The page before ended inside this customer's actions.
		cs, err := e.store.CustomersByID(ctx, []string{pos.After.ID})
		if err != nil {
			return nil, err
		}
		if c := cs[pos.After.ID]; c != nil && !emit(pos, plan(c), skip) {
			return out, nil
		}
	}
	walk := retention.NewDueWalker(e.store, retention.CutoffsAt(policies, dp, p.AsOf), pos)
	for len(out) < n {
		page, err := walk.Next(ctx, min(e.BatchSize, n+1))
		if err != nil || len(page) == 0 {
			return out, err
		}
		for _, c := range page {
			at := walk.Pos
			at.After = &retention.AnchorCursor{LatestEnd: c.Timeline.LatestEnd, ID: c.ID}
			if !emit(at, plan(c), 0) {
				break
			}
		}
	}
	return out, nil
}

// previewEntries lists the open entries a run would resume, from the one
// after pos.After (skipping skip lines of it); it reports false when the
// page filled up or the journal could not be read.
func (e *Engine) previewEntries(ctx context.Context, asOf time.Time, pos *retention.DuePosition, skip int, emit func(retention.DuePosition, []retention.PlannedAction, int) bool) bool {
	prev := ""
	if pos.After != nil {
		prev = pos.After.ID
	}
	for {
		page, err := e.store.RetryableEntries(ctx, asOf, prev, e.BatchSize)
		if err != nil || len(page) == 0 {
			return err == nil
		}
		ids := make([]string, len(page))
		for i, en := range page {
			ids[i] = en.ID
		}
		acts, err := e.store.EntryActions(ctx, ids)
		if err != nil {
			return false
		}
		for _, en := range page {
			lines := []retention.PlannedAction{{CustomerID: en.CustomerID, Connector: retention.CoreConnector, Action: string(en.Kind)}}
			for _, a := range acts[en.ID] {
				lines = append(lines, retention.PlannedAction{CustomerID: en.CustomerID, Connector: a.Connector, Action: retention.DescribeOperation(a.Operation, a.Categories)})
			}
			// A cursor inside this entry resumes after the one before it.
			if !emit(retention.DuePosition{Group: -1, After: &retention.AnchorCursor{ID: prev}}, lines, skip) {
				return false
			}
			prev, skip = en.ID, 0
		}
	}
}
