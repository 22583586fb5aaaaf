package metrics

import "github.com/prometheus/client_golang/prometheus"

// Ledger counts what the erasure ledger's guards find: erasures re-applied
// after a restore, data found again in connectors (resurrected), and
// canaries that a connector failed to relinquish.
type Ledger struct {
	reapplied   prometheus.Counter
	resurrected *prometheus.CounterVec
	canary      *prometheus.GaugeVec
}

// NewLedger registers the ledger's collectors with m; nil m gives a Ledger
// that records nothing (metrics off).
func NewLedger(m *Metrics) *Ledger {
	l := &Ledger{
		reapplied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lethe_ledger_reapplied_total", Help: "Customers relinquished again on start because the database was restored from before their erasure.",
		}),
		resurrected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lethe_resurrected_total", Help: "Erased customers a connector held data on again (its store restored from a backup), re-erased.",
		}, []string{"connector"}),
		canary: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lethe_canary_failing", Help: "1 when a connector still held the last canary customer after acknowledging its deletion, else 0.",
		}, []string{"connector"}),
	}
	if m != nil {
		m.reg.MustRegister(l.reapplied, l.resurrected, l.canary)
	}
	return l
}

// Reapplied counts customers relinquished again after a restore.
func (l *Ledger) Reapplied(n int) { l.reapplied.Add(float64(n)) }

// Resurrected counts customers a connector held again.
func (l *Ledger) Resurrected(connector string, n int) {
	l.resurrected.WithLabelValues(connector).Add(float64(n))
}

// Canary sets whether a connector failed the last canary.
func (l *Ledger) Canary(connector string, failing bool) {
	v := 0.0
	if failing {
		v = 1
	}
	l.canary.WithLabelValues(connector).Set(v)
}
