package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lethe-privacy/lethe/retention"
)

// Registry decorates a retention.ConnectorRegistry so that every call of
// every connector it hands out is timed and counted, whoever makes it (the
// service, the engine, the API).
type Registry struct {
	inner retention.ConnectorRegistry
	m     *Metrics
}

var _ retention.ConnectorRegistry = (*Registry)(nil)

// InstrumentConnectors wraps reg; a nil reg stays nil.
func (m *Metrics) InstrumentConnectors(reg retention.ConnectorRegistry) retention.ConnectorRegistry {
	if reg == nil {
		return nil
	}
	return &Registry{inner: reg, m: m}
}

// Connectors implements retention.ConnectorRegistry.
func (r *Registry) Connectors(ctx context.Context) []retention.ConnectorStatus {
	return r.inner.Connectors(ctx)
}

// Connector implements retention.ConnectorRegistry; a connector that cannot
// be reached counts as a failed "connect" call.
func (r *Registry) Connector(ctx context.Context, name string) (retention.Connector, error) {
	start := time.Now()
	c, err := r.inner.Connector(ctx, name)
	if err != nil {
		r.m.observeCall(name, "connect", err, time.Since(start))
		return nil, err
	}
	return &connector{inner: c, name: name, m: r.m}, nil
}

type connector struct {
	inner retention.Connector
	name  string
	m     *Metrics
}

// timed runs one call of the connector and observes it as method.
func timed[T any](c *connector, method string, call func() (T, error)) (T, error) {
	start := time.Now()
	out, err := call()
	c.m.observeCall(c.name, method, err, time.Since(start))
	return out, err
}

// none adapts a call that returns only an error to timed.
func none(call func() error) func() (struct{}, error) {
	return func() (struct{}, error) { return struct{}{}, call() }
}

func (c *connector) Describe(ctx context.Context) (retention.ConnectorInfo, error) {
	return timed(c, "describe", func() (retention.ConnectorInfo, error) { return c.inner.Describe(ctx) })
}

func (c *connector) Export(ctx context.Context, subjects []retention.Subject) ([]retention.SubjectExport, error) {
	return timed(c, "export", func() ([]retention.SubjectExport, error) { return c.inner.Export(ctx, subjects) })
}

func (c *connector) Anonymise(ctx context.Context, actions []retention.Action) ([]retention.ActionResult, error) {
	return timed(c, "anonymise", func() ([]retention.ActionResult, error) { return c.inner.Anonymise(ctx, actions) })
}

func (c *connector) Delete(ctx context.Context, actions []retention.Action) ([]retention.ActionResult, error) {
	return timed(c, "delete", func() ([]retention.ActionResult, error) { return c.inner.Delete(ctx, actions) })
}

func (c *connector) AnonymiseFields(ctx context.Context, actions []retention.FieldAction) ([]retention.ActionResult, error) {
	return timed(c, "anonymise_fields", func() ([]retention.ActionResult, error) { return c.inner.AnonymiseFields(ctx, actions) })
}

func (c *connector) RecordVisits(ctx context.Context, visits []retention.VisitRecord) error {
	_, err := timed(c, "record_visits", none(func() error { return c.inner.RecordVisits(ctx, visits) }))
	return err
}

func (c *connector) Health(ctx context.Context) error {
	_, err := timed(c, "health", none(func() error { return c.inner.Health(ctx) }))
	return err
}

// WatchPlugins exports plugin process changes. connectors.Manager keeps no
// restart count; it tells only which process serves each connector now
// (PIDs), so this counts, per connector, each time a scrape sees a new
// process id: a crash and relaunch between two scrapes counts once (two
// within one scrape interval count once too). It also exports whether a
// process runs now.
func (m *Metrics) WatchPlugins(pids func() map[string]int) {
	m.reg.MustRegister(&pluginCollector{pids: pids, last: map[string]int{}, changes: map[string]float64{}})
}

var (
	pluginChangesDesc = prometheus.NewDesc("lethe_connector_plugin_restarts_total",
		"Times a connector's plugin process was seen replaced by a new one (relaunch after a crash), counted at scrape time.", []string{"connector"}, nil)
	pluginUpDesc = prometheus.NewDesc("lethe_connector_plugin_up",
		"1 when a plugin process serves the connector now.", []string{"connector"}, nil)
)

type pluginCollector struct {
	pids    func() map[string]int
	mu      sync.Mutex
	last    map[string]int
	changes map[string]float64
}

func (p *pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pluginChangesDesc
	ch <- pluginUpDesc
}

func (p *pluginCollector) Collect(ch chan<- prometheus.Metric) {
	now := p.pids()
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, pid := range now {
		if prev, seen := p.last[name]; seen && pid != 0 && prev != pid {
			p.changes[name]++
		}
		if pid != 0 {
			p.last[name] = pid
		}
		up := 0.0
		if pid != 0 {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(pluginChangesDesc, prometheus.CounterValue, p.changes[name], name)
		ch <- prometheus.MustNewConstMetric(pluginUpDesc, prometheus.GaugeValue, up, name)
	}
}
