package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/lethe-privacy/lethe/retention"
)

func (q *queries) Customer(ctx context.Context, id string) (*retention.Customer, error) {
	var row customerRow
	err := q.forUpdate(q.idb.NewSelect().Model(&row).Where("id = ?", id)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, retention.Errorf(retention.CodeNotFound, "no customer with id %q", id)
	}
	if err != nil {
		return nil, internal("customer", err)
	}
	return row.domain(), nil
}

func (q *queries) InsertCustomer(ctx context.Context, c *retention.Customer) error {
	_, err := q.idb.NewInsert().Model(customerFromDomain(c)).Exec(ctx)
	return internal("insert customer", err)
}

func (q *queries) SaveCustomer(ctx context.Context, c *retention.Customer) error {
	_, err := q.idb.NewUpdate().Model(customerFromDomain(c)).ExcludeColumn("id", "created_at").WherePK().Exec(ctx)
	return internal("save customer", err)
}

// prefixRange is the range scan of the strings that start with prefix:
// col >= prefix AND col < the prefix's successor. The successor is the
// prefix with its last character incremented (UTF-8 sorts byte-wise in code
// point order); appending U+10FFFF instead would miss a name holding
// U+10FFFF right after the prefix. A prefix of only U+10FFFF has no
// successor and so no upper bound.
func prefixRange(col, prefix string) (string, []any) {
	r := []rune(prefix)
	for len(r) > 0 && r[len(r)-1] == utf8.MaxRune {
		r = r[:len(r)-1]
	}
	if len(r) == 0 {
		return col + " >= ?", []any{prefix}
	}
	r[len(r)-1]++
	if r[len(r)-1] == 0xD800 { // surrogates are not characters: skip them
		r[len(r)-1] = 0xE000
	}
	return col + " >= ? AND " + col + " < ?", []any{prefix, string(r)}
}

// searchUnion builds a UNION of one index range scan per searchable column:
// a prefix match served by the column's index, with no LIKE and so no
// wildcard characters to escape (%, _ and \ match themselves).
func searchUnion(q retention.SearchQuery) (string, []any) {
	text := strings.Join(strings.Fields(strings.ToLower(q.Text)), " ")
	var cols []string
	visible := map[retention.Field]bool{}
	for _, f := range q.Fields {
		visible[f] = true
	}
	if visible[retention.FieldFirstName] {
		cols = append(cols, "first_norm")
	}
	if visible[retention.FieldLastName] {
		cols = append(cols, "last_norm")
	}
	if visible[retention.FieldFirstName] && visible[retention.FieldLastName] && strings.Contains(text, " ") {
		cols = append(cols, "full_norm")
	}
	if visible[retention.FieldEmail] {
		cols = append(cols, "email_norm")
	}
	var parts []string
	var args []any
	for _, col := range cols {
		cond, a := prefixRange(col, text)
		parts = append(parts, "SELECT id FROM customers WHERE "+cond)
		args = append(args, a...)
	}
	if digits := digitsOnly(text); visible[retention.FieldPhone] && digits != "" && !hasLetter(text) {
		cond, a := prefixRange("phone_digits", digits)
		parts = append(parts, "SELECT id FROM customers WHERE "+cond)
		args = append(args, a...)
	}
	if len(parts) == 0 {
		// Nothing searchable is visible: nothing can match.
		return "SELECT id FROM customers WHERE 1 = 0", nil
	}
	return strings.Join(parts, " UNION "), args
}

func (q *queries) SearchCustomers(ctx context.Context, sq retention.SearchQuery) (retention.CustomerPage, error) {
	var page retention.CustomerPage
	sel := q.idb.NewSelect().Model((*customerRow)(nil)).Where("erased_at IS NULL")
	if strings.TrimSpace(sq.Text) != "" {
		union, args := searchUnion(sq)
		sel = sel.Where("id IN ("+union+")", args...)
	}
	total, err := sel.Count(ctx)
	if err != nil {
		return page, internal("search count", err)
	}
	page.TotalCount = int(total)
	if sq.First == 0 {
		return page, nil
	}
	if sq.After != "" {
		sel = sel.Where("id > ?", sq.After)
	}
	var rows []customerRow
	if err := sel.Model(&rows).OrderExpr("id").Limit(int64(sq.First + 1)).Scan(ctx); err != nil {
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

// ImportCustomers inserts many customers with their events in one
// transaction with multi-row inserts (demo data, bulk imports). Schedules
// must already be computed.
func (s *Store) ImportCustomers(ctx context.Context, customers []*retention.Customer, appointments []retention.Appointment, visits []retention.Visit) error {
	const batch = 500
	return s.Update(ctx, func(tx retention.Tx) error {
		q := tx.(*queries)
		for i := 0; i < len(customers); i += batch {
			rows := make([]*customerRow, 0, batch)
			for _, c := range customers[i:min(i+batch, len(customers))] {
				rows = append(rows, customerFromDomain(c))
			}
			if _, err := q.idb.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return internal("import customers", err)
			}
		}
		for i := 0; i < len(appointments); i += batch {
			rows := make([]*appointmentRow, 0, batch)
			for _, a := range appointments[i:min(i+batch, len(appointments))] {
				rows = append(rows, appointmentFromDomain(a))
			}
			if _, err := q.idb.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return internal("import appointments", err)
			}
		}
		for i := 0; i < len(visits); i += batch {
			rows := make([]*visitRow, 0, batch)
			for _, v := range visits[i:min(i+batch, len(visits))] {
				rows = append(rows, visitFromDomain(v))
			}
			if _, err := q.idb.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return internal("import visits", err)
			}
		}
		return nil
	})
}

func (q *queries) CustomersByID(ctx context.Context, ids []string) (map[string]*retention.Customer, error) {
	out := map[string]*retention.Customer{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []customerRow
	// In id order: a transaction that locks several customers locks them in
	// the one order every such transaction follows (see Store.update).
	sel := q.idb.NewSelect().Model(&rows).Where("id IN ("+placeholders(len(ids))+")", anySlice(ids)...).OrderExpr("id")
	if err := q.forUpdate(sel).Scan(ctx); err != nil {
		return nil, internal("customers by id", err)
	}
	for i := range rows {
		out[rows[i].ID] = rows[i].domain()
	}
	return out, nil
}
