package relinquish

import (
	"context"

	"github.com/lethe-privacy/lethe/retention"
)

// MaxPlanRows bounds the plan lines kept for a dry run; its counts are
// always exact.
const MaxPlanRows = 10000

// DryRun computes what a real run as of opts.AsOf would do and changes
// nothing but the record of the dry run itself. Errors: BAD_USER_INPUT.
func (e *Engine) DryRun(ctx context.Context, opts retention.RunOptions) (retention.Run, error) {
	opts.DryRun = true
	if err := e.Validate(opts); err != nil {
		return retention.Run{}, err
	}
	run, plan, err := e.plan(ctx, e.store, opts)
	if err != nil {
		return retention.Run{}, err
	}
	e.metrics.SweepRun(run.Status, true, run.FinishedAt.Sub(run.StartedAt))
	return run, e.saveDryRun(ctx, run, plan)
}

func (e *Engine) saveDryRun(ctx context.Context, run retention.Run, plan []retention.PlannedAction) error {
	return e.store.Update(ctx, func(tx retention.Tx) error {
		if err := tx.InsertRun(ctx, run); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, runStartEvent(run)); err != nil {
			return err
		}
		return tx.InsertPlan(ctx, run.ID, 0, plan)
	})
}

// plan lists what a run would do, reading through r (the store, or a
// transaction holding proposed settings).
func (e *Engine) plan(ctx context.Context, r retention.Reader, opts retention.RunOptions) (retention.Run, []retention.PlannedAction, error) {
	now := e.nowUTC()
	run := retention.Run{ID: retention.NewID("run_"), DryRun: true, Status: retention.RunSucceeded, Trigger: opts.Trigger, Actor: opts.Actor,
		AsOf: now, StartedAt: now, HeartbeatAt: now}
	if opts.AsOf != nil {
		run.AsOf = opts.AsOf.UTC()
	}
	conns := e.connectorInfos(ctx)
	policies, dp, err := e.settings(ctx, r)
	if err != nil {
		return retention.Run{}, nil, err
	}
	var plan []retention.PlannedAction
	addPlan := func(p retention.PlannedAction) {
		if len(plan) < MaxPlanRows {
			plan = append(plan, p)
		}
	}
	// Open entries a real run would resume.
	afterID := ""
	for {
		entries, err := r.RetryableEntries(ctx, run.AsOf, afterID, e.BatchSize)
		if err != nil {
			return retention.Run{}, nil, err
		}
		if len(entries) == 0 {
			break
		}
		afterID = entries[len(entries)-1].ID
		ids := make([]string, len(entries))
		for i, en := range entries {
			ids[i] = en.ID
		}
		actions, err := r.EntryActions(ctx, ids)
		if err != nil {
			return retention.Run{}, nil, err
		}
		for _, en := range entries {
			run.CustomersPlanned++
			addPlan(retention.PlannedAction{CustomerID: en.CustomerID, Connector: retention.CoreConnector, Action: string(en.Kind)})
			for _, a := range actions[en.ID] {
				run.ActionsPlanned++
				addPlan(retention.PlannedAction{CustomerID: en.CustomerID, Connector: a.Connector, Action: retention.DescribeOperation(a.Operation, a.Categories)})
			}
		}
	}
	// Customers that have become due, by the rules' ranges.
	walk := retention.NewDueWalker(r, retention.CutoffsAt(policies, dp, run.AsOf), retention.DuePosition{})
	for {
		page, err := walk.Next(ctx, e.BatchSize)
		if err != nil {
			return retention.Run{}, nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			entry, actions, ok := planCustomer(c, policies, dp, conns, run, now)
			if !ok {
				continue
			}
			run.CustomersPlanned++
			addPlan(retention.PlannedAction{CustomerID: c.ID, Connector: retention.CoreConnector, Action: string(entry.Kind)})
			for _, a := range actions {
				run.ActionsPlanned++
				addPlan(retention.PlannedAction{CustomerID: c.ID, Connector: a.Connector, Action: retention.DescribeOperation(a.Operation, a.Categories)})
			}
		}
	}
	finished := e.nowUTC()
	run.FinishedAt, run.HeartbeatAt = &finished, finished
	return run, plan, nil
}
