package retention

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DuePosition is where a walk through the due customers stands: a keyset
// over (group, region, latest event end, id). Region 0 of a group is the
// customers past its erase cut-off; region 1 those after it whom only the
// data policy makes due. The two never overlap, and in latest-end order
// region 1 follows region 0, so the walk is ordered by (group, latest end,
// id) throughout.
type DuePosition struct {
	Group  int
	Region int
	After  *AnchorCursor
}

// DueWalker pages through the customers due at cut.At that a sweep would
// plan: not under a hold at T, without an open journal entry.
type DueWalker struct {
	r   RangeReader
	cut Cutoffs
	Pos DuePosition
}

// NewDueWalker starts a walk at pos.
func NewDueWalker(r RangeReader, cut Cutoffs, pos DuePosition) *DueWalker {
	return &DueWalker{r: r, cut: cut, Pos: pos}
}

// rangeOf is a region of a group as a range, or false when it is empty.
func (w *DueWalker) rangeOf(group, region int) (AnchorRange, bool) {
	g := w.cut.Groups[group]
	if region == 0 {
		return AnchorRange{Group: g.Group, EndedBy: &g.EndedBy}, true
	}
	d := w.cut.Anonymise
	if d == nil || !d.EndedBy.After(g.EndedBy) {
		return AnchorRange{}, false
	}
	return AnchorRange{Group: g.Group, EndedAfter: &g.EndedBy, EndedBy: &d.EndedBy, Statuses: d.Statuses,
		ChangedBy: &d.ChangedBy, Missing: d.Required}, true
}

// Next returns the next page of at most limit due customers, and the
// position after it; an empty page means the walk is over.
func (w *DueWalker) Next(ctx context.Context, limit int) ([]*Customer, error) {
	for w.Pos.Group < len(w.cut.Groups) {
		q, ok := w.rangeOf(w.Pos.Group, w.Pos.Region)
		if ok {
			page, err := w.r.CustomersInRange(ctx, q, DueFilter{NotHeldAt: w.cut.At, NoOpenEntry: true}, w.Pos.After, limit)
			if err != nil {
				return nil, err
			}
			if len(page) > 0 {
				last := page[len(page)-1]
				w.Pos.After = &AnchorCursor{LatestEnd: last.Timeline.LatestEnd, ID: last.ID}
				return page, nil
			}
		}
		w.Pos.After = nil
		if w.Pos.Region == 0 {
			w.Pos.Region = 1
		} else {
			w.Pos.Group, w.Pos.Region = w.Pos.Group+1, 0
		}
	}
	return nil, nil
}

// encodePlanCursor makes an opaque page cursor of a position and a number of
// actions of the customer at After already returned.
func EncodePlanCursor(pos DuePosition, skip int) string {
	s := fmt.Sprintf("%d|%d|%d", pos.Group, pos.Region, skip)
	if pos.After != nil {
		s += fmt.Sprintf("|%d|%s", pos.After.LatestEnd.UnixMicro(), pos.After.ID)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func DecodePlanCursor(c string) (DuePosition, int, error) {
	bad := FieldErrorf("after", "after is not a cursor of this plan")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return DuePosition{}, 0, bad
	}
	parts := strings.SplitN(string(b), "|", 5)
	if len(parts) != 3 && len(parts) != 5 {
		return DuePosition{}, 0, bad
	}
	var n [4]int64
	for i := 0; i < len(parts) && i < 4; i++ {
		if n[i], err = strconv.ParseInt(parts[i], 10, 64); err != nil || (n[i] < 0 && i != 3 && !(i == 0 && n[i] == -1)) {
			return DuePosition{}, 0, bad
		}
	}
	pos := DuePosition{Group: int(n[0]), Region: int(n[1])}
	if len(parts) == 5 {
		pos.After = &AnchorCursor{LatestEnd: time.UnixMicro(n[3]).UTC(), ID: parts[4]}
	}
	return pos, int(n[2]), nil
}
