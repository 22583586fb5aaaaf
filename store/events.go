package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/lethe-privacy/lethe/retention"
)

func (q *queries) Appointments(ctx context.Context, customerIDs []string) (map[string][]retention.Appointment, error) {
	out := map[string][]retention.Appointment{}
	if len(customerIDs) == 0 {
		return out, nil
	}
	var rows []appointmentRow
	err := q.idb.NewSelect().Model(&rows).Where("customer_id IN ("+placeholders(len(customerIDs))+")", anySlice(customerIDs)...).
		OrderExpr("customer_id, starts_at, id").Scan(ctx)
	if err != nil {
		return nil, internal("appointments", err)
	}
	for i := range rows {
		out[rows[i].CustomerID] = append(out[rows[i].CustomerID], rows[i].domain())
	}
	return out, nil
}

func (q *queries) InsertAppointment(ctx context.Context, a retention.Appointment) error {
	_, err := q.idb.NewInsert().Model(appointmentFromDomain(a)).Exec(ctx)
	return internal("insert appointment", err)
}

func (q *queries) Visits(ctx context.Context, customerIDs []string) (map[string][]retention.Visit, error) {
	out := map[string][]retention.Visit{}
	if len(customerIDs) == 0 {
		return out, nil
	}
	var rows []visitRow
	err := q.idb.NewSelect().Model(&rows).Where("customer_id IN ("+placeholders(len(customerIDs))+")", anySlice(customerIDs)...).
		OrderExpr("customer_id, started_at, id").Scan(ctx)
	if err != nil {
		return nil, internal("visits", err)
	}
	for i := range rows {
		v := rows[i].domain()
		out[v.CustomerID] = append(out[v.CustomerID], v)
	}
	return out, nil
}

func (q *queries) Visit(ctx context.Context, id string) (*retention.Visit, error) {
	var row visitRow
	err := q.forUpdate(q.idb.NewSelect().Model(&row).Where("id = ?", id)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, retention.Errorf(retention.CodeNotFound, "no visit with id %q", id)
	}
	if err != nil {
		return nil, internal("visit", err)
	}
	v := row.domain()
	return &v, nil
}

func (q *queries) InsertVisit(ctx context.Context, v retention.Visit) error {
	_, err := q.idb.NewInsert().Model(visitFromDomain(v)).Exec(ctx)
	return internal("insert visit", err)
}

func (q *queries) SaveVisit(ctx context.Context, v retention.Visit) error {
	_, err := q.idb.NewUpdate().Model(visitFromDomain(v)).ExcludeColumn("id").WherePK().Exec(ctx)
	return internal("save visit", err)
}

// DeleteCustomerEvents removes the appointments of an erased customer and
// unlinks its visits, removing their custom fields: what remains of a visit
// (its times) no longer says whose it was nor anything about them.
func (q *queries) DeleteCustomerEvents(ctx context.Context, customerID string) error {
	if _, err := q.idb.NewDelete().Model((*appointmentRow)(nil)).Where("customer_id = ?", customerID).Exec(ctx); err != nil {
		return internal("delete appointments", err)
	}
	_, err := q.idb.NewRaw("UPDATE visits SET customer_id = NULL, "+clearVisitFields+" WHERE customer_id = ?", customerID).Exec(ctx)
	return internal("unlink visits", err)
}

func (q *queries) LegalHolds(ctx context.Context, customerIDs []string) (map[string][]retention.LegalHold, error) {
	out := map[string][]retention.LegalHold{}
	if len(customerIDs) == 0 {
		return out, nil
	}
	var rows []holdRow
	err := q.idb.NewSelect().Model(&rows).Where("customer_id IN ("+placeholders(len(customerIDs))+")", anySlice(customerIDs)...).
		OrderExpr("customer_id, placed_at, id").Scan(ctx)
	if err != nil {
		return nil, internal("legal holds", err)
	}
	for i := range rows {
		out[rows[i].CustomerID] = append(out[rows[i].CustomerID], rows[i].domain())
	}
	return out, nil
}

func (q *queries) LegalHold(ctx context.Context, id string) (*retention.LegalHold, error) {
	var row holdRow
	err := q.forUpdate(q.idb.NewSelect().Model(&row).Where("id = ?", id)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, retention.Errorf(retention.CodeNotFound, "no legal hold with id %q", id)
	}
	if err != nil {
		return nil, internal("legal hold", err)
	}
	h := row.domain()
	return &h, nil
}

func (q *queries) InsertLegalHold(ctx context.Context, h retention.LegalHold) error {
	_, err := q.idb.NewInsert().Model(holdFromDomain(h)).Exec(ctx)
	return internal("insert legal hold", err)
}

func (q *queries) SaveLegalHold(ctx context.Context, h retention.LegalHold) error {
	_, err := q.idb.NewUpdate().Model(holdFromDomain(h)).ExcludeColumn("id").WherePK().Exec(ctx)
	return internal("save legal hold", err)
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (q *queries) PendingVisitRecords(ctx context.Context, afterID string, limit int) ([]retention.Visit, error) {
	var rows []visitRow
	sel := q.idb.NewSelect().Model(&rows).Where("stats_pending = 1")
	if afterID != "" {
		sel = sel.Where("id > ?", afterID)
	}
	if err := sel.OrderExpr("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, internal("pending visit records", err)
	}
	out := make([]retention.Visit, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (q *queries) VisitRecordsDelivered(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += bulkRows {
		chunk := anySlice(ids[start:min(start+bulkRows, len(ids))])
		if _, err := q.idb.NewRaw("UPDATE visits SET stats_pending = 0, "+clearVisitFields+" WHERE ended_at IS NOT NULL AND id IN ("+placeholders(len(chunk))+")", chunk...).Exec(ctx); err != nil {
			return internal("visit records delivered", err)
		}
	}
	return nil
}
