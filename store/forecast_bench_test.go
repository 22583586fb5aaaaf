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
// customers (SQLite), as retentionForecast does, against a baseline in the
// same run: the same weekly counts grouped from a scan of the table. `make
// bench` runs it; compare the two ns/op.
func BenchmarkForecast(b *testing.B) {
	const customers = 1_000_000
	ctx := context.Background()
	s := storetest.MustOpenSQLite(b)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	seedForecast(b, s, now, customers)
	b.Run("index-range-counts", func(b *testing.B) {
		for b.Loop() {
			f, err := s.Forecast(ctx, now, retention.DefaultForecastWeeks)
			if err != nil || f.Overdue.Erase+f.Overdue.Anonymise == 0 {
				b.Fatalf("forecast %+v %v", f.Overdue, err)
			}
		}
	})
	b.Run("baseline-table-scan", func(b *testing.B) {
		start, week := now.UnixMicro(), int64(retention.Week/time.Microsecond)
		end := start + 52*week
		for b.Loop() {
			var n int
			err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM (SELECT (deletion_time - ?) / ? AS bucket, anonymise_at < erase_at AS anon
				FROM customers NOT INDEXED WHERE deletion_time IS NOT NULL AND deletion_time < ? GROUP BY 1, 2)`, start, week, end).Scan(&n)
			if err != nil || n == 0 {
				b.Fatalf("baseline %d %v", n, err)
			}
		}
	})
}

// seedForecast writes n customers straight into the table: deletion times
// spread over 14 months from a month ago, one in eight anonymised first.
func seedForecast(b *testing.B, s *store.Store, now time.Time, n int) {
	b.Helper()
	day := int64(24 * time.Hour / time.Microsecond)
	from := now.UnixMicro() - 30*day
	_, err := s.DB().ExecContext(context.Background(), `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO customers (id, status, created_at, touched_at, latest_event_end, latest_event_kind, erase_at, anonymise_at, deletion_time)
		SELECT printf('cus_%08d', i), CASE WHEN i % 8 = 0 THEN 'CANCELLED' ELSE 'ACTIVE' END, ?, ?, ?, 'created',
			? + (i * 7919 % 420) * ?, CASE WHEN i % 8 = 0 THEN ? + (i * 7919 % 420) * ? - 5 * ? END,
			CASE WHEN i % 8 = 0 THEN ? + (i * 7919 % 420) * ? - 5 * ? ELSE ? + (i * 7919 % 420) * ? END
		FROM seq`, n, from, from, from, from, day, from, day, day, from, day, day, from, day)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().ExecContext(context.Background(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}
