package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/metrics"
	"github.com/lethe-privacy/lethe/retention"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

type fakeRegistry struct{ fail bool }

func (f fakeRegistry) Connectors(context.Context) []retention.ConnectorStatus { return nil }
func (f fakeRegistry) Connector(_ context.Context, name string) (retention.Connector, error) {
	if name == "down" {
		return nil, retention.Errorf(retention.CodeConnectorUnavailable, "down")
	}
	return fakeConnector{fail: f.fail}, nil
}

type fakeConnector struct{ fail bool }

func (c fakeConnector) err() error {
	if c.fail {
		return errors.New("boom")
	}
	return nil
}
func (c fakeConnector) Describe(context.Context) (retention.ConnectorInfo, error) {
	return retention.ConnectorInfo{}, c.err()
}
func (c fakeConnector) Export(context.Context, []retention.Subject) ([]retention.SubjectExport, error) {
	return nil, c.err()
}
func (c fakeConnector) Anonymise(context.Context, []retention.Action) ([]retention.ActionResult, error) {
	return nil, c.err()
}
func (c fakeConnector) Delete(context.Context, []retention.Action) ([]retention.ActionResult, error) {
	time.Sleep(5 * time.Millisecond)
	return nil, c.err()
}
func (c fakeConnector) AnonymiseFields(context.Context, []retention.FieldAction) ([]retention.ActionResult, error) {
	return nil, c.err()
}
func (c fakeConnector) RecordVisits(context.Context, []retention.VisitRecord) error { return c.err() }
func (c fakeConnector) Health(context.Context) error                                { return c.err() }

func TestConnectorDecorator(t *testing.T) {
	m := metrics.New()
	ctx := context.Background()
	ok, _ := m.InstrumentConnectors(fakeRegistry{}).Connector(ctx, "calls")
	bad, _ := m.InstrumentConnectors(fakeRegistry{fail: true}).Connector(ctx, "invoices")
	ok.Delete(ctx, nil)  //nolint:errcheck
	ok.Export(ctx, nil)  //nolint:errcheck
	bad.Delete(ctx, nil) //nolint:errcheck
	bad.Delete(ctx, nil) //nolint:errcheck
	if _, err := m.InstrumentConnectors(fakeRegistry{}).Connector(ctx, "down"); err == nil {
		t.Fatal("down connector returned")
	}
	text := scrape(t, m)
	for _, want := range []string{
		`lethe_connector_calls_total{connector="calls",method="delete",outcome="ok"} 1`,
		`lethe_connector_calls_total{connector="calls",method="export",outcome="ok"} 1`,
		`lethe_connector_calls_total{connector="invoices",method="delete",outcome="error"} 2`,
		`lethe_connector_calls_total{connector="down",method="connect",outcome="error"} 1`,
		`lethe_connector_call_duration_seconds_count{connector="invoices",method="delete"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
	if m.InstrumentConnectors(nil) != nil {
		t.Fatal("nil registry wrapped")
	}
}

func TestSweepAndOperationMetrics(t *testing.T) {
	m := metrics.New()
	var sink retention.Metrics = m
	sink.SweepRun(retention.RunSucceeded, false, 2*time.Second)
	sink.SweepCustomers(retention.ActionErase, "done", 40)
	sink.SweepCustomers(retention.ActionAnonymise, "failed", 2)
	sink.SweepActions("cdrstore", retention.OpDelete, retention.ActionConfirmed, 40)
	// Client-chosen operation names: plain ones are kept up to a bound,
	// anything else is "other", so the series cannot grow without end.
	m.ObserveOperation("query", "Search", true, time.Millisecond)
	m.ObserveOperation("query", "", true, time.Millisecond)
	m.ObserveOperation("query", "Ottilie Fairweather <o@example.net>", false, time.Millisecond)
	for i := range 300 {
		m.ObserveOperation("query", fmt.Sprintf("Op%d", i), true, time.Millisecond)
	}
	text := scrape(t, m)
	for _, want := range []string{
		`lethe_sweep_runs_total{dry_run="false",status="SUCCEEDED"} 1`,
		`lethe_sweep_customers_total{kind="erase",outcome="done"} 40`,
		`lethe_sweep_customers_total{kind="anonymise",outcome="failed"} 2`,
		`lethe_sweep_actions_total{connector="cdrstore",operation="delete",status="confirmed"} 40`,
		`lethe_graphql_operations_total{operation="Search",outcome="ok",type="query"} 1`,
		`lethe_graphql_operations_total{operation="anonymous",outcome="ok",type="query"} 1`,
		`lethe_graphql_operations_total{operation="other",outcome="error",type="query"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(text, "Ottilie") || strings.Contains(text, `operation="Op250"`) {
		t.Error("unbounded or personal label values")
	}
}

func TestPluginRestarts(t *testing.T) {
	m := metrics.New()
	pids := map[string]int{"cdrstore": 100, "statdb": 200}
	m.WatchPlugins(func() map[string]int { return pids })
	scrape(t, m)
	pids["cdrstore"] = 0 // crashed, not yet relaunched
	if text := scrape(t, m); !strings.Contains(text, `lethe_connector_plugin_up{connector="cdrstore"} 0`) {
		t.Fatalf("down plugin: %s", text)
	}
	pids["cdrstore"] = 101
	scrape(t, m)
	pids["cdrstore"] = 102
	text := scrape(t, m)
	if !strings.Contains(text, `lethe_connector_plugin_restarts_total{connector="cdrstore"} 2`) ||
		!strings.Contains(text, `lethe_connector_plugin_restarts_total{connector="statdb"} 0`) ||
		!strings.Contains(text, `lethe_connector_plugin_up{connector="cdrstore"} 1`) {
		t.Fatalf("restarts: %s", text)
	}
}
