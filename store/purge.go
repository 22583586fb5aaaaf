package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/searchkey"
)

// fieldColumns are the customer and visit columns holding one personal
// field.
func fieldColumns(f retention.Field) (customer, visit string) {
	switch f {
	case retention.FieldFirstName:
		return "first_name", "visitor_first_name"
	case retention.FieldLastName:
		return "last_name", "visitor_last_name"
	case retention.FieldEmail:
		return "email", "visitor_email"
	case retention.FieldPhone:
		return "phone", "visitor_phone"
	}
	return "", ""
}

const notHeld = "erased_at IS NULL AND (held_until IS NULL OR held_until <= ?)"

func (q *queries) CountStoredValues(ctx context.Context, fields []retention.Field, now time.Time) (map[retention.Field]int, error) {
	out := map[retention.Field]int{}
	for _, f := range fields {
		col, vcol := fieldColumns(f)
		if col == "" {
			continue
		}
		var n, v int
		if err := q.idb.NewRaw("SELECT count(*) FROM customers WHERE "+notHeld+" AND "+col+" IS NOT NULL", toMicros(now)).Scan(ctx, &n); err != nil {
			return nil, internal("count stored values", err)
		}
		if err := q.idb.NewRaw("SELECT count(*) FROM visits WHERE "+vcol+" IS NOT NULL").Scan(ctx, &v); err != nil {
			return nil, internal("count stored values", err)
		}
		out[f] = n + v
	}
	return out, nil
}

func (q *queries) PurgeFields(ctx context.Context, fields []retention.Field, now time.Time) ([]retention.Subject, error) {
	var cols, vcols, set []string
	purged := map[retention.Field]bool{}
	for _, f := range fields {
		col, vcol := fieldColumns(f)
		if col == "" {
			continue
		}
		purged[f] = true
		cols, vcols = append(cols, col+" IS NOT NULL"), append(vcols, vcol+" = NULL")
		set = append(set, col+" = NULL")
	}
	if len(cols) == 0 {
		return nil, nil
	}
	where := notHeld + " AND (" + strings.Join(cols, " OR ") + ")"
	// The identifiers as they are before the purge: connectors keyed by
	// them find the subject by the values being purged.
	var rows []customerRow
	if err := q.idb.NewSelect().Model(&rows).Column("id", "first_name", "last_name", "email", "phone").
		Where(where, toMicros(now)).OrderExpr("id").Scan(ctx); err != nil {
		return nil, internal("purge fields", err)
	}
	ids := make([]string, len(rows))
	held := make([]retention.Subject, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
		held[i] = retention.Subject{CustomerID: r.ID, FirstName: strVal(r.FirstName), LastName: strVal(r.LastName),
			Email: strVal(r.Email), Phone: strVal(r.Phone)}
	}
	// The search terms go with the values they were made of: a purged
	// value must not stay findable, nor readable in customer_terms.
	if err := q.rebuildTermsWithout(ctx, ids, purged); err != nil {
		return nil, err
	}
	if _, err := q.idb.NewRaw(fmt.Sprintf("UPDATE customers SET %s WHERE %s", strings.Join(set, ", "), where), toMicros(now)).Exec(ctx); err != nil {
		return nil, internal("purge fields", err)
	}
	if _, err := q.idb.NewRaw("UPDATE visits SET " + strings.Join(vcols, ", ")).Exec(ctx); err != nil {
		return nil, internal("purge visit fields", err)
	}
	return held, nil
}

// rebuildTermsWithout recomputes the search terms of the customers ids as
// if the fields in cleared were already empty: the terms made of those
// values leave customer_terms and search_words, the others stay.
func (q *queries) rebuildTermsWithout(ctx context.Context, ids []string, cleared map[retention.Field]bool) error {
	for start := 0; start < len(ids); start += bulkRows {
		chunk := ids[start:min(start+bulkRows, len(ids))]
		var rows []customerRow
		if err := q.idb.NewSelect().Model(&rows).Column("id", "first_name", "last_name", "email", "phone", "search_words").
			Where("id IN (?)", bun.In(chunk)).Scan(ctx); err != nil {
			return internal("purge search terms", err)
		}
		var gone, added []termPair
		updates := make([][]any, 0, len(rows))
		for _, r := range rows {
			keep := func(f retention.Field, v *string) *string {
				if cleared[f] {
					return nil
				}
				return v
			}
			terms := q.keys.Terms(keep(retention.FieldFirstName, r.FirstName), keep(retention.FieldLastName, r.LastName),
				keep(retention.FieldEmail, r.Email), keep(retention.FieldPhone, r.Phone))
			g, a := termChanges(r.SearchWords, terms)
			gone, added = append(gone, pairsOf(r.ID, g)...), append(added, pairsOf(r.ID, a)...)
			updates = append(updates, []any{r.ID, searchkey.Words(terms),
				nameKey(keep(retention.FieldFirstName, r.FirstName), keep(retention.FieldLastName, r.LastName))})
		}
		if err := q.deleteTerms(ctx, gone); err != nil {
			return err
		}
		if err := q.insertTerms(ctx, added); err != nil {
			return err
		}
		if err := q.bulkUpdate(ctx, "customers", "id", []bulkColumn{{"search_words", "TEXT"}, {"name_key", "TEXT"}}, updates); err != nil {
			return err
		}
	}
	return nil
}
