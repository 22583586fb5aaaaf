package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
)

func (q *queries) Appointments(ctx context.Context, customerIDs []string) (map[string][]retention.Appointment, error) {
	return groupedBy(ctx, q, "appointments", "customer_id", "customer_id, starts_at, id", customerIDs,
		func(r *appointmentRow) string { return r.CustomerID }, infallible((*appointmentRow).domain))
}

func (q *queries) InsertAppointment(ctx context.Context, a retention.Appointment) error {
	_, err := q.idb.NewInsert().Model(appointmentFromDomain(a)).Exec(ctx)
	return internal("insert appointment", err)
}

func (q *queries) Visits(ctx context.Context, customerIDs []string) (map[string][]retention.Visit, error) {
	return groupedBy(ctx, q, "visits", "customer_id", "customer_id, started_at, id", customerIDs,
		func(r *visitRow) string { return strVal(r.CustomerID) }, (*visitRow).domain)
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
	v, err := row.domain()
	if err != nil {
		return nil, internal("visit", err)
	}
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
	return groupedBy(ctx, q, "legal holds", "customer_id", "customer_id, placed_at, id", customerIDs,
		func(r *holdRow) string { return r.CustomerID }, infallible((*holdRow).domain))
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
	out, err := domains(rows, (*visitRow).domain)
	return out, internal("pending visit records", err)
}

func (q *queries) VisitRecordsDelivered(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += bulkRows {
		chunk := ids[start:min(start+bulkRows, len(ids))]
		if _, err := q.idb.NewRaw("UPDATE visits SET stats_pending = 0, "+clearVisitFields+" WHERE ended_at IS NOT NULL AND id IN (?)", bun.In(chunk)).Exec(ctx); err != nil {
			return internal("visit records delivered", err)
		}
	}
	return nil
}
