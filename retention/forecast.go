package retention

import (
	"context"
	"time"
)

// Week is the bucket of a forecast.
const Week = 7 * Day

// Forecast bounds: a year by default, two at most — the counts come from
// the stored deletion times, so a longer horizon would only repeat that
// nothing is scheduled yet for customers whose events lie ahead.
const (
	DefaultForecastWeeks = 52
	MaxForecastWeeks     = 104
)

// Forecast counts the customers Lethe will relinquish in each coming week,
// by rule, as the stored deletion times stand: what a sweep each week would
// do if nothing changed meanwhile. A customer under a legal hold counts in
// the week its hold ends (never, for a hold without end).
type Forecast struct {
	// From is the start of the first week.
	From time.Time
	// Overdue were due before From and wait for the next sweep.
	Overdue ForecastCount
	// Weeks holds one entry per week from From, empty weeks included.
	Weeks []ForecastWeek
}

// ForecastCount splits customers by what relinquishing does to them.
type ForecastCount struct {
	// Erase counts customers erased because their retention policy expires.
	Erase int
	// Anonymise counts CANCELLED or DELETED customers the data policy
	// anonymises first.
	Anonymise int
}

// ForecastWeek is one week of a forecast.
type ForecastWeek struct {
	Start time.Time
	ForecastCount
}

// ForecastReader counts stored deletion times; Store and Tx implement it,
// so a preview can forecast with proposed settings inside its transaction.
type ForecastReader interface {
	// Forecast counts, per week from from and per rule, the customers whose
	// deletion time (or, under a hold, the hold's end if later) falls in
	// each of weeks weeks, and those already overdue.
	Forecast(ctx context.Context, from time.Time, weeks int) (Forecast, error)
}

// ValidateForecastWeeks checks the horizon asked for. Errors: BAD_USER_INPUT.
func ValidateForecastWeeks(weeks int) error {
	if weeks < 1 || weeks > MaxForecastWeeks {
		return FieldErrorf("weeks", "weeks must be between 1 and %d, not %d", MaxForecastWeeks, weeks)
	}
	return nil
}

// Forecast counts, per week from now and per rule, the customers Lethe will
// relinquish. weeks: 1 to MaxForecastWeeks, default DefaultForecastWeeks.
// Errors: BAD_USER_INPUT.
func (s *Service) Forecast(ctx context.Context, weeks *int) (Forecast, error) {
	n := DefaultForecastWeeks
	if weeks != nil {
		n = *weeks
	}
	if err := ValidateForecastWeeks(n); err != nil {
		return Forecast{}, err
	}
	return s.store.Forecast(ctx, s.Now(), n)
}
