package statsdb_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/statdb/statsdb"
)

func backends(t *testing.T, fn func(t *testing.T, st *statsdb.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := statsdb.Open(context.Background(), t.TempDir(), "")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		fn(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("LETHE_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("set LETHE_TEST_POSTGRES_DSN (e.g. postgres://user:pw@localhost:5432/lethe_test) to test the PostgreSQL path")
		}
		st, err := statsdb.Open(context.Background(), t.TempDir(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		fn(t, st)
	})
}

func TestRecordAnonymiseDelete(t *testing.T) {
	backends(t, func(t *testing.T, st *statsdb.Store) {
		ctx := context.Background()
		id := "cust-" + time.Now().Format("150405.000000000")
		now := time.Now().UTC().Truncate(time.Millisecond)
		rec := sdk.VisitRecord{VisitID: id + "-v1", CustomerID: id, Branch: "Main St", Service: "Passports",
			StartedAt: now.Add(-time.Hour), EndedAt: now,
			CustomFields: map[string]string{"custom1": "AB-123", "custom3": "licence X", statsdb.VisitorNameKey: "Ada Lovelace"}}
		for range 2 { // a repeated visit id is stored once
			if err := st.Record(ctx, []statsdb.Visit{statsdb.FromRecord(rec)}); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := st.ByCustomers(ctx, []string{id})
		if len(got[id]) != 1 || got[id][0].VisitorName != "Ada Lovelace" || got[id][0].Custom["custom3"] != "licence X" || !got[id][0].EndedAt.Equal(now) {
			t.Fatalf("recorded: %+v", got[id])
		}
		res, err := st.Anonymise(ctx, []sdk.Action{{ID: id + "-a", Subject: sdk.Subject{CustomerID: id}}})
		if err != nil || res[0].Outcome != sdk.OutcomeAnonymised || res[0].Records != 1 {
			t.Fatalf("anonymise: %+v %v", res, err)
		}
		got, _ = st.ByCustomers(ctx, []string{id})
		if v := got[id][0]; v.VisitorName != "" || len(v.Custom) != 0 || v.Branch != "Main St" || !v.Anonymised {
			t.Fatalf("after anonymise: %+v", v)
		}
		res, err = st.Delete(ctx, []sdk.Action{{ID: id + "-d", Subject: sdk.Subject{CustomerID: id}}})
		if err != nil || res[0].Outcome != sdk.OutcomeDeleted {
			t.Fatalf("delete: %+v %v", res, err)
		}
		if got, _ := st.ByCustomers(ctx, []string{id}); len(got[id]) != 0 {
			t.Fatalf("visits left after delete: %+v", got[id])
		}
	})
}
