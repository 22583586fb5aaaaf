package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/retention"
)

// hangingRegistry has one connector whose calls wait until they are given
// up: an operation over it stays running for as long as the test needs. A
// fake, because no real plugin can be made to hang on demand.
type hangingRegistry struct{}

func (hangingRegistry) Connectors(context.Context) []retention.ConnectorStatus {
	return []retention.ConnectorStatus{{Info: retention.ConnectorInfo{Name: "hang", Categories: []string{"contact"}}, Healthy: true}}
}
func (hangingRegistry) Connector(context.Context, string) (retention.Connector, error) {
	return hangingConnector{}, nil
}

type hangingConnector struct{}

func (hangingConnector) Describe(context.Context) (retention.ConnectorInfo, error) {
	return retention.ConnectorInfo{Name: "hang", Categories: []string{"contact"}}, nil
}
func (hangingConnector) Export(ctx context.Context, _ []retention.Subject) ([]retention.SubjectExport, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (hangingConnector) Anonymise(ctx context.Context, _ []retention.Action) ([]retention.ActionResult, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (hangingConnector) Delete(ctx context.Context, _ []retention.Action) ([]retention.ActionResult, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (hangingConnector) AnonymiseFields(ctx context.Context, _ []retention.FieldAction) ([]retention.ActionResult, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (hangingConnector) RecordVisits(ctx context.Context, _ []retention.VisitRecord) error {
	<-ctx.Done()
	return ctx.Err()
}
func (hangingConnector) Health(context.Context) error { return nil }

// wsClient speaks graphql-transport-ws as the graphql-ws client does.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	ctx  context.Context
}

func dialWS(t *testing.T, url string, protocols []string, header http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: protocols, HTTPHeader: header})
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { conn.CloseNow() }) //nolint:errcheck
	return &wsClient{t: t, conn: conn, ctx: ctx}, resp, nil
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	var b []byte
	if s, ok := v.(string); ok {
		b = []byte(s)
	} else {
		b, _ = json.Marshal(v)
	}
	if err := c.conn.Write(c.ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// next reads a message; on a close it returns the close code instead.
func (c *wsClient) next() (map[string]any, websocket.StatusCode) {
	c.t.Helper()
	_, b, err := c.conn.Read(c.ctx)
	if err != nil {
		code := websocket.CloseStatus(err)
		if code == -1 {
			c.t.Fatalf("read: %v", err)
		}
		return nil, code
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("not JSON: %q", b)
	}
	return m, 0
}

// closedWith reads until the server closes, and returns the code.
func (c *wsClient) closedWith() websocket.StatusCode {
	c.t.Helper()
	for {
		if _, code := c.next(); code != 0 {
			return code
		}
	}
}

func (c *wsClient) init(token string) {
	c.t.Helper()
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	// Nothing comes before the ack: not even the server's keep-alive ping.
	if m, code := c.next(); code != 0 || m["type"] != "connection_ack" {
		c.t.Fatalf("init: %v %d", m, code)
	}
}

// TestWebsocketCloseCodes: each refusal closes with the code the
// graphql-transport-ws protocol gives it; the graphql-ws client reports
// these and does not reconnect in a loop, as it does after 1000.
func TestWebsocketCloseCodes(t *testing.T) {
	ts := mustServe(t, httpapi.Options{WebsocketInitTimeout: 300 * time.Millisecond},
		retention.WithConnectors(hangingRegistry{}))
	proto := []string{"graphql-transport-ws"}
	customer, err := ts.svc.CreateCustomer(adminCtx(), retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: ptr("Ws")}})
	if err != nil {
		t.Fatal(err)
	}
	hang := map[string]any{"query": `mutation($id: ID!) { exportCustomer(id: $id) { fileName } }`, "variables": map[string]any{"id": customer.ID}}

	cases := []struct {
		name string
		run  func(c *wsClient)
		want websocket.StatusCode
	}{
		{"bad token", func(c *wsClient) {
			c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer lethe_nope"}})
		}, 4403},
		{"no token", func(c *wsClient) { c.send(map[string]any{"type": "connection_init"}) }, 4403},
		{"subscribe before init", func(c *wsClient) {
			c.send(map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{"query": "{ dataPolicy { usesDefault } }"}})
		}, 4401},
		{"second init", func(c *wsClient) {
			c.init(ts.viewer)
			c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + ts.viewer}})
		}, 4429},
		{"unknown message", func(c *wsClient) { c.init(ts.viewer); c.send(map[string]any{"type": "start", "id": "1"}) }, 4400},
		{"not JSON", func(c *wsClient) { c.send("hello") }, 4400},
		{"subscribe without id", func(c *wsClient) {
			c.init(ts.viewer)
			c.send(map[string]any{"type": "subscribe", "payload": map[string]any{"query": "{ dataPolicy { usesDefault } }"}})
		}, 4400},
		{"duplicate operation id", func(c *wsClient) {
			c.init(ts.admin)
			c.send(map[string]any{"type": "subscribe", "id": "1", "payload": hang})
			c.send(map[string]any{"type": "subscribe", "id": "1", "payload": hang})
		}, 4409},
		{"no init in time", func(c *wsClient) {}, 4408},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := dialWS(t, ts.url, proto, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.run(c)
			if got := c.closedWith(); got != tc.want {
				t.Fatalf("closed with %d, want %d", got, tc.want)
			}
		})
	}

	t.Run("unknown subprotocol", func(t *testing.T) {
		for _, p := range [][]string{{"graphql-ws"}, {"mqtt"}, nil} {
			c, _, err := dialWS(t, ts.url, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.closedWith(); got != 4406 {
				t.Fatalf("%v: closed with %d, want 4406", p, got)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestWebsocketOperations: after the ack, a query is answered by next and
// complete, a request error by one error message (the connection stays),
// ping by pong, and a client's complete stops a running operation.
func TestWebsocketOperations(t *testing.T) {
	ts := mustServe(t, httpapi.Options{WebsocketPing: 100 * time.Millisecond}, retention.WithConnectors(hangingRegistry{}))
	c, _, err := dialWS(t, ts.url, []string{"graphql-transport-ws"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.init(ts.admin)
	// skipPings reads the next message that is not the server's keep-alive.
	pings := 0
	skipPings := func() map[string]any {
		for {
			m, code := c.next()
			if code != 0 {
				t.Fatalf("closed with %d", code)
			}
			if m["type"] == "ping" {
				pings++
				c.send(map[string]any{"type": "pong"})
				continue
			}
			return m
		}
	}
	c.send(map[string]any{"type": "subscribe", "id": "q", "payload": map[string]any{"query": "{ dataPolicy { usesDefault } }"}})
	if m := skipPings(); m["type"] != "next" || m["id"] != "q" {
		t.Fatalf("query: %v", m)
	}
	if m := skipPings(); m["type"] != "complete" || m["id"] != "q" {
		t.Fatalf("after the query: %v", m)
	}
	c.send(map[string]any{"type": "subscribe", "id": "bad", "payload": map[string]any{"query": "{ passwords }"}})
	m := skipPings()
	if errs, _ := m["payload"].([]any); m["type"] != "error" || m["id"] != "bad" || len(errs) == 0 ||
		errs[0].(map[string]any)["extensions"].(map[string]any)["code"] != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("invalid operation: %v", m)
	}
	c.send(map[string]any{"type": "ping", "payload": map[string]any{"n": 1}})
	if m := skipPings(); m["type"] != "pong" {
		t.Fatalf("ping: %v", m)
	}
	// A hanging export, stopped by the client: no message follows for it,
	// and its id is free again.
	customer, err := ts.svc.CreateCustomer(adminCtx(), retention.CustomerInput{PersonalData: retention.PersonalData{FirstName: ptr("Ws")}})
	if err != nil {
		t.Fatal(err)
	}
	hang := map[string]any{"query": `mutation($id: ID!) { exportCustomer(id: $id) { fileName } }`, "variables": map[string]any{"id": customer.ID}}
	c.send(map[string]any{"type": "subscribe", "id": "h", "payload": hang})
	time.Sleep(50 * time.Millisecond)
	c.send(map[string]any{"type": "complete", "id": "h"})
	c.send(map[string]any{"type": "subscribe", "id": "h", "payload": map[string]any{"query": "{ dataPolicy { usesDefault } }"}})
	if m := skipPings(); m["type"] != "next" || m["id"] != "h" {
		t.Fatalf("the id after complete: %v", m)
	}
	deadline := time.Now().Add(2 * time.Second)
	for pings == 0 && time.Now().Before(deadline) {
		c.send(map[string]any{"type": "subscribe", "id": "x" + time.Now().String(), "payload": map[string]any{"query": "{ dataPolicy { usesDefault } }"}})
		skipPings()
		time.Sleep(50 * time.Millisecond)
	}
	if pings == 0 {
		t.Fatal("no keep-alive ping from the server")
	}
}

// TestWebsocketOrigins: a browser page of another origin may open a
// websocket only when the allow-list names it.
func TestWebsocketOrigins(t *testing.T) {
	ts := mustServe(t, httpapi.Options{CORSOrigins: []string{"https://console.example.com"}})
	proto := []string{"graphql-transport-ws"}
	c, _, err := dialWS(t, ts.url, proto, http.Header{"Origin": {"https://console.example.com"}})
	if err != nil {
		t.Fatalf("listed origin: %v", err)
	}
	c.init(ts.viewer)
	_, resp, err := dialWS(t, ts.url, proto, http.Header{"Origin": {"https://evil.example.com"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v %v", resp, err)
	}
	off := mustServe(t, httpapi.Options{})
	if _, resp, err := dialWS(t, off.url, proto, http.Header{"Origin": {"https://console.example.com"}}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no allow-list: %v", err)
	}
}
