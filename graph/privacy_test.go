package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/metrics"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// memRegistry is one in-memory connector holding call records: it exports
// and deletes them, and fails to record visits, so that error paths log.
type memRegistry struct {
	mu      sync.Mutex
	records map[string]int
}

func (r *memRegistry) Connectors(context.Context) []retention.ConnectorStatus {
	return []retention.ConnectorStatus{{Info: retention.ConnectorInfo{Name: "calls", Categories: []string{retention.CategoryCDR},
		Capabilities: []string{retention.CapabilityExport, retention.CapabilityDelete, retention.CapabilityRecordVisits}}, Healthy: true}}
}

func (r *memRegistry) Connector(context.Context, string) (retention.Connector, error) { return r, nil }

func (r *memRegistry) Describe(ctx context.Context) (retention.ConnectorInfo, error) {
	return r.Connectors(ctx)[0].Info, nil
}

func (r *memRegistry) Export(_ context.Context, subjects []retention.Subject) ([]retention.SubjectExport, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []retention.SubjectExport
	for _, s := range subjects {
		if r.records[s.CustomerID] == 0 {
			continue // nothing held: left out, as the protocol asks
		}
		b, _ := json.Marshal(map[string]any{"callRecords": r.records[s.CustomerID], "caller": s.Phone})
		out = append(out, retention.SubjectExport{CustomerID: s.CustomerID, Data: b})
	}
	return out, nil
}

func (r *memRegistry) Anonymise(_ context.Context, actions []retention.Action) ([]retention.ActionResult, error) {
	return r.Delete(context.Background(), actions)
}

func (r *memRegistry) Delete(_ context.Context, actions []retention.Action) ([]retention.ActionResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []retention.ActionResult
	for _, a := range actions {
		n := r.records[a.Subject.CustomerID]
		delete(r.records, a.Subject.CustomerID)
		out = append(out, retention.ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: retention.OutcomeDeleted, Records: n})
	}
	return out, nil
}

func (r *memRegistry) AnonymiseFields(_ context.Context, actions []retention.FieldAction) ([]retention.ActionResult, error) {
	out := make([]retention.ActionResult, len(actions))
	for i, a := range actions {
		out[i] = retention.ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: retention.OutcomeNotFound}
	}
	return out, nil
}

func (r *memRegistry) RecordVisits(context.Context, []retention.VisitRecord) error {
	return errors.New("statistics store is read-only")
}

func (r *memRegistry) Health(context.Context) error { return nil }

// syncBuffer is a log sink shared by the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNoPersonalDataInLogsOrMetrics runs the traffic of a working day
// against the real handler on a real SQLite store, with the server's JSON
// logger and metrics: create, search, read, export (both ways), delete,
// failing and forbidden requests, a visit, and a sweep. No customer's
// name, email or phone may appear in the log or in /metrics; every request
// line has a request id.
func TestNoPersonalDataInLogsOrMetrics(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpenSQLite(t)
	logs := &syncBuffer{}
	// Debug: the most the server could ever write.
	log := slog.New(httpapi.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	m := metrics.New()
	conns := &memRegistry{records: map[string]int{}}
	reg := m.InstrumentConnectors(conns)
	svc := retention.NewService(s, retention.WithConnectors(reg), retention.WithLogger(log), retention.WithMetrics(m))
	relinquish.Connect(svc)
	srv := httptest.NewServer(httpapi.NewHandler(&graph.Resolver{Service: svc, Registry: reg, Log: log},
		httpapi.Options{Observer: m, Metrics: m.Handler()}))
	t.Cleanup(srv.Close)
	op := "Bearer " + mustToken(t, svc, "front-desk", retention.RoleOperator)
	viewer := "Bearer " + mustToken(t, svc, "auditor", retention.RoleViewer)

	people := []map[string]any{
		{"firstName": "Ottilie", "lastName": "Fairweather", "email": "ottilie.fw@example.net", "phone": "+49 30 5551234"},
		{"firstName": "Bartholomew", "lastName": "Quennell", "email": "bq@mailbox.example", "phone": "+44 161 496 0777"},
		{"firstName": "Sigrun", "lastName": "Haldorsdottir", "email": "sigrun.h@example.is", "phone": "+354 555 6789"},
	}
	secrets := []string{}
	for _, p := range people {
		for _, v := range p {
			secrets = append(secrets, v.(string))
		}
	}
	secrets = append(secrets, "5551234", "4960777", "5556789") // phone digits as searched

	call := func(auth, query string, vars map[string]any) gqlResponse {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars, "operationName": nil})
		_, resp, _ := post(t, srv.URL, auth, string(body))
		return resp
	}
	var ids []string
	for _, p := range people {
		r := call(op, `mutation Create($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`, map[string]any{"in": p})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		ids = append(ids, get(r.Data, "createCustomer", "id").(string))
		conns.records[ids[len(ids)-1]] = 3
	}
	for _, q := range []string{"Ottilie", "fairweather", "bq@mailbox", "+44 161", "Sigrun Hald"} {
		if r := call(op, `query Search($q: String) { customers(search: $q) { totalCount edges { node { id firstName email phone } } } }`, map[string]any{"q": q}); len(r.Errors) > 0 || get(r.Data, "customers", "totalCount") != float64(1) {
			t.Fatalf("search %s: %+v", q, r)
		}
	}
	call(op, `query { customer(id: "`+ids[0]+`") { firstName lastName deletionReason } }`, nil)
	if r := call(op, `mutation { exportCustomer(id: "`+ids[0]+`") { fileName data } }`, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/export/"+ids[1], nil)
	req.Header.Set("Authorization", op)
	req.Header.Set("X-Request-Id", "trace-me-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "trace-me-42" {
		t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
	}
	// Failing requests, whose messages to the client may quote the input.
	call(op, `mutation { createCustomer(input: {firstName: "Ottilie", email: "ottilie.fw@@example.net"}) { id } }`, nil)
	call(op, `mutation { setCustomerStatus(id: "`+ids[0]+`", status: CANCELLED, at: "Sigrun's birthday") { id } }`, nil)
	call(viewer, `query { customers(search: "Bartholomew") { totalCount } }`, nil)
	call("Bearer ottilie.fw@example.net", `{ dataPolicy { usesDefault } }`, nil)
	call(op, `{ customers(search: "Quennell") { edges { node { passwordHash } } } }`, nil)
	// A visit whose recording fails in the connector (a warning is logged).
	v := call(op, `mutation { startVisit(customerId: "`+ids[2]+`", customFields: [{field: "custom1", value: "Sigrun"}]) { id } }`, nil)
	call(op, `mutation($id: ID!) { endVisit(id: $id) { id } }`, map[string]any{"id": get(v.Data, "startVisit", "id")})
	// Delete one by hand, and sweep another whose time has come.
	if r := call(op, `mutation { deleteCustomer(id: "`+ids[1]+`") }`, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	call(op, `mutation { setCustomerRetentionPolicy(id: "`+ids[0]+`", policy: "direct") { deletionTime } }`, nil)
	engine := relinquish.NewEngine(s, reg, retention.WithLogger(log), retention.WithMetrics(m),
		retention.WithClock(func() time.Time { return time.Now().Add(time.Hour) }))
	run, err := engine.Run(retention.WithActor(context.Background(), retention.Actor{Name: retention.ActorScheduler}),
		retention.RunOptions{Trigger: "scheduler", Actor: retention.ActorScheduler})
	if err != nil || run.CustomersDone != 1 {
		t.Fatalf("sweep: %+v %v", run, err)
	}

	mresp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{`lethe_graphql_operations_total{operation="Search",outcome="ok",type="query"} 5`,
		`lethe_connector_calls_total{connector="calls",method="export",outcome="ok"} 4`, `lethe_http_requests_total{code="401",route="/graphql"} 1`} {
		if !strings.Contains(string(metricsText), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	logText := logs.String()
	lines := strings.Split(strings.TrimSpace(logText), "\n")
	requests := 0
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON log line: %s", line)
		}
		if rec["msg"] == "request" {
			requests++
			if rec["request_id"] == nil || rec["route"] == nil || rec["status"] == nil {
				t.Errorf("request line without id, route or status: %s", line)
			}
		}
	}
	if requests < 20 || !strings.Contains(logText, `"request_id":"trace-me-42"`) || !strings.Contains(logText, `"actor":"front-desk"`) ||
		!strings.Contains(logText, "ended visit not yet recorded by every connector") {
		t.Fatalf("%d request lines; log:\n%s", requests, logText)
	}
	for _, secret := range secrets {
		for name, text := range map[string]string{"log": logText, "metrics": string(metricsText)} {
			if strings.Contains(strings.ToLower(text), strings.ToLower(secret)) {
				t.Errorf("%s holds personal data %q", name, secret)
			}
		}
	}
}
