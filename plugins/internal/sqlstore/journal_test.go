package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// TestActionJournal runs a batch through the SDK's action-id journal on a
// real SQLite file (and PostgreSQL when LETHE_TEST_POSTGRES_DSN is set):
// a repeated id gets its first result back without the work being done
// again; a failed result is not journaled, so its retry does the work.
func TestActionJournal(t *testing.T) {
	ctx := context.Background()
	dsns := []string{""}
	if dsn := os.Getenv("LETHE_TEST_POSTGRES_DSN"); dsn != "" {
		dsns = append(dsns, dsn)
	}
	for _, dsn := range dsns {
		table := fmt.Sprintf("journal_test_%d", os.Getpid())
		db, err := Open(ctx, t.TempDir(), dsn, "test.db", []string{JournalSchema(table), "DELETE FROM " + table})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		defer db.ExecContext(ctx, "DROP TABLE "+table) //nolint:errcheck // a shared PostgreSQL keeps no test table
		calls := map[string]int{}
		do := func(_ context.Context, _ *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error) {
			out := make([]sdk.ActionResult, len(todo))
			for i, a := range todo {
				calls[a.ID]++
				out[i] = sdk.ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: sdk.OutcomeDeleted, Records: 3}
				if a.ID == "fails" && calls[a.ID] == 1 {
					out[i] = sdk.ActionResult{ActionID: a.ID, Outcome: sdk.OutcomeFailed, Reason: "store busy"}
				}
			}
			return out, nil
		}
		acts := []sdk.Action{{ID: "a", Subject: sdk.Subject{CustomerID: "c1"}}, {ID: "fails", Subject: sdk.Subject{CustomerID: "c2"}}}
		for round := 1; round <= 3; round++ {
			res, err := db.Apply(ctx, table, "delete", acts, do)
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Outcome != sdk.OutcomeDeleted || res[0].Records != 3 || res[0].CustomerID != "c1" {
				t.Errorf("round %d: %+v", round, res[0])
			}
			if want := map[bool]sdk.Outcome{true: sdk.OutcomeFailed, false: sdk.OutcomeDeleted}[round == 1]; res[1].Outcome != want {
				t.Errorf("round %d: the failing action answered %s, want %s", round, res[1].Outcome, want)
			}
		}
		if calls["a"] != 1 || calls["fails"] != 2 {
			t.Errorf("work done %v times: a repeated id must be done once, a failed one again", calls)
		}
	}
}
