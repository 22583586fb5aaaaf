package sdk_test

import (
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

func TestBoundIdleTransactions(t *testing.T) {
	set := map[string]string{sdk.SettingIdleTxTimeout: "1500ms"}
	for dsn, want := range map[string]string{
		"":                                       "",
		"postgres://u@h:5432/db?sslmode=disable": "postgres://u@h:5432/db?idle_in_transaction_session_timeout=1500&sslmode=disable",
		"host=h dbname=db":                       "host=h dbname=db idle_in_transaction_session_timeout=1500",
		"postgres://h/db?idle_in_transaction_session_timeout=9": "postgres://h/db?idle_in_transaction_session_timeout=9",
	} {
		if got := sdk.BoundIdleTransactions(dsn, set); got != want {
			t.Errorf("%q: %q, want %q", dsn, got, want)
		}
	}
	if got := sdk.IdleTxTimeout(nil); got != sdk.DefaultIdleTxTimeout {
		t.Errorf("no setting: %v", got)
	}
	if got := sdk.IdleTxTimeout(map[string]string{sdk.SettingIdleTxTimeout: "nonsense"}); got != sdk.DefaultIdleTxTimeout {
		t.Errorf("a bad setting: %v", got)
	}
	if got := sdk.IdleTxTimeout(map[string]string{sdk.SettingIdleTxTimeout: "2s"}); got != 2*time.Second {
		t.Errorf("2s: %v", got)
	}
}
