package httpapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/retention"
)

// setDays is a subscribe message running updateRetentionPolicy.
func setDays(id string, days int) map[string]any {
	return map[string]any{"type": "subscribe", "id": id, "payload": map[string]any{
		"query": fmt.Sprintf(`mutation { updateRetentionPolicy(input: {name: "default", retentionDays: %d}) { retentionDays } }`, days)}}
}

// policyUpdates counts the policy.update events in the audit log.
func policyUpdates(t *testing.T, svc *retention.Service) int {
	t.Helper()
	events, err := svc.AuditLog(adminCtx(), ptr(100), nil, retention.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == retention.AuditPolicyUpdate {
			n++
		}
	}
	return n
}

// TestWebsocketRevokedTokenLosesPower: a token revoked by another process
// (its own cache, as `lethe token revoke` has) loses its open websocket at
// once: its next operation closes the connection with 4403 and changes
// nothing; an idle connection of a revoked token is closed with 4403
// within the check interval; a token whose role is lowered loses its
// connection the same way.
func TestWebsocketRevokedTokenLosesPower(t *testing.T) {
	ts := mustServe(t, httpapi.Options{})
	elsewhere := retention.NewService(ts.store) // another process: its own token cache

	c, _, err := dialWS(t, ts.url, []string{"graphql-transport-ws"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.init(ts.admin)
	c.send(setDays("1", 31))
	if m, code := c.next(); code != 0 || m["type"] != "next" {
		t.Fatalf("before revocation: %v %d", m, code)
	}
	if m, _ := c.next(); m["type"] != "complete" {
		t.Fatalf("before revocation: %v", m)
	}
	// The handler has just authenticated the token: its cache holds it.
	if _, err := elsewhere.RevokeToken(adminCtx(), "admin"); err != nil {
		t.Fatal(err)
	}
	c.send(setDays("2", 45))
	if m, code := c.next(); code != 4403 {
		t.Fatalf("operation after revocation: %v %d, want close 4403", m, code)
	}
	p, err := ts.svc.Policy(adminCtx(), "default")
	if err != nil || p.RetentionDays != 31 {
		t.Fatalf("the revoked token changed the policy: %+v %v", p, err)
	}
	if n := policyUpdates(t, ts.svc); n != 1 {
		t.Fatalf("%d policy.update events, want the one before revocation", n)
	}

	t.Run("idle connection", func(t *testing.T) {
		token := mustToken(t, ts.svc, "idle-admin", retention.RoleAdmin)
		c, _, err := dialWS(t, ts.url, []string{"graphql-transport-ws"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.init(token)
		if _, err := elsewhere.RevokeToken(adminCtx(), "idle-admin"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if code := c.closedWith(); code != 4403 {
			t.Fatalf("idle connection of a revoked token: closed with %d, want 4403", code)
		}
		// The check runs every second (retention.DefaultCacheTTL); the
		// dial's 10 s bound is what fails a connection left open.
		t.Logf("closed %v after the revocation", time.Since(start).Round(time.Millisecond))
	})

	t.Run("role lowered", func(t *testing.T) {
		token := mustToken(t, ts.svc, "lowered", retention.RoleAdmin)
		c, _, err := dialWS(t, ts.url, []string{"graphql-transport-ws"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.init(token)
		// No command changes a role: an operator's edit of the row is
		// what this stands for.
		if _, err := ts.store.DB().ExecContext(context.Background(), "UPDATE api_tokens SET role = 'viewer' WHERE name = 'lowered'"); err != nil {
			t.Fatal(err)
		}
		c.send(setDays("3", 60))
		if m, code := c.next(); code != 4403 {
			t.Fatalf("operation after the role was lowered: %v %d, want close 4403", m, code)
		}
		if p, _ := ts.svc.Policy(adminCtx(), "default"); p.RetentionDays != 31 {
			t.Fatalf("a lowered token changed the policy: %+v", p)
		}
	})

	t.Run("role raised", func(t *testing.T) {
		token := mustToken(t, ts.svc, "raised", retention.RoleViewer)
		c, _, err := dialWS(t, ts.url, []string{"graphql-transport-ws"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.init(token)
		if _, err := ts.store.DB().ExecContext(context.Background(), "UPDATE api_tokens SET role = 'admin' WHERE name = 'raised'"); err != nil {
			t.Fatal(err)
		}
		c.send(setDays("4", 32))
		if m, code := c.next(); code != 0 || m["type"] != "next" {
			t.Fatalf("operation after the role was raised: %v %d", m, code)
		}
		if p, _ := ts.svc.Policy(adminCtx(), "default"); p.RetentionDays != 32 {
			t.Fatalf("the raised role did not apply: %+v", p)
		}
	})
}
