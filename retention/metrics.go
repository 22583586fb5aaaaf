package retention

import "time"

// Metrics receives counts of what relinquishing does, for /metrics. The
// engine calls it; the metrics package implements it with Prometheus
// collectors. Implementations are safe for concurrent use and cheap, and
// receive no personal data: kinds, outcomes, connector names, counts.
// ThrottleMetrics is what a Metrics may also count: the time sweeps waited
// for their pace (the operator's cap or the pace they keep for the API).
type ThrottleMetrics interface {
	SweepThrottled(d time.Duration)
}

// PaceMetrics is what a Metrics may also show: the pace a sweep keeps now,
// customers per second (the operator's cap, or lower while the requests'
// writes are slowed down by it; 0: unpaced).
type PaceMetrics interface {
	SweepPace(perSecond float64)
}

type Metrics interface {
	// SweepRun counts a run that ended: status SUCCEEDED or FAILED, and how
	// long it took.
	SweepRun(status RunStatus, dryRun bool, took time.Duration)
	// SweepCustomers counts customers a real run finished: kind erase or
	// anonymise; outcome "done", "failed" (gave up or will retry) or
	// "skipped" (no longer due).
	SweepCustomers(kind ActionKind, outcome string, n int)
	// SweepActions counts connector actions of a real run by connector,
	// operation (OpDelete, OpAnonymise) and status (ActionConfirmed,
	// ActionFailed).
	SweepActions(connector, operation string, status ActionStatus, n int)
}

// NopMetrics records nothing: the default.
type NopMetrics struct{}

func (NopMetrics) SweepRun(RunStatus, bool, time.Duration)        {}
func (NopMetrics) SweepCustomers(ActionKind, string, int)         {}
func (NopMetrics) SweepActions(string, string, ActionStatus, int) {}

var _ Metrics = NopMetrics{}

// WithMetrics sets where the service and the engine report counts.
func WithMetrics(m Metrics) Option { return func(s *Service) { s.metrics = m } }

// Metrics returns the service's metrics sink (NopMetrics by default); the
// engine takes it from the options it was built with.
func (s *Service) Metrics() Metrics { return s.metrics }
