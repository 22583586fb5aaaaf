package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// slowRegistry has one connector whose calls wait until the request is
// given up: a stand-in for a hung plugin.
type slowRegistry struct{}

func (slowRegistry) Connectors(context.Context) []retention.ConnectorStatus {
	return []retention.ConnectorStatus{{Info: retention.ConnectorInfo{Name: "slow"}, Healthy: true}}
}

func (slowRegistry) Connector(context.Context, string) (retention.Connector, error) {
	return slowConnector{}, nil
}

type slowConnector struct{}

func (slowConnector) Describe(ctx context.Context) (retention.ConnectorInfo, error) {
	<-ctx.Done()
	return retention.ConnectorInfo{}, ctx.Err()
}

func (slowConnector) Export(ctx context.Context, _ []retention.Subject) ([]retention.SubjectExport, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (slowConnector) Anonymise(ctx context.Context, _ []retention.Action) ([]retention.ActionResult, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (slowConnector) Delete(ctx context.Context, _ []retention.Action) ([]retention.ActionResult, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (slowConnector) AnonymiseFields(ctx context.Context, _ []retention.FieldAction) ([]retention.ActionResult, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (slowConnector) RecordVisits(ctx context.Context, _ []retention.VisitRecord) error {
	<-ctx.Done()
	return ctx.Err()
}

func (slowConnector) Health(context.Context) error { return nil }

// nested is a query nested depth levels deep through the customer graph.
func nested(depth int) string {
	var b strings.Builder
	b.WriteString("{ customers { edges { node { ")
	open := 4
	for open < depth-1 {
		b.WriteString("appointments { customer { ")
		open += 2
	}
	b.WriteString("id")
	b.WriteString(strings.Repeat(" }", open))
	return b.String()
}

func aliases(n int, field string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field)
	}
	return b.String()
}

// TestBadInput: each kind of bad request is answered with a clear error
// and a code, quickly, and none changes data.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpenSQLite(t)
	svc := retention.NewService(s)
	srv := httptest.NewServer(httpapi.NewHandler(&graph.Resolver{Service: svc, Log: quiet}, httpapi.Options{}))
	t.Cleanup(srv.Close)
	auth := "Bearer " + mustToken(t, svc, "admin", retention.RoleAdmin)
	ctx := retention.WithActor(context.Background(), retention.Actor{Name: "setup", Role: retention.RoleAdmin})
	var ids []string
	for i := range 5 {
		c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp(fmt.Sprintf("Kept%d", i))}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	before, _ := s.AuditLog(ctx, retention.AuditQuery{First: 100})

	deleteAll := "mutation { " + aliases(1000, `deleteCustomer(id: "`+ids[0]+`")`) + "}"
	deleteMany := "mutation { " + aliases(60, `deleteCustomer(id: "`+ids[0]+`")`) + "}"
	// Statuses under Accept: application/json (what post sends), where
	// GraphQL-over-HTTP answers every well-formed request 200 so that the
	// client reads the code; httpapi's tests cover the other media type.
	cases := []struct {
		name, auth, body string
		status           int
		code             string
	}{
		{"malformed JSON", auth, `{"query": "{ dataPolicy { usesDefault } }"`, 400, "BAD_USER_INPUT"},
		{"not JSON at all", auth, `query { dataPolicy }`, 400, "BAD_USER_INPUT"},
		{"oversized body", auth, queryBody("{ dataPolicy { usesDefault } } #" + strings.Repeat("x", 2<<20)), 413, graph.CodeBodyTooLarge},
		{"50 levels deep", auth, queryBody(nested(50)), 200, graph.CodeDepthLimit},
		{"60 aliases of a search", auth, queryBody("{ " + aliases(60, "customers(first: 100) { totalCount edges { node { id firstName } } }") + "}"), 200, graph.CodeComplexityLimit},
		{"60 aliases of delete", auth, queryBody(deleteMany), 200, graph.CodeComplexityLimit},
		{"1,000 aliases of a search", auth, queryBody("{ " + aliases(1000, "customers(first: 100) { totalCount edges { node { id firstName } } }") + "}"), 200, graph.CodeTokenLimit},
		{"1,000 aliases of delete", auth, queryBody(deleteAll), 200, graph.CodeAliasLimit},
		{"unknown operation name", auth, `{"query": "query A { dataPolicy { usesDefault } }", "operationName": "B"}`, 200, "GRAPHQL_VALIDATION_FAILED"},
		{"syntax error", auth, queryBody("{ dataPolicy { "), 200, "GRAPHQL_PARSE_FAILED"},
		{"unknown field", auth, queryBody("{ passwords }"), 200, "GRAPHQL_VALIDATION_FAILED"},
		{"token of the wrong shape", "Bearer lethe_" + strings.Repeat("é", 20), queryBody("{ dataPolicy { usesDefault } }"), 401, "UNAUTHENTICATED"},
		{"a password for a token", "Bearer hunter2", queryBody("{ dataPolicy { usesDefault } }"), 401, "UNAUTHENTICATED"},
		{"introspection off", auth, queryBody("{ __schema { types { name } } }"), 200, graph.CodeIntrospectionDisabled},
	}
	for _, c := range cases {
		start := time.Now()
		status, resp, hdr := post(t, srv.URL, c.auth, c.body)
		took := time.Since(start)
		t.Logf("%-26s %d %-26s in %v", c.name, status, c.code, took.Round(time.Microsecond))
		if status != c.status || len(resp.Errors) == 0 || resp.Errors[0].Extensions["code"] != c.code {
			t.Errorf("%s: %d %+v, want %d %s", c.name, status, resp, c.status, c.code)
			continue
		}
		if resp.Errors[0].Message == "" || len(resp.Errors[0].Message) > 300 {
			t.Errorf("%s: message %q", c.name, resp.Errors[0].Message)
		}
		if hdr.Get("X-Request-Id") == "" {
			t.Errorf("%s: no request id", c.name)
		}
		if took > 2*time.Second {
			t.Errorf("%s took %v", c.name, took)
		}
	}
	// The limits leave ordinary queries alone: a full page of customers
	// with everything, and the playground's depth of introspection.
	if status, resp, _ := post(t, srv.URL, auth, queryBody(`{ customers(first: 100) { totalCount pageInfo { endCursor } edges { cursor node { `+customerFields+` } } } }`)); status != 200 || len(resp.Errors) != 0 {
		t.Fatalf("a full page: %d %+v", status, resp)
	}
	if status, resp, _ := post(t, srv.URL, auth, queryBody(nested(14))); status != 200 || len(resp.Errors) != 0 {
		t.Fatalf("14 levels: %d %+v", status, resp)
	}

	after, _ := s.AuditLog(ctx, retention.AuditQuery{First: 100})
	if len(after) != len(before) {
		t.Fatalf("bad requests changed data: %d audit events, was %d", len(after), len(before))
	}
	for _, id := range ids {
		if _, err := svc.Customer(ctx, id); err != nil {
			t.Fatalf("customer %s: %v", id, err)
		}
	}
}

// TestRequestTimeout: a request whose connector hangs is given up after
// the timeout with a coded error, not held open.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpenSQLite(t)
	svc := retention.NewService(s, retention.WithConnectors(slowRegistry{}))
	srv := httptest.NewServer(httpapi.NewHandler(&graph.Resolver{Service: svc, Log: quiet},
		httpapi.Options{Limits: httpapi.Limits{RequestTimeout: 300 * time.Millisecond}}))
	t.Cleanup(srv.Close)
	auth := "Bearer " + mustToken(t, svc, "op", retention.RoleOperator)
	c, err := svc.CreateCustomer(context.Background(), retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: sp("Slow")}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	status, resp, _ := post(t, srv.URL, auth, queryBody(`mutation { exportCustomer(id: "`+c.ID+`") { fileName } }`))
	took := time.Since(start)
	t.Logf("hung export answered in %v", took.Round(time.Millisecond))
	if status != 200 || len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "CONNECTOR_UNAVAILABLE" || took > 3*time.Second {
		t.Fatalf("%d %+v after %v", status, resp, took)
	}
}

// TestWebsocketNeedsToken: subscriptions authenticate in the connection's
// init payload; without a valid token the connection is never acknowledged.
func TestWebsocketNeedsToken(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpenSQLite(t)
	svc := retention.NewService(s)
	srv := httptest.NewServer(httpapi.NewHandler(&graph.Resolver{Service: svc, Log: quiet}, httpapi.Options{}))
	t.Cleanup(srv.Close)
	token := mustToken(t, svc, "viewer", retention.RoleViewer)
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/graphql"

	handshake := func(payload map[string]any) string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow() //nolint:errcheck
		init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": payload})
		if err := conn.Write(ctx, websocket.MessageText, init); err != nil {
			t.Fatal(err)
		}
		_, msg, err := conn.Read(ctx)
		if err != nil {
			return "closed: " + err.Error()
		}
		return string(msg)
	}
	if got := handshake(map[string]any{"Authorization": "Bearer " + token}); !strings.Contains(got, "connection_ack") {
		t.Fatalf("with a token: %s", got)
	}
	for name, payload := range map[string]map[string]any{
		"no payload":  nil,
		"bad token":   {"Authorization": "Bearer lethe_nope"},
		"not bearer":  {"Authorization": token},
		"unknown key": {"token": token},
	} {
		if got := handshake(payload); strings.Contains(got, "connection_ack") {
			t.Errorf("%s: acknowledged: %s", name, got)
		} else if !strings.Contains(got, "UNAUTHENTICATED") && !strings.HasPrefix(got, "closed") {
			t.Errorf("%s: %s", name, got)
		}
	}
}

func sp(s string) *string { return &s }

// introspection is the shape of the query GraphQL tools (the playground)
// send to learn the schema: its TypeRef nests ofType eight levels.
const introspection = `query Introspection {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}`

// TestPlaygroundIntrospectionWithinLimits: with the playground on, the
// introspection query it sends passes the default limits.
func TestPlaygroundIntrospectionWithinLimits(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpenSQLite(t)
	svc := retention.NewService(s)
	srv := httptest.NewServer(httpapi.NewHandler(&graph.Resolver{Service: svc, Log: quiet}, httpapi.Options{Playground: true}))
	t.Cleanup(srv.Close)
	auth := "Bearer " + mustToken(t, svc, "viewer", retention.RoleViewer)
	status, resp, _ := post(t, srv.URL, auth, queryBody(introspection))
	if status != 200 || len(resp.Errors) != 0 || get(resp.Data, "__schema", "queryType", "name") != "Query" {
		t.Fatalf("%d %+v", status, resp.Errors)
	}
}

// TestReadyz: 503 naming the failed check, without its details.
func TestReadyz(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpenSQLite(t)
	broken := true
	srv := httptest.NewServer(httpapi.NewHandler(&graph.Resolver{Service: retention.NewService(s), Log: quiet}, httpapi.Options{
		Ready: func(ctx context.Context) map[string]error {
			checks := map[string]error{"database": nil, "connector:calls": nil}
			if broken {
				checks["connector:calls"] = fmt.Errorf("dial unix /run/secret.sock: refused")
			}
			return checks
		},
	}))
	t.Cleanup(srv.Close)
	for _, want := range []struct {
		broken bool
		status int
		body   string
	}{{true, 503, `"connector:calls":"unavailable"`}, {false, 200, `"status":"ok"`}} {
		broken = want.broken
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.status || !strings.Contains(string(body), want.body) || strings.Contains(string(body), "secret.sock") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
}
