package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// BenchmarkForecast counts a year of weekly deletion times over 1,000,000
// customers (SQLite), as retentionForecast does (range counts of the
// anchors, the data policy on), against a baseline in the same run: the
// same weekly counts grouped from a scan of the table. `make bench` runs
// it; compare the two ns/op.
func BenchmarkForecast(b *testing.B) {
	const customers = 1_000_000
	ctx := context.Background()
	s := storetest.MustOpenSQLite(b)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	seedForecast(b, s, now, customers)
	ps, err := s.Policies(ctx)
	if err != nil {
		b.Fatal(err)
	}
	policies := retention.NewPolicySet(ps)
	dp := retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 5, AnonymiseCustomerData: true}
	b.Run("index-range-counts", func(b *testing.B) {
		for b.Loop() {
			f, err := retention.ForecastUnder(ctx, s, policies, dp, now, retention.DefaultForecastWeeks)
			if err != nil || f.Overdue.Erase+f.Overdue.Anonymise == 0 {
				b.Fatalf("forecast %+v %v", f.Overdue, err)
			}
		}
	})
	b.Run("baseline-table-scan", func(b *testing.B) {
		start, week, day := now.UnixMicro(), int64(retention.Week/time.Microsecond), int64(retention.Day/time.Microsecond)
		end := start + 52*week
		for b.Loop() {
			var n int
			err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM (SELECT (latest_event_end + 30 * ? - ?) / ? AS bucket, status <> 'ACTIVE' AS anon
				FROM customers NOT INDEXED WHERE erased_at IS NULL AND open_visits = 0 AND latest_event_end + 30 * ? < ? GROUP BY 1, 2)`,
				day, start, week, day, end).Scan(&n)
			if err != nil || n == 0 {
				b.Fatalf("baseline %d %v", n, err)
			}
		}
	})
}

// seedForecast writes n customers straight into the table: latest events
// spread over 14 months from 60 days ago, one in eight cancelled 25 days
// before its latest event (anonymised first under a 5-day data policy).
func seedForecast(b *testing.B, s *store.Store, now time.Time, n int) {
	b.Helper()
	day := int64(24 * time.Hour / time.Microsecond)
	from := now.UnixMicro() - 60*day
	_, err := s.DB().ExecContext(context.Background(), `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO customers (id, status, status_changed_at, created_at, touched_at, latest_event_end, latest_event_kind, policy_group)
		SELECT printf('cus_%08d', i), CASE WHEN i % 8 = 0 THEN 'CANCELLED' ELSE 'ACTIVE' END,
			CASE WHEN i % 8 = 0 THEN ? + (i * 7919 % 420) * ? - 25 * ? END, ?, ?,
			? + (i * 7919 % 420) * ?, 'created', '@none'
		FROM seq`, n, from, day, day, from, from, from, day)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().ExecContext(context.Background(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}
