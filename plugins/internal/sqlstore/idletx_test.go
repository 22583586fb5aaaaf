package sqlstore

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// TestIdleTransactionIsEnded opens a plugin's PostgreSQL database as the
// built-in plugins do (the DSN bounded by sdk.BoundIdleTransactions with
// the setting Lethe passes): a transaction left idle past the bound (a
// plugin frozen with its host) is ended by the server, its locks with it.
func TestIdleTransactionIsEnded(t *testing.T) {
	dsn := os.Getenv("LETHE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set LETHE_TEST_POSTGRES_DSN to test the PostgreSQL session bound")
	}
	ctx := context.Background()
	db, err := Open(ctx, "", sdk.BoundIdleTransactions(dsn, map[string]string{sdk.SettingIdleTxTimeout: "500ms"}), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var setting string
	if err := db.QueryRowContext(ctx, "SHOW idle_in_transaction_session_timeout").Scan(&setting); err != nil || setting != "500ms" {
		t.Fatalf("idle_in_transaction_session_timeout = %q (%v), want 500ms", setting, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // idle inside the transaction, past the bound
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Fatal("a transaction idle past the bound still runs statements")
	}
	tx.Rollback() //nolint:errcheck // the server ended it
}
