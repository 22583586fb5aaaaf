package graph

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"

	"github.com/lethe-privacy/lethe/retention"
)

// loaders batch what the fields of many customers read, so that a page of
// 100 customers with appointments, visits, holds, policy and deletion
// reason costs a few statements instead of several per customer. They live
// for one query operation: mutations read afresh, so that a mutation's
// result (and the next mutation of the same request) sees its own writes.
type loaders struct {
	appointments *dataloadgen.Loader[string, []retention.Appointment]
	visits       *dataloadgen.Loader[string, []retention.Visit]
	holds        *dataloadgen.Loader[string, []retention.LegalHold]
	// statusChanges: when each customer's recorded status changes happened.
	statusChanges *dataloadgen.Loader[string, []time.Time]
	settings      func() (customerSettings, error)
}

// customerSettings are what every customer's policy and deletion reason
// are computed from: read once per operation.
type customerSettings struct {
	policies   retention.PolicySet
	dataPolicy retention.DataPolicy
}

type loadersKey struct{}

// loaderWait is how long a loader gathers keys before it reads: the
// resolvers of a page's customers run concurrently and ask within
// microseconds of each other.
const loaderWait = time.Millisecond

func newLoaders(svc *retention.Service) *loaders {
	wait, capacity := dataloadgen.WithWait(loaderWait), dataloadgen.WithBatchCapacity(retention.MaxPageSize)
	return &loaders{
		appointments:  dataloadgen.NewMappedLoader(svc.Appointments, wait, capacity),
		visits:        dataloadgen.NewMappedLoader(svc.Visits, wait, capacity),
		holds:         dataloadgen.NewMappedLoader(svc.LegalHolds, wait, capacity),
		statusChanges: dataloadgen.NewMappedLoader(svc.StatusChangeTimes, wait, capacity),
		settings: sync.OnceValues(func() (customerSettings, error) {
			// Read outside any one resolver's context: the first caller's
			// context may end before another caller uses the result.
			ctx := context.Background()
			ps, dp, err := svc.ReadRules(ctx)
			if err != nil {
				return customerSettings{}, err
			}
			return customerSettings{policies: retention.NewPolicySet(ps), dataPolicy: dp}, nil
		}),
	}
}

// WithLoaders gives each query operation its own loaders: install it on
// the GraphQL server with AroundOperations.
func WithLoaders(svc *retention.Service) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Query {
			ctx = context.WithValue(ctx, loadersKey{}, newLoaders(svc))
		}
		return next(ctx)
	}
}

func loadersFrom(ctx context.Context) *loaders {
	l, _ := ctx.Value(loadersKey{}).(*loaders)
	return l
}

// listLoader batches one list every customer has (appointments, visits,
// holds, status changes) over the customers of an operation.
type listLoader[T any] = dataloadgen.Loader[string, []T]

// listOf reads customer id's list: through the operation's loader (pick
// names it) when there is one, else with read directly. A customer without
// entries has an empty list, not an error.
func listOf[T any](ctx context.Context, id string, pick func(*loaders) *listLoader[T],
	read func(context.Context, []string) (map[string][]T, error)) ([]T, error) {
	if l := loadersFrom(ctx); l != nil {
		v, err := pick(l).Load(ctx, id)
		if errors.Is(err, dataloadgen.ErrNotFound) {
			return nil, nil
		}
		return v, err
	}
	m, err := read(ctx, []string{id})
	return m[id], err
}

// primed fills loader with what read returns for customers ids.
func primed[T any](ctx context.Context, ids []string, loader *listLoader[T],
	read func(context.Context, []string) (map[string][]T, error)) error {
	m, err := read(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		loader.Prime(id, m[id])
	}
	return nil
}

func (r *Resolver) appointmentsOf(ctx context.Context, id string) ([]retention.Appointment, error) {
	return listOf(ctx, id, func(l *loaders) *listLoader[retention.Appointment] { return l.appointments }, r.Service.Appointments)
}

func (r *Resolver) visitsOf(ctx context.Context, id string) ([]retention.Visit, error) {
	return listOf(ctx, id, func(l *loaders) *listLoader[retention.Visit] { return l.visits }, r.Service.Visits)
}

func (r *Resolver) holdsOf(ctx context.Context, id string) ([]retention.LegalHold, error) {
	return listOf(ctx, id, func(l *loaders) *listLoader[retention.LegalHold] { return l.holds }, r.Service.LegalHolds)
}

func (r *Resolver) statusChangesOf(ctx context.Context, id string) ([]time.Time, error) {
	return listOf(ctx, id, func(l *loaders) *listLoader[time.Time] { return l.statusChanges }, r.Service.StatusChangeTimes)
}

func (r *Resolver) settingsFor(ctx context.Context) (customerSettings, error) {
	if l := loadersFrom(ctx); l != nil {
		return l.settings()
	}
	ps, dp, err := r.Service.ReadRules(ctx)
	if err != nil {
		return customerSettings{}, err
	}
	return customerSettings{policies: retention.NewPolicySet(ps), dataPolicy: dp}, nil
}

// prefetch fills the loaders for a page of customers before their fields
// resolve: one read per selected list field for the whole page, however the
// field resolvers happen to be scheduled.
func (r *Resolver) prefetch(ctx context.Context, ids []string) error {
	return r.prime(ctx, ids, nodeFields(ctx))
}

// prime fills the loaders of the named fields for customers ids.
func (r *Resolver) prime(ctx context.Context, ids []string, fields map[string]bool) error {
	l := loadersFrom(ctx)
	if l == nil || len(ids) == 0 {
		return nil
	}
	var err error
	if fields["appointments"] || fields["lastInteractionAt"] {
		err = primed(ctx, ids, l.appointments, r.Service.Appointments)
	}
	if err == nil && (fields["visits"] || fields["lastInteractionAt"]) {
		err = primed(ctx, ids, l.visits, r.Service.Visits)
	}
	if err == nil && fields["lastInteractionAt"] {
		err = primed(ctx, ids, l.statusChanges, r.Service.StatusChangeTimes)
	}
	if err == nil && fields["legalHolds"] {
		err = primed(ctx, ids, l.holds, r.Service.LegalHolds)
	}
	return err
}

// customerFields names the fields selected on the customer being resolved.
func customerFields(ctx context.Context) map[string]bool {
	out := map[string]bool{}
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{"Customer"}) {
		out[f.Name] = true
	}
	return out
}

// nodeFields names the fields selected on edges.node of the connection
// being resolved.
func nodeFields(ctx context.Context) map[string]bool {
	out := map[string]bool{}
	op := graphql.GetOperationContext(ctx)
	for _, edges := range graphql.CollectFieldsCtx(ctx, nil) {
		if edges.Name != "edges" {
			continue
		}
		for _, node := range graphql.CollectFields(op, edges.Selections, nil) {
			if node.Name != "node" {
				continue
			}
			for _, f := range graphql.CollectFields(op, node.Selections, []string{"Customer"}) {
				out[f.Name] = true
			}
		}
	}
	return out
}
