package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// testServer is the real handler over a real SQLite store.
type testServer struct {
	url    string
	svc    *retention.Service
	store  *store.Store
	admin  string // tokens
	viewer string
}

func mustServe(t *testing.T, opts httpapi.Options, svcOpts ...retention.Option) *testServer {
	t.Helper()
	s := storetest.MustOpenSQLite(t)
	svc := retention.NewService(s, svcOpts...)
	srv := httptest.NewServer(httpapi.NewHandler(&graph.Resolver{Service: svc, Engine: relinquish.NewEngine(s, nil), Log: quiet}, opts))
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, svc: svc, store: s,
		admin: mustToken(t, svc, "admin", retention.RoleAdmin), viewer: mustToken(t, svc, "viewer", retention.RoleViewer)}
}

func mustToken(tb testing.TB, svc *retention.Service, name string, role retention.Role) string {
	tb.Helper()
	secret, _, err := svc.CreateToken(context.Background(), name, role)
	if err != nil {
		tb.Fatalf("create token %s: %v", name, err)
	}
	return secret
}

var quiet = slog.New(slog.DiscardHandler)

// reply is a response as read: status, headers and the body as JSON.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// code is the first GraphQL error's extensions.code, or the code of the
// plain error shape.
func (r reply) code() string {
	if errs, ok := r.body["errors"].([]any); ok && len(errs) > 0 {
		e, _ := errs[0].(map[string]any)
		ext, _ := e["extensions"].(map[string]any)
		c, _ := ext["code"].(string)
		return c
	}
	if e, ok := r.body["error"].(map[string]any); ok {
		c, _ := e["code"].(string)
		return c
	}
	return ""
}

func (r reply) message() string {
	if errs, ok := r.body["errors"].([]any); ok && len(errs) > 0 {
		e, _ := errs[0].(map[string]any)
		m, _ := e["message"].(string)
		return m
	}
	return ""
}

// send makes a request; headers are pairs of name and value.
func send(t *testing.T, method, url, body string, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	r.raw, _ = io.ReadAll(resp.Body)
	if len(r.raw) > 0 {
		if err := json.Unmarshal(r.raw, &r.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", method, url, r.raw)
		}
	}
	return r
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
