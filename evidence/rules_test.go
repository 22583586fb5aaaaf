package evidence_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/evidence"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// declared is a connector registry that only lists what connectors declare
// (Describe): the retention table reads nothing else of them. The real
// plugins are listed in the console's evidence browser test.
type declared []retention.ConnectorStatus

func (d declared) Connectors(context.Context) []retention.ConnectorStatus { return d }
func (d declared) Connector(context.Context, string) (retention.Connector, error) {
	return nil, retention.Errorf(retention.CodeNotFound, "not a real connector")
}

func conn(name string, cats ...string) retention.ConnectorStatus {
	return retention.ConnectorStatus{Info: retention.ConnectorInfo{Name: name, Version: "1.0", Categories: cats}, Healthy: true}
}

// TestRetentionTable checks the Art. 30(1)(f) table of the pack against
// three configurations of policies, data policy and connectors, set
// through the service on a real store: every category an erasure reaches,
// who holds it, the policies' days, and what the data policy relinquishes
// early and after how long. It also checks that a change made during the
// period shows its old value at the start.
func TestRetentionTable(t *testing.T) {
	type want struct {
		heldBy  map[string]string // category → holders
		days    []string          // in the erasure text
		earlier map[string]string // category → part of the early rule ("" none)
	}
	for _, c := range []struct {
		name  string
		setup func(ctx context.Context, svc *retention.Service) error
		conns declared
		want  want
	}{
		{"defaults", func(context.Context, *retention.Service) error { return nil }, declared{conn("cdrstore", "cdr")},
			want{map[string]string{"cdr": "cdrstore", "contact": "Lethe", "custom_fields": "Lethe", "invoice": "", "visit_stats": ""},
				[]string{"default 30 days", "visit_days 30 days", "appointment_days 90 days", "direct 0 days"},
				map[string]string{"cdr": "", "contact": "", "invoice": ""}}},
		{"anonymise after 45 days", func(ctx context.Context, svc *retention.Service) error {
			days := 60
			if _, err := svc.UpdatePolicy(ctx, "visit_days", &days, nil); err != nil {
				return err
			}
			_, err := svc.UpdateDataPolicy(ctx, retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 45, AnonymiseCustomerData: true})
			return err
		}, declared{conn("invoicestore", "invoice", "contact"), conn("statdb", "visit_stats")},
			want{map[string]string{"cdr": "", "contact": "Lethe invoicestore", "invoice": "invoicestore", "visit_stats": "statdb"},
				[]string{"visit_days 60 days", "default 30 days"},
				map[string]string{"contact": "anonymised (names, phones, emails removed) 45 days", "invoice": "replaced by blank PDFs 45 days",
					"custom_fields": "dropped 45 days", "cdr": "", "visit_stats": ""}}},
		{"remove CDRs, a custom policy and category", func(ctx context.Context, svc *retention.Service) error {
			if _, err := svc.CreatePolicy(ctx, "contracts", 3650, "kept for ten years"); err != nil {
				return err
			}
			_, err := svc.UpdateDataPolicy(ctx, retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 7, RemoveCDRs: true})
			return err
		}, declared{conn("cdrstore", "cdr"), conn("newsletter", "newsletter", "contact")},
			want{map[string]string{"cdr": "cdrstore", "newsletter": "newsletter", "contact": "Lethe newsletter"},
				[]string{"contracts 3650 days", "default 30 days"},
				map[string]string{"cdr": "deleted 7 days", "contact": "", "newsletter": "", "invoice": ""}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.MustOpenSQLite(t)
			svc := retention.NewService(s)
			start := time.Now().Add(-time.Second)
			if err := c.setup(ctx, svc); err != nil {
				t.Fatal(err)
			}
			pack, err := evidence.Build(ctx, evidence.Sources{Service: svc, Connectors: c.conns, Chain: s}, start, time.Now().Add(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			rows := map[string]evidence.RetentionRow{}
			for _, r := range pack.RetentionTable {
				rows[r.Category] = r
			}
			for cat, holders := range c.want.heldBy {
				r, ok := rows[cat]
				if !ok || strings.Join(r.HeldBy, " ") != holders {
					t.Errorf("%s held by %q, want %q (%v)", cat, r.HeldBy, holders, ok)
				}
				for _, d := range c.want.days {
					if !strings.Contains(r.Erasure, d) {
						t.Errorf("%s erasure %q lacks %q", cat, r.Erasure, d)
					}
				}
			}
			for cat, early := range c.want.earlier {
				if got := rows[cat].Earlier; (early == "") != (got == "") || !strings.Contains(got, early) {
					t.Errorf("%s earlier %q, want %q", cat, got, early)
				}
			}
			if len(rows) != len(retention.EraseCategories(slices.Collect(func(yield func([]string) bool) {
				for _, cs := range c.conns {
					yield(cs.Info.Categories)
				}
			})...)) {
				t.Errorf("table rows %v", rows)
			}
			// Changes made in the period: the start shows the old values.
			if c.name == "anonymise after 45 days" {
				if pack.DataPolicyAtStart.RelinquishDeletedData || pack.DataPolicyAtStart.RelinquishAfterDays != 90 || pack.PoliciesAtStart[3].Days != 30 ||
					pack.PoliciesAtEnd[3].Days != 60 || len(pack.PolicyChanges) != 1 || len(pack.DataPolicyChanges) != 1 {
					t.Errorf("rewound: %+v %+v %+v", pack.DataPolicyAtStart, pack.PoliciesAtStart, pack.PolicyChanges)
				}
			}
		})
	}
}
