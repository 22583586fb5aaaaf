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
	policies, dp, err := s.ReadRules(ctx)
	if err != nil {
		return Forecast{}, err
	}
	return ForecastUnder(ctx, s.store, NewPolicySet(policies), dp, s.Now(), n)
}

// ForecastUnder counts, per week from from and per rule, the customers the
// rules make due in each of weeks weeks, and those already overdue: range
// counts of the latest event end per policy group (end + days falls in the
// week), corrected for the customers the data policy anonymises first (read
// as anchors from an index: only CANCELLED or DELETED customers still
// missing a category and due within the horizon) and for legal holds that
// outlast the deletion time (moved to the hold's end; never, for a hold
// without end).
func ForecastUnder(ctx context.Context, r RangeReader, policies PolicySet, dp DataPolicy, from time.Time, weeks int) (Forecast, error) {
	f := Forecast{From: from.UTC(), Weeks: make([]ForecastWeek, weeks)}
	for i := range f.Weeks {
		f.Weeks[i].Start = f.From.Add(time.Duration(i) * Week)
	}
	end := f.From.Add(time.Duration(weeks) * Week)
	bucket := func(t time.Time) *ForecastCount {
		switch {
		case t.Before(f.From):
			return &f.Overdue
		case t.Before(end):
			return &f.Weeks[int(t.Sub(f.From)/Week)].ForecastCount
		}
		return nil
	}
	cut := CutoffsAt(policies, dp, f.From)
	if err := forecastErasures(ctx, r, cut, &f); err != nil {
		return Forecast{}, err
	}
	if err := forecastAnonymiseFirst(ctx, r, cut, &f, end); err != nil {
		return Forecast{}, err
	}
	held, err := r.DueExceptions(ctx, f.From)
	if err != nil {
		return Forecast{}, err
	}
	for _, c := range held {
		moveHeld(c, policies, dp, bucket)
	}
	return f, nil
}

// moveHeld moves a customer whose legal hold outlasts its deletion time
// from the week of its deletion time to that of the hold's end.
func moveHeld(c *Customer, policies PolicySet, dp DataPolicy, bucket func(time.Time) *ForecastCount) {
	if c.HeldUntil == nil {
		return
	}
	s := ComputeSchedule(c, policies, dp)
	if s.DeletionTime == nil || !c.HeldUntil.After(*s.DeletionTime) {
		return
	}
	for sign, t := range map[int]time.Time{-1: *s.DeletionTime, 1: *c.HeldUntil} {
		b := bucket(t)
		switch {
		case b == nil:
		case s.Action == ActionAnonymise:
			b.Anonymise += sign
		default:
			b.Erase += sign
		}
	}
}

// forecastErasures counts, per group, the latest event ends whose erase
// time (end + days) falls before From (a range count) and in each week (a
// histogram of the ends from From − days on, by week).
func forecastErasures(ctx context.Context, r RangeReader, cut Cutoffs, f *Forecast) error {
	weeks := len(f.Weeks)
	var overdue []AnchorRange
	var hs []Histogram
	for _, g := range cut.Groups {
		origin := f.From.Add(-time.Duration(g.Policy.RetentionDays) * Day)
		before, last := justBefore(origin), justBefore(origin.Add(time.Duration(weeks)*Week))
		overdue = append(overdue, AnchorRange{Group: g.Group, EndedBy: &before})
		hs = append(hs, Histogram{Range: AnchorRange{Group: g.Group, EndedAfter: &before, EndedBy: &last}, Origin: origin, Width: Week})
	}
	counts, err := r.CountRanges(ctx, overdue)
	if err != nil {
		return err
	}
	for _, c := range counts {
		f.Overdue.Erase += c.Total()
	}
	buckets, err := r.HistogramRanges(ctx, hs)
	if err != nil {
		return err
	}
	for _, b := range buckets {
		for k, n := range b {
			if k >= 0 && k < weeks {
				f.Weeks[k].Erase += n
			}
		}
	}
	return nil
}

// forecastAnonymiseFirst moves the customers the data policy anonymises
// before their retention policy erases them (ComputeSchedule: anonymise
// only when strictly earlier) from their erase week to their anonymise
// week. The store counts them by pair of weeks: a few dozen rows, where
// reading every such customer's anchors took most of a forecast's time.
func forecastAnonymiseFirst(ctx context.Context, r RangeReader, cut Cutoffs, f *Forecast, end time.Time) error {
	d := cut.Anonymise
	if d == nil {
		return nil
	}
	after := time.Duration(cut.Data.RelinquishAfterDays) * Day
	endedBy, changedBy := justBefore(end), justBefore(end.Add(-after))
	week := func(k int) *ForecastCount {
		switch {
		case k < 0:
			return &f.Overdue
		case k < len(f.Weeks):
			return &f.Weeks[k].ForecastCount
		}
		return nil
	}
	for _, g := range cut.Groups {
		q := AnchorRange{Group: g.Group, EndedBy: &endedBy, Statuses: d.Statuses, ChangedBy: &changedBy, Missing: d.Required}
		counts, err := r.CountAnonymiseFirst(ctx, AnonymiseFirst{Range: q, Erase: time.Duration(g.Policy.RetentionDays) * Day,
			Anonymise: after, From: f.From, Width: Week, Buckets: len(f.Weeks)})
		if err != nil {
			return err
		}
		for p, n := range counts {
			if b := week(p.Erase); b != nil {
				b.Erase -= n
			}
			if b := week(p.Anonymise); b != nil {
				b.Anonymise += n
			}
		}
	}
	return nil
}
