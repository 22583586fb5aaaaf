package graph_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/lethe-privacy/lethe/retention"
)

// mustToken creates an API token with the role and returns its secret.
func mustToken(tb testing.TB, svc *retention.Service, name string, role retention.Role) string {
	tb.Helper()
	secret, _, err := svc.CreateToken(context.Background(), name, role)
	if err != nil {
		tb.Fatalf("create token %s: %v", name, err)
	}
	return secret
}

// quiet drops log records: tests that read the log make their own logger.
var quiet = slog.New(slog.DiscardHandler)
