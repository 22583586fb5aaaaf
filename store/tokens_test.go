package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestTokens: a token is shown once and stored as a hash; it authenticates
// as its name and role until revoked; names are unique among live tokens.
func TestTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc := newService(s)
		ctx := retention.WithActor(context.Background(), retention.Actor{Name: "cli:root", Role: retention.RoleAdmin})
		secret, tok, err := svc.CreateToken(ctx, "console", retention.RoleOperator)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Role != retention.RoleOperator || tok.CreatedBy != "cli:root" {
			t.Fatalf("token %+v", tok)
		}
		// Only the hash is stored.
		var stored int
		if err := s.DB().NewSelect().Table("api_tokens").ColumnExpr("count(*)").Where("hash = ?", secret).Scan(context.Background(), &stored); err != nil || stored != 0 {
			t.Fatalf("secret stored in the clear: %d %v", stored, err)
		}
		actor, err := svc.Authenticate(context.Background(), secret)
		if err != nil || actor != (retention.Actor{Name: "console", Role: retention.RoleOperator}) {
			t.Fatalf("authenticate: %+v %v", actor, err)
		}
		list, _ := svc.Tokens(context.Background())
		if len(list) != 1 || list[0].LastUsedAt == nil {
			t.Fatalf("list after use: %+v", list)
		}

		_, _, err = svc.CreateToken(ctx, "console", retention.RoleAdmin)
		mustCode(t, err, retention.CodeBadUserInput)
		_, _, err = svc.CreateToken(ctx, "bad name!", retention.RoleAdmin)
		mustCode(t, err, retention.CodeBadUserInput)
		_, _, err = svc.CreateToken(ctx, "x", retention.Role("root"))
		mustCode(t, err, retention.CodeBadUserInput)

		other, _, _ := retention.NewTokenSecret()
		_, err = svc.Authenticate(context.Background(), other)
		mustCode(t, err, retention.CodeUnauthenticated)

		if _, err := svc.RevokeToken(ctx, "console"); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Authenticate(context.Background(), secret)
		mustCode(t, err, retention.CodeUnauthenticated)
		if !strings.Contains(retention.ErrorMessage(err), "revoked") {
			t.Fatalf("message: %v", err)
		}
		_, err = svc.RevokeToken(ctx, "console")
		mustCode(t, err, retention.CodeNotFound)

		// The name is free again once revoked.
		secret2, _, err := svc.CreateToken(ctx, "console", retention.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		if a, err := svc.Authenticate(context.Background(), secret2); err != nil || a.Role != retention.RoleViewer {
			t.Fatalf("new token: %+v %v", a, err)
		}
		list, _ = svc.Tokens(context.Background())
		if len(list) != 2 || list[0].RevokedAt == nil || list[1].RevokedAt != nil {
			t.Fatalf("list: %+v", list)
		}
		events, _ := s.AuditLog(context.Background(), retention.AuditQuery{First: 10, Subject: "console"})
		if len(events) != 3 || events[0].Action != "token.create" || events[1].Action != "token.revoke" || events[1].Actor != "cli:root" {
			t.Fatalf("audit: %+v", events)
		}
	})
}

// TestTokenCache: a token read once is trusted for the cache's TTL without
// a statement; revoked through the same Service it is refused at once,
// revoked by another process (another Service on the same database, as
// `lethe token revoke` is) within the TTL; unknown tokens are never cached.
func TestTokenCache(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, server, cli := cachingPair(s, "cli:root")
		secret, _, err := cli.CreateToken(ctx, "console", retention.RoleOperator)
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := cli.CreateToken(ctx, "ops", retention.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		counter := &statementCounter{}
		s.AddQueryHook(counter)
		if _, err := server.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if counter.n.Load() == 0 {
			t.Fatal("the first use of a token read nothing")
		}
		counter.n.Store(0)
		for range 5 {
			if a, err := server.Authenticate(ctx, secret); err != nil || a.Name != "console" || a.Role != retention.RoleOperator {
				t.Fatalf("cached: %+v %v", a, err)
			}
		}
		if n := counter.n.Load(); n != 0 {
			t.Fatalf("a cached token still ran %d statements", n)
		}

		// Revoked here: refused at once.
		if _, err := server.RevokeToken(ctx, "console"); err != nil {
			t.Fatal(err)
		}
		_, err = server.Authenticate(ctx, secret)
		mustCode(t, err, retention.CodeUnauthenticated)

		// Revoked by another process: refused once the TTL has passed.
		if _, err := server.Authenticate(ctx, other); err != nil {
			t.Fatal(err)
		}
		revokedAt := time.Now()
		if _, err := cli.RevokeToken(ctx, "ops"); err != nil {
			t.Fatal(err)
		}
		sleepPastTTL(revokedAt)
		_, err = server.Authenticate(ctx, other)
		mustCode(t, err, retention.CodeUnauthenticated)

		// Unknown tokens are read every time, so a token created
		// elsewhere works at once.
		unknown, _, _ := retention.NewTokenSecret()
		for range 2 {
			counter.n.Store(0)
			_, err = server.Authenticate(ctx, unknown)
			mustCode(t, err, retention.CodeUnauthenticated)
			if counter.n.Load() == 0 {
				t.Fatal("an unknown token was answered from the cache")
			}
		}
		fresh, _, err := cli.CreateToken(ctx, "fresh", retention.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		if a, err := server.Authenticate(ctx, fresh); err != nil || a.Name != "fresh" {
			t.Fatalf("a token created elsewhere: %+v %v", a, err)
		}
	})
}
