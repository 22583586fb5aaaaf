package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/searchkey"
)

// Sorted lists of customers (issue 24), each answered by index ranges:
//
//   - by name: customers_by_name (name_key, id), name_key being the names
//     as search folds them, compared byte by byte on both databases;
//   - by last interaction: customers_by_latest (latest_event_end, id);
//   - by deletion time, which is not stored (docs/rules-as-queries.md):
//     within one policy group and status, a customer's deletion time grows
//     with its latest event end, exactly (end + the group's days) where the
//     data policy cannot act, and between the end and end + days where it
//     can. Each (group, status) is read in that order from customers_due_status
//     and the streams are merged, a customer's exact deletion time coming
//     from retention.DeletionTimeAt (the one definition); a row is given
//     out only when no unread row of any stream can come before it. The
//     customers without a deletion time (a visit open, a legal hold) come
//     last, in id order, from customers_undated.
//
// A search or filter narrows every range; a search whose rarest word has
// few customers is sorted from those candidates.

// maxStreamBatch bounds the rows one read of a stream asks for.
const maxStreamBatch = 128

// nameKeyNone is the name key of a customer without a name: after every
// named one ("1…").
const nameKeyNone = "2"

// nameKey is the sort key of a customer's name: last name, then first name,
// folded as search folds them.
func nameKey(first, last *string) string {
	f, l := "", ""
	if first != nil {
		f = searchkey.Fold(*first)
	}
	if last != nil {
		l = searchkey.Fold(*last)
	}
	if f == "" && l == "" {
		return nameKeyNone
	}
	return "1" + l + "\x01" + f
}

// backfillNameKeys computes the name keys of customers stored before the
// customer_sort migration, in short transactions; it resumes where a
// stopped run left off.
func (s *Store) backfillNameKeys(ctx context.Context) error {
	for {
		var rows []customerRow
		err := s.reads.NewSelect().Model(&rows).Column("id", "first_name", "last_name").
			Where("name_key IS NULL").OrderExpr("id").Limit(1000).Scan(ctx)
		if err != nil {
			return internal("name key backfill", err)
		}
		if len(rows) == 0 {
			return nil
		}
		err = s.Update(ctx, func(tx retention.Tx) error {
			updates := make([][]any, len(rows))
			for i, r := range rows {
				updates[i] = []any{r.ID, nameKey(r.FirstName, r.LastName)}
			}
			return tx.(*queries).bulkUpdate(ctx, "customers", "id", []bulkColumn{{"name_key", "TEXT"}}, updates)
		})
		if err != nil {
			return err
		}
	}
}

// searchSorted answers a search in a sorted order.
func (q *queries) searchSorted(ctx context.Context, query searchkey.Query, sq retention.SearchQuery) (retention.CustomerPage, error) {
	var page retention.CustomerPage
	plan := q.filterPlan(query)
	if !query.Empty() {
		var err error
		if plan, err = q.planSearch(ctx, query); err != nil {
			return page, err
		}
	}
	// The candidates of the rarest word, each checked against every word:
	// the intersection of term rows (plan.matches) is an id-order shortcut
	// the pages do not use. Without a filter the plan keeps what makes a
	// one-word count cheap (its term rows).
	if !sq.Filter.Empty() {
		plan = plan.withFilter(sq.Filter)
	}
	if sq.Count {
		var err error
		if page.TotalCount, page.TotalCapped, err = q.countMatches(ctx, plan); err != nil {
			return page, err
		}
	}
	if sq.First == 0 {
		return page, nil
	}
	var rows []sortedRow
	var err error
	switch {
	case sq.Order.Key == retention.SortByDeletionTime && plan.candidates != "":
		rows, err = q.candidatesByDeletion(ctx, plan, sq)
	case sq.Order.Key == retention.SortByDeletionTime:
		rows, err = q.mergeByDeletion(ctx, plan, sq)
	default:
		rows, err = q.byColumn(ctx, plan, sq)
	}
	if err != nil {
		return page, err
	}
	if len(rows) > sq.First {
		rows, page.HasNextPage = rows[:sq.First], true
	}
	for _, r := range rows {
		page.Customers = append(page.Customers, r.c)
		page.Values = append(page.Values, r.v)
	}
	return page, nil
}

// sortedRow is a customer and its value of the sort.
type sortedRow struct {
	c *retention.Customer
	v retention.SortValue
}

// byColumn reads a page in the order of a stored column (names, latest
// event end) after the cursor, by a range on the column's index.
func (q *queries) byColumn(ctx context.Context, plan searchPlan, sq retention.SearchQuery) ([]sortedRow, error) {
	col := "name_key"
	if sq.Order.Key == retention.SortByLastInteraction {
		col = "latest_event_end"
	}
	where, args := plan.where()
	cmp, dir := ">", ""
	if sq.Order.Desc {
		cmp, dir = "<", " DESC"
	}
	if sq.After != "" {
		var v any = sq.AfterValue.Text
		if col == "latest_event_end" {
			if sq.AfterValue.Time == nil {
				return nil, retention.FieldErrorf("after", "this cursor carries no time: pass a cursor of this order")
			}
			v = toMicros(*sq.AfterValue.Time)
		}
		// A row comparison: PostgreSQL reads it as the index's range,
		// where it would filter the OR form row by row from the start.
		where += " AND (" + col + ", id) " + cmp + " (?, ?)"
		args = append(args, v, sq.After)
	}
	var rows []customerRow
	if err := q.idb.NewSelect().Model(&rows).Where(where, args...).OrderExpr(col + dir + ", id" + dir).
		Limit(int64(sq.First + 1)).Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, internal("sorted search", err)
	}
	out := make([]sortedRow, len(rows))
	for i := range rows {
		r := sortedRow{c: rows[i].domain()}
		if col == "name_key" {
			r.v.Text = strVal(rows[i].NameKey)
		} else {
			t := r.c.Timeline.LatestEnd
			r.v.Time = &t
		}
		out[i] = r
	}
	return out, nil
}

// before reports whether a comes before b in the deletion-time order:
// dated customers by (time, id), ascending or descending, then the
// undated ones by id the same way.
func before(a, b sortedRow, desc bool) bool {
	at, bt := a.v.Time, b.v.Time
	switch {
	case a.c.ID == b.c.ID:
		return false
	case at == nil && bt == nil:
		return (a.c.ID < b.c.ID) != desc
	case at == nil:
		return false
	case bt == nil:
		return true
	case !at.Equal(*bt):
		return at.Before(*bt) != desc
	}
	return (a.c.ID < b.c.ID) != desc
}

// afterCursor reports whether r comes after the cursor of sq.
func afterCursor(r sortedRow, sq retention.SearchQuery) bool {
	if sq.After == "" {
		return true
	}
	cur := sortedRow{c: &retention.Customer{ID: sq.After}, v: retention.SortValue{Time: sq.AfterValue.Time}}
	return before(cur, r, sq.Order.Desc)
}

// candidatesByDeletion sorts a search's candidates (the rarest word's
// customers, a few thousand at most) by their deletion times.
func (q *queries) candidatesByDeletion(ctx context.Context, plan searchPlan, sq retention.SearchQuery) ([]sortedRow, error) {
	where, args := plan.where()
	var rows []customerRow
	if err := q.idb.NewSelect().Model(&rows).Where(where, args...).Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, internal("sorted search", err)
	}
	var out []sortedRow
	for i := range rows {
		r := sortedRow{c: rows[i].domain()}
		r.v.Time = retention.DeletionTimeAt(r.c, *sq.Rules)
		if afterCursor(r, sq) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b sortedRow) int {
		if before(a, b, sq.Order.Desc) {
			return -1
		}
		return 1
	})
	return out[:min(len(out), sq.First+1)], nil
}

// dueStream is one (policy group, status) of the customers with a
// deletion time, read in latest-event-end order.
type dueStream struct {
	where string
	args  []any
	// days: a customer's deletion time is its latest event end + days
	// when exact, else between the end and the end + days.
	days  time.Duration
	exact bool
	// batch is how many rows the next read asks for: a page's worth
	// unfiltered; with search words or a filter, 2 at first and twice as
	// many each time, since a stream may have to be walked far for each
	// matching row and most streams give few rows to a page.
	batch int
	buf   []customerRow
	last  *customerRow
	done  bool
}

// bound is the earliest (latest, descending) deletion time an unread row
// of s may have, given its next row.
func (s *dueStream) bound(desc bool) time.Time {
	end := fromMicros(s.buf[0].LatestEventEnd)
	if s.exact || desc {
		return end.Add(s.days)
	}
	return end
}

// dueStreams are the (group, status) streams of the customers with a
// deletion time under the rules sq.Rules, narrowed by the plan.
func dueStreams(plan searchPlan, sq retention.SearchQuery) []*dueStream {
	cut := sq.Rules
	where, args := plan.where()
	statuses := []retention.Status{retention.StatusActive, retention.StatusCancelled, retention.StatusDeleted}
	if sq.Filter.Status != "" {
		statuses = []retention.Status{sq.Filter.Status}
	}
	// Unfiltered, a stream's rows are all the page may need; filtered, a
	// row may cost a walk (see dueStream.batch).
	batch := sq.First + 1
	if len(plan.filterArgs) > 0 || plan.candidates != "" {
		batch = 2
	}
	var out []*dueStream
	for _, g := range cut.Groups {
		days := g.EndedBy.Sub(cut.At) * -1
		for _, st := range statuses {
			s := &dueStream{days: days, exact: cut.Anonymise == nil || !slices.Contains(cut.Anonymise.Statuses, st), batch: batch}
			s.where = "policy_group = ? AND status = ? AND " + reachable + " AND (held_until IS NULL OR held_until <= ?) AND " + where
			s.args = append([]any{g.Group, string(st), toMicros(cut.At)}, args...)
			out = append(out, s)
		}
	}
	return out
}

// streamQuery is the statement that reads the next n rows of s: after its
// last row, or from where the cursor's deletion time may be reached.
func (q *queries) streamQuery(s *dueStream, sq retention.SearchQuery, n int) (string, []any) {
	where, args := s.where, append([]any(nil), s.args...)
	cmp, dir := ">", ""
	if sq.Order.Desc {
		cmp, dir = "<", " DESC"
	}
	switch {
	case s.last != nil:
		where += fmt.Sprintf(" AND latest_event_end %s= ? AND (latest_event_end %s ? OR %s %s ?)", cmp, cmp, q.bytewise("id"), cmp)
		args = append(args, s.last.LatestEventEnd, s.last.LatestEventEnd, s.last.ID)
	case sq.After != "" && s.exact:
		// After the cursor's customer in the merge's order, which breaks
		// ties of time by id byte by byte (Go's string order): a range on
		// the end, and ids ordered and compared as bytes on PostgreSQL too,
		// whatever the database's collation (the index orders the ends; a
		// tie is sorted on its own).
		from := toMicros(sq.AfterValue.Time.Add(-s.days))
		where += fmt.Sprintf(" AND latest_event_end %s= ? AND (latest_event_end %s ? OR %s %s ?)", cmp, cmp, q.bytewise("id"), cmp)
		args = append(args, from, from, sq.After)
	case sq.After != "" && sq.Order.Desc:
		// A deletion time is at least the latest end.
		where, args = where+" AND latest_event_end <= ?", append(args, toMicros(*sq.AfterValue.Time))
	case sq.After != "":
		// …and at most the end + days.
		where, args = where+" AND latest_event_end >= ?", append(args, toMicros(sq.AfterValue.Time.Add(-s.days)))
	}
	from := "customers"
	if q.dialect == SQLite {
		// Without statistics SQLite prefers customers_due, whose range
		// holds every status: a rare status would be found row by row.
		from = "customers INDEXED BY customers_due_status"
	}
	return fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY latest_event_end%s, %s%s LIMIT %d", q.customerColumns(), from, where, dir, q.bytewise("id"), dir, n), args
}

// bytewise is col compared byte by byte, as Go compares strings.
func (q *queries) bytewise(col string) string {
	if q.dialect == Postgres {
		return col + ` COLLATE "C"`
	}
	return col // SQLite's BINARY
}

// customerColumns lists customerRow's columns, for statements bun does not
// build from the model.
func (q *queries) customerColumns() string {
	t := q.idb.Dialect().Tables().Get(reflect.TypeOf(customerRow{}))
	return strings.Join(columnsOf(t), ", ")
}

// streamRow is a row read for one of several streams at once.
type streamRow struct {
	customerRow `bun:",extend"`
	Stream      int `bun:"stream_idx"`
}

// fill reads the next rows of every stream whose buffer is empty, in one
// statement (a few when there are many): a page in deletion-time order
// starts by reading every (group, status) stream.
func (q *queries) fill(ctx context.Context, streams []*dueStream, sq retention.SearchQuery) error {
	var empty []*dueStream
	for _, s := range streams {
		if len(s.buf) == 0 && !s.done {
			empty = append(empty, s)
		}
	}
	for start := 0; start < len(empty); start += maxCompound {
		chunk := empty[start:min(start+maxCompound, len(empty))]
		parts := make([]string, len(chunk))
		var args []any
		for i, s := range chunk {
			query, a := q.streamQuery(s, sq, s.batch)
			parts[i] = fmt.Sprintf("SELECT s%d.*, %d AS stream_idx FROM (%s) AS s%d", i, i, query, i)
			args = append(args, a...)
		}
		var rows []streamRow
		if err := q.idb.NewRaw(strings.Join(parts, "\nUNION ALL\n"), args...).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return internal("sorted search", err)
		}
		for _, s := range chunk {
			s.buf, s.done = nil, true
		}
		for _, r := range rows {
			s := chunk[r.Stream]
			s.buf = append(s.buf, r.customerRow)
		}
		for _, s := range chunk {
			// UNION ALL promises no order across its parts' rows.
			slices.SortFunc(s.buf, func(a, b customerRow) int {
				c := cmp.Or(cmp.Compare(a.LatestEventEnd, b.LatestEventEnd), cmp.Compare(a.ID, b.ID))
				if sq.Order.Desc {
					return -c
				}
				return c
			})
			s.done = len(s.buf) < s.batch
			s.batch = min(2*s.batch, maxStreamBatch)
			if len(s.buf) > 0 {
				s.last = &s.buf[len(s.buf)-1]
			}
		}
	}
	return nil
}

// mergeByDeletion reads up to sq.First+1 customers in deletion-time order
// after the cursor: the streams merged, then the undated customers.
func (q *queries) mergeByDeletion(ctx context.Context, plan searchPlan, sq retention.SearchQuery) ([]sortedRow, error) {
	n, desc := sq.First+1, sq.Order.Desc
	var out, pending []sortedRow
	if sq.After == "" || sq.AfterValue.Time != nil {
		streams := dueStreams(plan, sq)
		for len(out) < n {
			best, bound, err := q.nextStream(ctx, streams, sq)
			if err != nil {
				return nil, err
			}
			m := -1
			for i := range pending {
				if m < 0 || before(pending[i], pending[m], desc) {
					m = i
				}
			}
			// A row read is given out once no unread row can precede it
			// (an equal time may hide a lower id: read on).
			if m >= 0 && (best == nil || (desc && pending[m].v.Time.After(bound)) || (!desc && pending[m].v.Time.Before(bound))) {
				out, pending = append(out, pending[m]), slices.Delete(pending, m, m+1)
				continue
			}
			if best == nil {
				break
			}
			r := sortedRow{c: best.buf[0].domain()}
			best.buf = best.buf[1:]
			if r.v.Time = retention.DeletionTimeAt(r.c, *sq.Rules); r.v.Time != nil && afterCursor(r, sq) {
				pending = append(pending, r)
			}
		}
	}
	if len(out) >= n {
		return out, nil
	}
	undated, err := q.undated(ctx, plan, sq, n-len(out))
	return append(out, undated...), err
}

// nextStream fills the streams' empty buffers and returns the stream whose
// next row may come first, with that bound; nil when all are read.
func (q *queries) nextStream(ctx context.Context, streams []*dueStream, sq retention.SearchQuery) (*dueStream, time.Time, error) {
	var best *dueStream
	var bound time.Time
	if err := q.fill(ctx, streams, sq); err != nil {
		return nil, bound, err
	}
	for _, s := range streams {
		if len(s.buf) == 0 {
			continue
		}
		b := s.bound(sq.Order.Desc)
		if best == nil || (sq.Order.Desc && b.After(bound)) || (!sq.Order.Desc && b.Before(bound)) {
			best, bound = s, b
		}
	}
	return best, bound, nil
}

// undated reads the customers without a deletion time (a visit open, a
// legal hold at the rules' instant), in id order after the cursor.
func (q *queries) undated(ctx context.Context, plan searchPlan, sq retention.SearchQuery, n int) ([]sortedRow, error) {
	where, args := plan.where()
	where = "erased_at IS NULL AND (open_visits > 0 OR held_until IS NOT NULL) AND (open_visits > 0 OR held_until > ?) AND " + where
	args = append([]any{toMicros(sq.Rules.At)}, args...)
	cmp, dir := ">", ""
	if sq.Order.Desc {
		cmp, dir = "<", " DESC"
	}
	if sq.After != "" && sq.AfterValue.Time == nil {
		where, args = where+" AND id "+cmp+" ?", append(args, sq.After)
	}
	var rows []customerRow
	if err := q.idb.NewSelect().Model(&rows).Where(where, args...).OrderExpr("id" + dir).
		Limit(int64(n)).Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, internal("sorted search", err)
	}
	out := make([]sortedRow, len(rows))
	for i := range rows {
		out[i] = sortedRow{c: rows[i].domain()}
	}
	return out, nil
}
