package retention

import (
	"context"
	"time"
)

// RangeReader answers the rules' bounds with index range scans and range
// counts (see cutoffs.go); Store and Tx implement it.
type RangeReader interface {
	// CountRanges counts the customers of each range by relinquished mask,
	// all in one statement.
	CountRanges(ctx context.Context, ranges []AnchorRange) ([]MaskCounts, error)
	// HistogramRanges counts the customers of each range by bucket of
	// their latest event end: bucket k holds ends in [Origin + k·Width,
	// Origin + (k+1)·Width); a range must bound the ends from below by
	// Origin. All in one statement.
	HistogramRanges(ctx context.Context, hs []Histogram) ([]map[int]int, error)
	// CustomersInRange pages through a range in (latest event end, id)
	// order, narrowed by f.
	CustomersInRange(ctx context.Context, r AnchorRange, f DueFilter, after *AnchorCursor, limit int) ([]*Customer, error)
	// CountAnonymiseFirst counts the customers of a range whom a data
	// policy anonymises before their retention policy erases them, by week
	// of each time (see AnonymiseFirst), in one statement and without
	// reading a table row.
	CountAnonymiseFirst(ctx context.Context, q AnonymiseFirst) (map[WeekPair]int, error)
	// DueExceptions lists the customers neither erased nor with an open
	// visit that a range counts but a sweep would not plan from it: those
	// under a legal hold after t (held_until > t) and those with an open
	// journal entry. They are few: holds, and entries waiting for a retry.
	DueExceptions(ctx context.Context, t time.Time) ([]*Customer, error)
}

// Histogram is a range counted by bucket of latest event end.
type Histogram struct {
	Range  AnchorRange
	Origin time.Time
	Width  time.Duration
}

// AnonymiseFirst asks, for the customers of Range (which bounds their
// status and status change), when each is erased (latest event end +
// Erase) and anonymised (status change + Anonymise, not before the latest
// event end), and counts those anonymised strictly earlier by the bucket of
// each time: -1 before From, k for [From + k·Width, From + (k+1)·Width)
// with k < Buckets, Buckets from there on.
type AnonymiseFirst struct {
	Range     AnchorRange
	Erase     time.Duration
	Anonymise time.Duration
	From      time.Time
	Width     time.Duration
	Buckets   int
}

// WeekPair is a customer's bucket of erasure and of anonymisation.
type WeekPair struct{ Erase, Anonymise int }

// ChangeTally compares who is due at one instant under the rules in force
// (Before) and under proposed ones (After).
type ChangeTally struct {
	// Both are due under either rules; OnlyBefore stop being due with the
	// change (removedByChange), OnlyAfter become due with it
	// (addedByChange).
	Both, OnlyBefore, OnlyAfter int
	// AfterErase and AfterAnonymise split those due under After by action;
	// the anonymised by relinquished mask, which decides their actions.
	AfterErase     int
	AfterAnonymise MaskCounts
}

// DueAfter is how many are due under the proposed rules.
func (t ChangeTally) DueAfter() int { return t.Both + t.OnlyAfter }

// tallyChange counts, with range counts only, who is due at before.At under
// both rule sets (before.At must equal after.At). Per group, the latest
// event end splits the customers into three ranges: up to the lower erase
// cut-off (erased under both), between the two cut-offs (erased under one,
// anonymised under the other only if its data policy says so), and after
// both up to T (only the data policies can make them due). The few
// customers a range counts but a sweep would not plan (holds, open journal
// entries) are taken out one by one, by ComputeSchedule.
func TallyChange(ctx context.Context, r RangeReader, before, after Cutoffs) (ChangeTally, error) {
	t := ChangeTally{AfterAnonymise: MaskCounts{}}
	var ranges []AnchorRange
	type apply func(counts []MaskCounts)
	var steps []apply
	ask := func(rs ...AnchorRange) int {
		ranges = append(ranges, rs...)
		return len(ranges) - len(rs)
	}
	for _, gb := range before.Groups {
		ga, ok := after.Group(gb.Group)
		if !ok {
			continue
		}
		steps = append(steps, tallyGroup(&t, gb, ga, before.Anonymise, after.Anonymise, ask))
	}
	counts, err := r.CountRanges(ctx, ranges)
	if err != nil {
		return ChangeTally{}, err
	}
	for _, s := range steps {
		s(counts)
	}
	return t, t.subtractExceptions(ctx, r, before, after)
}

// tallyGroup asks for one group's ranges and returns how to add their
// counts to t.
func tallyGroup(t *ChangeTally, gb, ga GroupCut, db, da *DataCut, ask func(...AnchorRange) int) func([]MaskCounts) {
	afterWider := ga.EndedBy.After(gb.EndedBy)
	lo, hi, narrow := ga.EndedBy, gb.EndedBy, da
	if afterWider {
		lo, hi, narrow = gb.EndedBy, ga.EndedBy, db
	}
	group := gb.Group
	all := ask(AnchorRange{Group: group, EndedBy: &lo})
	between, betweenData := -1, -1
	if hi.After(lo) {
		between = ask(AnchorRange{Group: group, EndedAfter: &lo, EndedBy: &hi})
		if narrow != nil {
			betweenData = ask(dataRange(group, lo, hi, narrow.Statuses, narrow.ChangedBy))
		}
	}
	tail := askTail(group, hi, db, da, ask)
	return func(c []MaskCounts) {
		n := c[all].Total()
		t.Both += n
		t.AfterErase += n
		if between >= 0 {
			n := c[between].Total()
			due := MaskCounts{}
			if betweenData >= 0 {
				for mask, v := range c[betweenData] {
					if narrow.Misses(mask) {
						due[mask] = v
					}
				}
			}
			t.Both += due.Total()
			if afterWider {
				t.OnlyAfter += n - due.Total()
				t.AfterErase += n
			} else {
				t.OnlyBefore += n - due.Total()
				for mask, v := range due {
					t.AfterAnonymise[mask] += v
				}
			}
		}
		tail(t, c)
	}
}

// dataRange is a data cut's customers of a group whose latest event ended
// in (after, by].
func dataRange(group string, after, by time.Time, statuses []Status, changedBy time.Time) AnchorRange {
	return AnchorRange{Group: group, EndedAfter: &after, EndedBy: &by, Statuses: statuses, ChangedBy: &changedBy}
}

// askTail asks for the customers of a group past both erase cut-offs (hi)
// up to T, whom only a data policy can make due, and returns how to add
// them: counted once under the tighter status bound (both sides' bounds
// hold) and once under the looser one (only the looser side's holds), each
// side then filtering by its categories.
func askTail(group string, hi time.Time, db, da *DataCut, ask func(...AnchorRange) int) func(*ChangeTally, []MaskCounts) {
	none := func(*ChangeTally, []MaskCounts) {}
	if db == nil && da == nil {
		return none
	}
	some := db
	if some == nil {
		some = da
	}
	if !some.EndedBy.After(hi) {
		return none
	}
	tight, loose := some.ChangedBy, some.ChangedBy
	looseIsAfter := db == nil
	if db != nil && da != nil {
		tight, loose = minTime(db.ChangedBy, da.ChangedBy), maxTime(db.ChangedBy, da.ChangedBy)
		looseIsAfter = da.ChangedBy.After(db.ChangedBy)
	}
	qt := ask(dataRange(group, hi, some.EndedBy, some.Statuses, tight))
	ql := -1
	if loose.After(tight) {
		ql = ask(dataRange(group, hi, some.EndedBy, some.Statuses, loose))
	}
	return func(t *ChangeTally, c []MaskCounts) {
		add := func(mask, v int, b, a bool) {
			switch {
			case b && a:
				t.Both += v
			case b:
				t.OnlyBefore += v
			case a:
				t.OnlyAfter += v
			}
			if a {
				t.AfterAnonymise[mask] += v
			}
		}
		for mask, v := range c[qt] {
			add(mask, v, db.Misses(mask), da.Misses(mask))
		}
		if ql < 0 {
			return
		}
		for mask, v := range c[ql] {
			v -= c[qt][mask]
			if looseIsAfter {
				add(mask, v, false, da.Misses(mask))
			} else {
				add(mask, v, db.Misses(mask), false)
			}
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// subtractExceptions takes out the customers the ranges counted that a
// sweep would not plan from them (held at T, or with an open journal
// entry), each classified by ComputeSchedule under both rule sets.
func (t *ChangeTally) subtractExceptions(ctx context.Context, r RangeReader, before, after Cutoffs) error {
	exceptions, err := r.DueExceptions(ctx, before.At)
	if err != nil {
		return err
	}
	for _, c := range exceptions {
		_, b := dueIgnoringHold(c, before.Policies, before.Data, before.At)
		kind, a := dueIgnoringHold(c, after.Policies, after.Data, after.At)
		switch {
		case b && a:
			t.Both--
		case b:
			t.OnlyBefore--
		case a:
			t.OnlyAfter--
		}
		switch {
		case a && kind == ActionErase:
			t.AfterErase--
		case a:
			t.AfterAnonymise[CategoryMask(c.Relinquished)]--
		}
	}
	return nil
}
