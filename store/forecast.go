package store

import (
	"context"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// forecastQuery buckets the stored deletion times per week and rule in one
// pass over the customers_forecast index, which covers every column read.
// A hold that ends after the deletion time moves the customer to the hold's
// end. Erased customers have no deletion time, so they never appear. The
// rule is the one retention.ComputeSchedule stores: anonymise only when its
// time comes strictly before the erase time.
const forecastQuery = `SELECT CASE WHEN t < ? THEN -1 ELSE (t - ?) / ? END AS bucket, anon, count(*) AS n FROM (
	SELECT CASE WHEN held_until IS NOT NULL AND held_until > deletion_time THEN held_until ELSE deletion_time END AS t,
		CASE WHEN anonymise_at IS NOT NULL AND anonymise_at = deletion_time AND (erase_at IS NULL OR anonymise_at < erase_at) THEN 1 ELSE 0 END AS anon
	FROM customers WHERE deletion_time IS NOT NULL AND deletion_time < ?
) due WHERE t < ? GROUP BY 1, 2`

func (q *queries) Forecast(ctx context.Context, from time.Time, weeks int) (retention.Forecast, error) {
	f := retention.Forecast{From: from.UTC(), Weeks: make([]retention.ForecastWeek, weeks)}
	for i := range f.Weeks {
		f.Weeks[i].Start = f.From.Add(time.Duration(i) * retention.Week)
	}
	start := toMicros(from)
	week := int64(retention.Week / time.Microsecond)
	end := start + int64(weeks)*week
	rows, err := q.idb.QueryContext(ctx, forecastQuery, start, start, week, end, end)
	if err != nil {
		return retention.Forecast{}, internal("forecast", err)
	}
	defer rows.Close()
	for rows.Next() {
		var bucket, anon, n int64
		if err := rows.Scan(&bucket, &anon, &n); err != nil {
			return retention.Forecast{}, internal("forecast", err)
		}
		count := &f.Overdue
		if bucket >= 0 && bucket < int64(weeks) {
			count = &f.Weeks[bucket].ForecastCount
		}
		if anon == 1 {
			count.Anonymise += int(n)
		} else {
			count.Erase += int(n)
		}
	}
	return f, internal("forecast", rows.Err())
}

// ExplainForecast returns the database's plan for the forecast query, to
// show that it reads the covering index only.
func (s *Store) ExplainForecast(ctx context.Context) (string, error) {
	return s.explain(ctx, forecastQuery, 0, 0, 1, 1, 1)
}
