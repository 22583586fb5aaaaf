package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/searchkey"
)

// Search keeps two copies of each customer's search terms (see the
// migration 20261126010001_search_terms): rows of customer_terms, an index
// whose prefix ranges give the candidates of a word without reading a
// customer, and customers.search_words, the same terms as one string, which
// decides whether a customer read anyway matches the other words. The
// customer's row is the truth; customer_terms is kept equal to it in the
// same transaction.

const (
	// A word's term rows are counted up to probeLimit to choose the plan:
	// below it, its candidates are joined (at most probeLimit reads);
	// above, customers are read in id order until a page is full, which
	// for a word this common takes few reads.
	probeLimit = 4000
	// With several words the page may be rare although each word is
	// common, so the rarest word's candidates are joined up to this many.
	multiWordProbeLimit = 20000
	// The words of a search of several are counted up to this many term
	// rows: below it, the matches are the intersection of their term
	// rows, one pass over each (the other words' rows are read in the
	// index at a fraction of what reading their customers would cost).
	intersectLimit        = 100000
	termPairsPerStatement = 500
)

func (q *queries) withSearchWords(c *retention.Customer) (*customerRow, []string) {
	r := customerFromDomain(c)
	terms := q.keys.Terms(c.FirstName, c.LastName, c.Email, c.Phone)
	w, k := searchkey.Words(terms), nameKey(c.FirstName, c.LastName)
	r.SearchWords, r.NameKey = &w, &k
	return r, terms
}

type termPair struct{ term, customerID string }

func (q *queries) insertTerms(ctx context.Context, pairs []termPair) error {
	for start := 0; start < len(pairs); start += termPairsPerStatement {
		chunk := pairs[start:min(start+termPairsPerStatement, len(pairs))]
		args := make([]any, 0, 2*len(chunk))
		for _, p := range chunk {
			args = append(args, p.term, p.customerID)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?), ", len(chunk)), ", ")
		if _, err := q.idb.NewRaw("INSERT INTO customer_terms (term, customer_id) VALUES "+values+
			" ON CONFLICT DO NOTHING", args...).Exec(ctx); err != nil {
			return internal("insert search terms", err)
		}
	}
	return nil
}

func (q *queries) deleteTerms(ctx context.Context, pairs []termPair) error {
	for start := 0; start < len(pairs); start += termPairsPerStatement {
		chunk := pairs[start:min(start+termPairsPerStatement, len(pairs))]
		args := make([]any, 0, 2*len(chunk))
		for _, p := range chunk {
			args = append(args, p.term, p.customerID)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?), ", len(chunk)), ", ")
		if _, err := q.idb.NewRaw("DELETE FROM customer_terms WHERE (term, customer_id) IN (VALUES "+values+")",
			args...).Exec(ctx); err != nil {
			return internal("delete search terms", err)
		}
	}
	return nil
}

func pairsOf(id string, terms []string) []termPair {
	out := make([]termPair, len(terms))
	for i, t := range terms {
		out[i] = termPair{t, id}
	}
	return out
}

// replaceTerms makes customer_terms hold exactly terms for id, given the
// customer's stored search_words: most saves (a status change, a booking)
// change no personal data and so write no term.
func (q *queries) replaceTerms(ctx context.Context, id string, old *string, terms []string) error {
	gone, added := termChanges(old, terms)
	if err := q.deleteTerms(ctx, pairsOf(id, gone)); err != nil {
		return err
	}
	return q.insertTerms(ctx, pairsOf(id, added))
}

// termChanges compares a customer's stored search_words with its terms
// now: the terms to delete and those to insert.
func termChanges(old *string, terms []string) (gone, added []string) {
	var oldTerms []string
	if old != nil {
		oldTerms = strings.Fields(*old)
	}
	keep := map[string]bool{}
	for _, t := range terms {
		keep[t] = true
	}
	had := map[string]bool{}
	for _, t := range oldTerms {
		had[t] = true
		if !keep[t] {
			gone = append(gone, t)
		}
	}
	for _, t := range terms {
		if !had[t] {
			added = append(added, t)
			had[t] = true
		}
	}
	return gone, added
}

// dropTermsOf deletes the search terms of customers whose personal data is
// about to be cleared (erasure, anonymisation): the terms are personal data
// too.
func (q *queries) dropTermsOf(ctx context.Context, ids []any) error {
	var rows []struct {
		ID          string  `bun:"id"`
		SearchWords *string `bun:"search_words"`
	}
	if err := q.idb.NewSelect().Table("customers").Column("id", "search_words").
		Where("id IN ("+placeholders(len(ids))+")", ids...).Scan(ctx, &rows); err != nil {
		return internal("read search terms", err)
	}
	var pairs []termPair
	for _, r := range rows {
		if r.SearchWords != nil {
			pairs = append(pairs, pairsOf(r.ID, strings.Fields(*r.SearchWords))...)
		}
	}
	return q.deleteTerms(ctx, pairs)
}

// backfillSearchTerms computes the search terms of customers stored before
// the search_terms migration (search_words NULL), in short transactions so
// that a large database stays writable while it runs. It resumes where a
// stopped run left off.
func (s *Store) backfillSearchTerms(ctx context.Context) (int, error) {
	done := 0
	for {
		var rows []customerRow
		err := s.reads.NewSelect().Model(&rows).Column("id", "first_name", "last_name", "email", "phone").
			Where("search_words IS NULL").OrderExpr("id").Limit(1000).Scan(ctx)
		if err != nil {
			return done, internal("search backfill", err)
		}
		if len(rows) == 0 {
			return done, nil
		}
		err = s.Update(ctx, func(tx retention.Tx) error {
			q := tx.(*queries)
			updates := make([][]any, 0, len(rows))
			var pairs []termPair
			for _, r := range rows {
				terms := q.keys.Terms(r.FirstName, r.LastName, r.Email, r.Phone)
				updates = append(updates, []any{r.ID, searchkey.Words(terms)})
				pairs = append(pairs, pairsOf(r.ID, terms)...)
			}
			if err := q.insertTerms(ctx, pairs); err != nil {
				return err
			}
			return q.bulkUpdate(ctx, "customers", "id", []bulkColumn{{"search_words", "TEXT"}}, updates)
		})
		if err != nil {
			return done, err
		}
		done += len(rows)
	}
}

func searchKinds(fields []retention.Field) map[searchkey.Kind]bool {
	kinds := map[searchkey.Kind]bool{}
	for _, f := range fields {
		switch f {
		case retention.FieldFirstName:
			kinds[searchkey.FirstName] = true
		case retention.FieldLastName:
			kinds[searchkey.LastName] = true
		case retention.FieldEmail:
			kinds[searchkey.Email] = true
		case retention.FieldPhone:
			kinds[searchkey.Phone] = true
		}
	}
	return kinds
}

// termRange is the SQL condition and arguments for terms starting with t.
func termRange(t string) (string, []any) {
	if upper, ok := searchkey.Successor(t); ok {
		return "term >= ? AND term < ?", []any{t, upper}
	}
	return "term >= ?", []any{t}
}

// searchPlan is a search as SQL on customers: candidates (an id subquery
// on customer_terms, or none to read customers in id order) and a filter
// every row must pass.
type searchPlan struct {
	candidates     string
	candidateArgs  []any
	filter         string
	filterArgs     []any
	singleWordAlts []string // set when the query is one word: its terms
	// matches, with several words each below the probe limit, is the
	// intersection of their term rows: exactly the matching customers,
	// from the index alone (erasure and anonymisation drop the terms).
	matches     string
	matchesArgs []any
}

// contains is the dialect's literal substring test (no pattern
// characters).
func (q *queries) contains(col string) string {
	if q.dialect == Postgres {
		return "strpos(" + col + ", ?) > 0"
	}
	return "instr(" + col + ", ?) > 0"
}

// filterPlan is the plan that reads customers in id order, each checked
// against every word of the query.
func (q *queries) filterPlan(query searchkey.Query) searchPlan {
	plan := searchPlan{filter: "erased_at IS NULL"}
	for _, alts := range query.Words {
		var ors []string
		for _, a := range alts {
			ors = append(ors, q.contains("search_words"))
			plan.filterArgs = append(plan.filterArgs, " "+a)
		}
		plan.filter += " AND (" + strings.Join(ors, " OR ") + ")"
	}
	return plan
}

// planSearch plans a search (SearchCustomers answers one word with
// searchWord, which chooses the same plan for the page).
func (q *queries) planSearch(ctx context.Context, query searchkey.Query) (searchPlan, error) {
	plan := q.filterPlan(query)
	if query.Empty() {
		return plan, nil
	}
	limit, probe := probeLimit, probeLimit
	if len(query.Words) > 1 {
		limit, probe = multiWordProbeLimit, intersectLimit
	} else {
		plan.singleWordAlts = query.Words[0]
	}
	best, bestCount := -1, 0
	counts := make([]int, len(query.Words))
	for i, alts := range query.Words {
		n, err := q.countTerms(ctx, alts, probe)
		if err != nil {
			return plan, err
		}
		counts[i] = n
		if best < 0 || n < bestCount {
			best, bestCount = i, n
		}
	}
	below := true
	for _, n := range counts {
		below = below && n < probe
	}
	if len(query.Words) > 1 && below {
		// Every word's term rows are few enough to intersect: the exact
		// matches, however rare together two common words are ("fischer
		// anna" at a million customers: read in id order, its count
		// scanned every customer).
		plan.matches, plan.matchesArgs = intersectWords(query.Words, best, counts)
		return plan.withCandidates(query.Words[best]), nil
	}
	if bestCount >= limit {
		return plan, nil // common: read customers in id order
	}
	// One word (few terms), or one so common that intersecting its term
	// rows costs more than reading the rarest word's candidates.
	return plan.withCandidates(query.Words[best]), nil
}

// withCandidates makes the customers with a term of one word's
// alternatives the plan's candidates.
func (p searchPlan) withCandidates(alts []string) searchPlan {
	arms, args := termArms(alts)
	p.candidates, p.candidateArgs = strings.Join(arms, " UNION "), args
	return p
}

// dueNow is the condition of the customers due at the cut-offs' instant and
// not under a hold then: each group's erase range, or the data policy's
// range, on the anchors the sweep's ranges read (ranges.go), no rule.
func dueNow(c retention.Cutoffs) (string, []any) {
	var ors []string
	var args []any
	for _, g := range c.Groups {
		ors = append(ors, "(policy_group = ? AND latest_event_end <= ?)")
		args = append(args, g.Group, toMicros(g.EndedBy))
	}
	if d := c.Anonymise; d != nil && len(d.Statuses) > 0 {
		ors = append(ors, "(status IN ("+placeholders(len(d.Statuses))+") AND status_changed_at <= ? AND latest_event_end <= ? AND (relinquished_mask & ?) <> ?)")
		for _, st := range d.Statuses {
			args = append(args, string(st))
		}
		args = append(args, toMicros(d.ChangedBy), toMicros(d.EndedBy), d.Required, d.Required)
	}
	if len(ors) == 0 {
		return "1 = 0", nil
	}
	args = append(args, toMicros(c.At))
	return "(" + strings.Join(ors, " OR ") + ") AND " + reachable + " AND (held_until IS NULL OR held_until <= ?)", args
}

// withFilter adds the customer filter's conditions to the plan: bounds on
// the stored status, anchors and hold end (micros, as stored).
func (p searchPlan) withFilter(f retention.CustomerFilter) searchPlan {
	now := toMicros(f.Now)
	if f.Status != "" {
		p.filter += " AND status = ?"
		p.filterArgs = append(p.filterArgs, string(f.Status))
	}
	if f.Overdue && f.Due != nil {
		cond, args := dueNow(*f.Due)
		p.filter += " AND " + cond
		p.filterArgs = append(p.filterArgs, args...)
	}
	if f.UnderHold {
		p.filter += " AND held_until > ?"
		p.filterArgs = append(p.filterArgs, now)
	}
	p.singleWordAlts, p.matches, p.matchesArgs = nil, "", nil
	return p
}

// termArms are one SELECT of customer ids per alternative of a word.
func termArms(alts []string) ([]string, []any) {
	var arms []string
	var args []any
	for _, a := range alts {
		cond, cargs := termRange(a)
		arms = append(arms, "SELECT customer_id FROM customer_terms WHERE "+cond)
		args = append(args, cargs...)
	}
	return arms, args
}

// intersectWords is the SQL of the customers having, for every word, a
// term one of its alternatives starts (a customer may come more than
// once). The rarest word's term rows become an IN list, which both
// databases build once as a hashed or sorted set, and the next rarest
// word's rows are read past it: one pass over each, where INTERSECT
// would sort both. Further words are IN lists too.
func intersectWords(words [][]string, rarest int, counts []int) (string, []any) {
	outer := -1
	for i := range words {
		if i != rarest && (outer < 0 || counts[i] < counts[outer]) {
			outer = i
		}
	}
	arms, args := termArms(words[outer])
	query := fmt.Sprintf("SELECT customer_id FROM (%s) AS w WHERE 1 = 1", strings.Join(arms, " UNION ALL "))
	for i, alts := range words {
		if i == outer {
			continue
		}
		arms, wargs := termArms(alts)
		query += " AND customer_id IN (" + strings.Join(arms, " UNION ALL ") + ")"
		args = append(args, wargs...)
	}
	return query, args
}

// countTerms counts the term rows of a word's alternatives, up to limit:
// UNION ALL with one LIMIT stops reading the index at limit rows on both
// databases, whichever alternatives they come from.
func (q *queries) countTerms(ctx context.Context, alts []string, limit int) (int, error) {
	var arms []string
	var args []any
	for _, a := range alts {
		cond, cargs := termRange(a)
		arms = append(arms, "SELECT 1 FROM customer_terms WHERE "+cond)
		args = append(args, cargs...)
	}
	args = append(args, limit)
	var n int
	if err := q.idb.NewRaw("SELECT count(*) FROM ("+strings.Join(arms, " UNION ALL ")+" LIMIT ?) AS x", args...).Scan(ctx, &n); err != nil {
		return 0, internal("search probe", err)
	}
	return n, nil
}

func (p searchPlan) where() (string, []any) {
	where, args := p.filter, append([]any(nil), p.filterArgs...)
	if p.candidates != "" {
		where += " AND id IN (" + p.candidates + ")"
		args = append(args, p.candidateArgs...)
	}
	return where, args
}

func (q *queries) SearchCustomers(ctx context.Context, sq retention.SearchQuery) (retention.CustomerPage, error) {
	var page retention.CustomerPage
	query := q.keys.Query(sq.Text, searchKinds(sq.Fields))
	if query.None() {
		return page, nil // nothing searchable is visible: nothing can match
	}
	if sq.Order.Key != retention.SortByID {
		return q.searchSorted(ctx, query, sq)
	}
	filtered := !sq.Filter.Empty()
	if len(query.Words) == 1 && q.dialect == SQLite && !filtered {
		return q.searchWord(ctx, q.filterPlan(query), query.Words[0], sq)
	}
	plan, err := q.planSearch(ctx, query)
	if err != nil {
		return page, err
	}
	if filtered {
		// A word's term rows are no longer exactly its matches: the
		// customers are counted, and the page read, through the filter.
		plan = plan.withFilter(sq.Filter)
	}
	if plan.matches != "" {
		return q.searchMatches(ctx, plan, sq)
	}
	if sq.Count {
		if page.TotalCount, page.TotalCapped, err = q.countMatches(ctx, plan); err != nil {
			return page, err
		}
	}
	return q.pageInOrder(ctx, plan, sq, page)
}

// pageInOrder reads the page of customers passing the plan's filter (among
// its candidates, if any), in id order after sq.After, into page.
func (q *queries) pageInOrder(ctx context.Context, plan searchPlan, sq retention.SearchQuery, page retention.CustomerPage) (retention.CustomerPage, error) {
	if sq.First == 0 {
		return page, nil
	}
	where, args := plan.where()
	if sq.After != "" {
		where += " AND id > ?"
		args = append(args, sq.After)
	}
	var rows []customerRow
	if err := q.idb.NewSelect().Model(&rows).Where(where, args...).OrderExpr("id").
		Limit(int64(sq.First + 1)).Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return page, internal("search", err)
	}
	if len(rows) > sq.First {
		rows, page.HasNextPage = rows[:sq.First], true
	}
	for i := range rows {
		page.Customers = append(page.Customers, rows[i].domain())
	}
	return page, nil
}

// searchWord answers a search of one word on SQLite, where every row a
// statement returns costs the pure-Go driver about a microsecond: the probe
// that chooses the plan and the count run in one statement and count in
// the database, where reading a common word's term ids into Go to count
// them cost more than the rest of the search. The word's term rows are
// exactly its matches (erasure and anonymisation drop the terms), so the
// count is that of their distinct customers, exact up to the cap: SQLite
// stops reading at the cap's first customer beyond. (PostgreSQL keeps the
// streamed count of countMatches: its DISTINCT may hash the whole range
// before the LIMIT applies.)
func (q *queries) searchWord(ctx context.Context, plan searchPlan, alts []string, sq retention.SearchQuery) (retention.CustomerPage, error) {
	var page retention.CustomerPage
	cap := retention.MaxSearchCount
	probeArms, idArms := make([]string, len(alts)), make([]string, len(alts))
	var probeArgs []any
	for i, a := range alts {
		cond, args := termRange(a)
		probeArms[i] = "SELECT 1 FROM customer_terms WHERE " + cond
		idArms[i] = "SELECT customer_id FROM customer_terms WHERE " + cond
		probeArgs = append(probeArgs, args...)
	}
	query := "SELECT (SELECT count(*) FROM (" + strings.Join(probeArms, " UNION ALL ") + " LIMIT ?) AS p)"
	args := append(probeArgs, probeLimit)
	if sq.Count {
		query += ", (SELECT count(*) FROM (SELECT DISTINCT customer_id FROM (" + strings.Join(idArms, " UNION ALL ") +
			") AS t LIMIT ?) AS d)"
		args = append(append(args, probeArgs...), cap+1)
	} else {
		query += ", 0"
	}
	var terms, matches int
	if err := q.idb.QueryRowContext(ctx, query, args...).Scan(&terms, &matches); err != nil {
		return page, internal("search probe", err)
	}
	if sq.Count {
		page.TotalCount, page.TotalCapped = min(matches, cap), matches > cap
	}
	if terms < probeLimit {
		// Candidates joined: at most probeLimit reads.
		plan = plan.withCandidates(alts)
	}
	// else a common word: customers in id order find a page in few reads.
	return q.pageInOrder(ctx, plan, sq, page)
}

// searchMatches answers a search of several words, none of them common,
// from the intersection of their term rows: exactly the matching
// customers, from the index alone (erasure and anonymisation drop the
// terms), read once for both the count and the page. There are at most
// multiWordProbeLimit of them.
func (q *queries) searchMatches(ctx context.Context, plan searchPlan, sq retention.SearchQuery) (retention.CustomerPage, error) {
	var page retention.CustomerPage
	rows, err := q.idb.QueryContext(ctx, plan.matches, plan.matchesArgs...)
	if err != nil {
		return page, internal("search", err)
	}
	seen := map[string]bool{}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return page, internal("search", err)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return page, internal("search", err)
	}
	if sq.Count {
		page.TotalCount, page.TotalCapped = min(len(ids), retention.MaxSearchCount), len(ids) > retention.MaxSearchCount
	}
	if sq.First == 0 {
		return page, nil
	}
	slices.Sort(ids)
	if sq.After != "" {
		ids = ids[sort.SearchStrings(ids, sq.After+"\x00"):]
	}
	// The filter is applied again when reading the page's rows, in case
	// the terms and a customer disagree; a row it rejects is replaced by
	// the next id.
	for len(ids) > 0 && len(page.Customers) <= sq.First {
		batch := ids[:min(len(ids), sq.First+1-len(page.Customers))]
		ids = ids[len(batch):]
		var crows []customerRow
		args := append(anySlice(batch), plan.filterArgs...)
		if err := q.idb.NewSelect().Model(&crows).Where("id IN ("+placeholders(len(batch))+") AND "+plan.filter, args...).
			OrderExpr("id").Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return page, internal("search", err)
		}
		for i := range crows {
			page.Customers = append(page.Customers, crows[i].domain())
		}
	}
	if len(page.Customers) > sq.First {
		page.Customers, page.HasNextPage = page.Customers[:sq.First], true
	}
	return page, nil
}

// countMatches counts distinct matching customers, reading no more than
// MaxSearchCount+1 of them (plus the duplicates met on the way): exact up
// to the cap, capped above it.
func (q *queries) countMatches(ctx context.Context, p searchPlan) (int, bool, error) {
	cap := retention.MaxSearchCount
	seen := make(map[string]struct{}, 64)
	// Every statement says how many rows it may return: PostgreSQL sends
	// a statement's rows whether or not they are read, and closing the
	// result reads them to the end (a million for "07700 9" at a million
	// customers: 200 ms). full reports that the limit was reached.
	stream := func(limit int, query string, args ...any) (capped, full bool, err error) {
		rows, err := q.idb.QueryContext(ctx, query+" LIMIT ?", append(args, limit)...)
		if err != nil {
			return false, false, internal("search count", err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return false, false, internal("search count", err)
			}
			n++
			seen[id] = struct{}{}
			if len(seen) > cap {
				return true, false, nil
			}
		}
		return false, n == limit, internal("search count", rows.Err())
	}
	var capped, full bool
	var err error
	if p.singleWordAlts != nil {
		// One word: its term rows are exactly its matches, read from
		// the index alone. A customer may have several terms with the
		// word's prefix ("Maria Magdalena" for "ma"), so a range is read
		// up to four rows per customer counted, and again whole in the
		// rare case that this does not reach the cap.
		for _, a := range p.singleWordAlts {
			cond, args := termRange(a)
			query := "SELECT customer_id FROM customer_terms WHERE " + cond
			capped, full, err = stream(4*(cap+1), query, args...)
			if err == nil && full {
				capped, _, err = stream(math.MaxInt32, query, args...)
			}
			if err != nil || capped {
				break
			}
		}
	} else {
		// Customers are distinct: counted in the database, which
		// returns one row instead of up to cap+1 ids.
		where, args := p.where()
		var n int
		if err := q.idb.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT id FROM customers WHERE "+where+" LIMIT ?) AS c",
			append(args, cap+1)...).Scan(&n); err != nil {
			return 0, false, internal("search count", err)
		}
		return min(n, cap), n > cap, nil
	}
	if err != nil {
		return 0, false, err
	}
	if capped {
		return cap, true, nil
	}
	return len(seen), false, nil
}
