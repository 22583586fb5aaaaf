// Package metrics exposes Lethe's Prometheus metrics: HTTP requests and
// GraphQL operations, sweeps (retention.Metrics), connector calls (a
// decorator of retention.ConnectorRegistry) and plugin process changes.
//
// No label ever holds personal data or an id: labels are routes, operation
// names (checked and bounded), connector names, kinds and outcomes.
package metrics

import (
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lethe-privacy/lethe/retention"
)

// Metrics holds every collector, on its own registry (so that tests and
// several servers in one process do not collide).
type Metrics struct {
	reg *prometheus.Registry

	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	operations     *prometheus.CounterVec
	opDuration     *prometheus.HistogramVec
	sweepRuns      *prometheus.CounterVec
	sweepDuration  *prometheus.HistogramVec
	sweepCustomers *prometheus.CounterVec
	sweepActions   *prometheus.CounterVec
	sweepThrottled prometheus.Counter
	sweepPace      prometheus.Gauge
	connCalls      *prometheus.CounterVec
	connDuration   *prometheus.HistogramVec

	mu       sync.Mutex
	opNames  map[string]bool
	maxNames int
}

var _ retention.Metrics = (*Metrics)(nil)

// New returns the collectors, registered with Go and process metrics.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), opNames: map[string]bool{}, maxNames: 200}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lethe_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lethe_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	m.operations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lethe_graphql_operations_total", Help: "GraphQL operations by type, operation name and outcome (ok or error).",
	}, []string{"type", "operation", "outcome"})
	m.opDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lethe_graphql_operation_duration_seconds", Help: "GraphQL operation latency by type and operation name.", Buckets: prometheus.DefBuckets,
	}, []string{"type", "operation"})
	m.sweepRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lethe_sweep_runs_total", Help: "Retention runs that ended, by status and dry_run.",
	}, []string{"status", "dry_run"})
	m.sweepDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lethe_sweep_run_duration_seconds", Help: "Duration of retention runs.", Buckets: []float64{.1, .5, 1, 5, 15, 60, 300, 900, 3600},
	}, []string{"dry_run"})
	m.sweepCustomers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lethe_sweep_customers_total", Help: "Customers finished by real runs, by kind (erase, anonymise) and outcome (done, failed, skipped).",
	}, []string{"kind", "outcome"})
	m.sweepActions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lethe_sweep_actions_total", Help: "Connector actions of real runs by connector, operation and status (confirmed, failed).",
	}, []string{"connector", "operation", "status"})
	m.sweepThrottled = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lethe_sweep_throttled_seconds_total", Help: "Seconds sweeps waited to keep their pace (--sweep-max-rate, or slower while the API's writes were slowed down by them).",
	})
	m.sweepPace = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "lethe_sweep_pace_customers_per_second",
		Help: "The pace the running sweep keeps: the --sweep-max-rate cap, or lower while it slows down for the API's writes; 0 while unpaced or no sweep runs.",
	})
	m.connCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lethe_connector_calls_total", Help: "Connector calls by connector, method and outcome (ok, error).",
	}, []string{"connector", "method", "outcome"})
	m.connDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lethe_connector_call_duration_seconds", Help: "Connector call latency by connector and method.", Buckets: prometheus.DefBuckets,
	}, []string{"connector", "method"})
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.operations, m.opDuration, m.sweepRuns, m.sweepDuration,
		m.sweepCustomers, m.sweepActions, m.sweepThrottled, m.sweepPace, m.connCalls, m.connDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is where more collectors can be registered.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveHTTP counts one HTTP request on a fixed route name.
func (m *Metrics) ObserveHTTP(route string, status int, took time.Duration) {
	m.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(took.Seconds())
}

// ObserveOperation counts one GraphQL operation. Operation names are chosen
// by clients, so only plain names are kept, and only the first maxNames
// distinct ones: the rest count as "other", bounding the series.
func (m *Metrics) ObserveOperation(kind, name string, ok bool, took time.Duration) {
	name = m.operationLabel(name)
	outcome := "ok"
	if !ok {
		outcome = "error"
	}
	m.operations.WithLabelValues(kind, name, outcome).Inc()
	m.opDuration.WithLabelValues(kind, name).Observe(took.Seconds())
}

var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func (m *Metrics) operationLabel(name string) string {
	if name == "" {
		return "anonymous"
	}
	if !plainName.MatchString(name) {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.opNames[name] {
		return name
	}
	if len(m.opNames) >= m.maxNames {
		return "other"
	}
	m.opNames[name] = true
	return name
}

// SweepRun implements retention.Metrics.
func (m *Metrics) SweepRun(status retention.RunStatus, dryRun bool, took time.Duration) {
	dry := strconv.FormatBool(dryRun)
	m.sweepRuns.WithLabelValues(string(status), dry).Inc()
	m.sweepDuration.WithLabelValues(dry).Observe(took.Seconds())
	if !dryRun {
		m.sweepPace.Set(0) // a run that ended keeps no pace
	}
}

// SweepCustomers implements retention.Metrics.
func (m *Metrics) SweepCustomers(kind retention.ActionKind, outcome string, n int) {
	m.sweepCustomers.WithLabelValues(string(kind), outcome).Add(float64(n))
}

// SweepActions implements retention.Metrics.
func (m *Metrics) SweepActions(connector, operation string, status retention.ActionStatus, n int) {
	m.sweepActions.WithLabelValues(connector, operation, string(status)).Add(float64(n))
}

// SweepThrottled implements retention.ThrottleMetrics.
func (m *Metrics) SweepThrottled(d time.Duration) { m.sweepThrottled.Add(d.Seconds()) }

// SweepPace implements retention.PaceMetrics.
func (m *Metrics) SweepPace(perSecond float64) { m.sweepPace.Set(perSecond) }

// observeCall counts one connector call.
func (m *Metrics) observeCall(connector, method string, err error, took time.Duration) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.connCalls.WithLabelValues(connector, method, outcome).Inc()
	m.connDuration.WithLabelValues(connector, method).Observe(took.Seconds())
}
