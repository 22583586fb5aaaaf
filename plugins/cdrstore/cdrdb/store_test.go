package cdrdb_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/cdrstore/cdrdb"
)

// backends runs fn on SQLite, and on PostgreSQL when a DSN is given.
func backends(t *testing.T, fn func(t *testing.T, st *cdrdb.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := cdrdb.Open(context.Background(), t.TempDir(), "")
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
		st, err := cdrdb.Open(context.Background(), t.TempDir(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		fn(t, st)
	})
}

func TestSeedAnonymiseDelete(t *testing.T) {
	backends(t, func(t *testing.T, st *cdrdb.Store) {
		ctx := context.Background()
		id := "cust-" + time.Now().Format("150405.000000000")
		seed := []cdrdb.SeedCustomer{{ID: id, Phone: "+4930111222333", Count: 25}}
		for range 2 { // seeding twice adds nothing
			if err := cdrdb.Seed(ctx, st, seed, 3, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.ByCustomers(ctx, []string{id})
		if err != nil || len(got[id]) != 25 {
			t.Fatalf("seeded %d records (%v), want 25", len(got[id]), err)
		}

		res, err := st.Anonymise(ctx, []sdk.Action{{ID: id + "-a", Subject: sdk.Subject{CustomerID: id}}})
		if err != nil || res[0].Outcome != sdk.OutcomeAnonymised || res[0].Records != 25 {
			t.Fatalf("anonymise: %+v %v", res, err)
		}
		got, _ = st.ByCustomers(ctx, []string{id})
		for _, c := range got[id] {
			if strings.Contains(c.Caller, "111222333") || c.Caller != cdrdb.Mask("+4930111222333") || !c.Anonymised {
				t.Fatalf("record not masked: %+v", c)
			}
		}

		// A category the store does not hold touches nothing.
		res, _ = st.Delete(ctx, []sdk.Action{{ID: id + "-x", Subject: sdk.Subject{CustomerID: id}, Categories: []string{"invoice"}}})
		if res[0].Outcome != sdk.OutcomeNotFound {
			t.Fatalf("delete of another category: %+v", res[0])
		}
		res, err = st.Delete(ctx, []sdk.Action{{ID: id + "-d", Subject: sdk.Subject{CustomerID: id}}})
		if err != nil || res[0].Outcome != sdk.OutcomeDeleted || res[0].Records != 25 {
			t.Fatalf("delete: %+v %v", res, err)
		}
		// The same action id again returns the recorded result.
		res, err = st.Delete(ctx, []sdk.Action{{ID: id + "-d", Subject: sdk.Subject{CustomerID: id}}})
		if err != nil || res[0].Outcome != sdk.OutcomeDeleted || res[0].Records != 25 {
			t.Fatalf("repeated delete: %+v %v", res, err)
		}
		if got, _ := st.ByCustomers(ctx, []string{id}); len(got[id]) != 0 {
			t.Fatalf("%d records left after delete", len(got[id]))
		}
	})
}
