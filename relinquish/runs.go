package relinquish

import (
	"context"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// MaxRunActions caps `first` on a run's actions and failures.
const MaxRunActions = 1000

// Runs lists runs, newest first. Errors: BAD_USER_INPUT.
func (e *Engine) Runs(ctx context.Context, first *int) ([]retention.Run, error) {
	n, err := retention.PageSize("first", first, retention.DefaultPageSize, retention.MaxPageSize)
	if err != nil || n == 0 {
		return []retention.Run{}, err
	}
	return e.store.Runs(ctx, n)
}

// RunByID returns one run. Errors: NOT_FOUND.
func (e *Engine) RunByID(ctx context.Context, id string) (*retention.Run, error) {
	if len(id) > 2000 {
		return nil, retention.Errorf(retention.CodeNotFound, "no retention run with that id")
	}
	if p, ok := parseProposal(id); ok {
		// A preview is computed again: it was never stored.
		run, err := e.previewRun(ctx, p, e.nowUTC())
		return &run, err
	}
	return e.store.Run(ctx, id)
}

// RunActions lists a run's plan or journal actions. Errors: BAD_USER_INPUT.
func (e *Engine) RunActions(ctx context.Context, runID string, first *int) ([]retention.PlannedAction, error) {
	n, err := retention.PageSize("first", first, 100, MaxRunActions)
	if err != nil || n == 0 {
		return []retention.PlannedAction{}, err
	}
	if p, ok := parseProposal(runID); ok {
		return e.previewPlanPage(ctx, p, n, "")
	}
	return e.store.RunActions(ctx, runID, n)
}

// RunActionsNotFound counts the actions of a run that a connector answered
// NOT_FOUND: done, but worth seeing (a connector that matched nothing).
func (e *Engine) RunActionsNotFound(ctx context.Context, runID string) (int, error) {
	return e.store.RunActionsNotFound(ctx, runID)
}

// RunFailures lists the customers a run could not relinquish.
// Errors: BAD_USER_INPUT.
func (e *Engine) RunFailures(ctx context.Context, runID string, first *int) ([]retention.RunFailure, error) {
	n, err := retention.PageSize("first", first, 100, MaxRunActions)
	if err != nil || n == 0 {
		return []retention.RunFailure{}, err
	}
	return e.store.RunFailures(ctx, runID, n)
}

// Follow sends the run each time its counts or status change, until it
// finishes or ctx ends. It reads the stored run, so it follows a run that
// another replica executes too. Errors: NOT_FOUND.
func (e *Engine) Follow(ctx context.Context, id string, every time.Duration) (<-chan retention.Run, error) {
	run, err := e.RunByID(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make(chan retention.Run, 1)
	go func() {
		defer close(out)
		last := *run
		out <- last
		t := time.NewTicker(every)
		defer t.Stop()
		for !last.Finished() {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			cur, err := e.store.Run(ctx, id)
			if err != nil {
				e.log.Warn("following a run", "run", id, "err", err)
				continue
			}
			if changed(last, *cur) {
				last = *cur
				select {
				case out <- last:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

func changed(a, b retention.Run) bool {
	return a.Status != b.Status || a.CustomersPlanned != b.CustomersPlanned || a.CustomersDone != b.CustomersDone ||
		a.CustomersFailed != b.CustomersFailed || a.CustomersSkipped != b.CustomersSkipped || a.ActionsPlanned != b.ActionsPlanned
}

// RunsPage pages through runs newest first; after is the id of the last
// run of the previous page. withPreviews false leaves out the dry runs that
// previews of a policy or data policy change record (trigger "preview"):
// they are what-ifs, not runs. Errors: BAD_USER_INPUT.
func (e *Engine) RunsPage(ctx context.Context, first *int, after *string, withPreviews bool) (retention.Page[retention.Run], error) {
	n, err := retention.PageSize("first", first, retention.DefaultPageSize, retention.MaxPageSize)
	if err != nil {
		return retention.Page[retention.Run]{}, err
	}
	return retention.FetchPage(n, func(n int) ([]retention.Run, error) {
		return e.store.RunsAfter(ctx, retention.AfterValue(after), n, withPreviews)
	})
}

// RunActionsPage pages through a run's plan or journal actions, each
// with its cursor: every action of a run is reachable, however many.
// Errors: BAD_USER_INPUT.
func (e *Engine) RunActionsPage(ctx context.Context, runID string, first *int, after *string) (retention.Page[retention.PlannedAction], error) {
	n, err := retention.PageSize("first", first, 100, MaxRunActions)
	if err != nil {
		return retention.Page[retention.PlannedAction]{}, err
	}
	return retention.FetchPage(n, func(n int) ([]retention.PlannedAction, error) {
		if p, ok := parseProposal(runID); ok {
			return e.previewPlanPage(ctx, p, n, retention.AfterValue(after))
		}
		return e.store.RunActionsAfter(ctx, runID, retention.AfterValue(after), n)
	})
}

// RunFailuresPage pages through the customers a run could not
// relinquish. Errors: BAD_USER_INPUT.
func (e *Engine) RunFailuresPage(ctx context.Context, runID string, first *int, after *string) (retention.Page[retention.RunFailure], error) {
	n, err := retention.PageSize("first", first, 100, MaxRunActions)
	if err != nil {
		return retention.Page[retention.RunFailure]{}, err
	}
	return retention.FetchPage(n, func(n int) ([]retention.RunFailure, error) {
		return e.store.RunFailuresAfter(ctx, runID, retention.AfterValue(after), n)
	})
}
