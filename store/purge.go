package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
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

func (q *queries) PurgeFields(ctx context.Context, fields []retention.Field, now time.Time) ([]string, error) {
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
	// The search keys go with the values they were made of.
	first, last := purged[retention.FieldFirstName], purged[retention.FieldLastName]
	if first {
		set = append(set, "first_norm = NULL")
	}
	if last {
		set = append(set, "last_norm = NULL")
	}
	switch {
	case first && last:
		set = append(set, "full_norm = NULL")
	case first:
		set = append(set, "full_norm = last_norm")
	case last:
		set = append(set, "full_norm = first_norm")
	}
	if purged[retention.FieldEmail] {
		set = append(set, "email_norm = NULL")
	}
	if purged[retention.FieldPhone] {
		set = append(set, "phone_digits = NULL")
	}
	where := notHeld + " AND (" + strings.Join(cols, " OR ") + ")"
	var ids []string
	if err := q.idb.NewRaw("SELECT id FROM customers WHERE "+where+" ORDER BY id", toMicros(now)).Scan(ctx, &ids); err != nil {
		return nil, internal("purge fields", err)
	}
	if _, err := q.idb.NewRaw(fmt.Sprintf("UPDATE customers SET %s WHERE %s", strings.Join(set, ", "), where), toMicros(now)).Exec(ctx); err != nil {
		return nil, internal("purge fields", err)
	}
	if _, err := q.idb.NewRaw("UPDATE visits SET " + strings.Join(vcols, ", ")).Exec(ctx); err != nil {
		return nil, internal("purge visit fields", err)
	}
	return ids, nil
}
