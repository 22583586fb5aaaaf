package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/uptrace/bun"

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
	row, terms := q.withSearchWords(c)
	if _, err := q.idb.NewInsert().Model(row).Exec(ctx); err != nil {
		return internal("insert customer", err)
	}
	return q.insertTerms(ctx, pairsOf(c.ID, terms))
}

func (q *queries) SaveCustomer(ctx context.Context, c *retention.Customer) error {
	var old []*string
	if err := q.idb.NewSelect().Table("customers").Column("search_words").Where("id = ?", c.ID).Scan(ctx, &old); err != nil {
		return internal("save customer", err)
	}
	row, terms := q.withSearchWords(c)
	if _, err := q.idb.NewUpdate().Model(row).ExcludeColumn("id", "created_at").WherePK().Exec(ctx); err != nil {
		return internal("save customer", err)
	}
	var prev *string
	if len(old) == 1 {
		prev = old[0]
	}
	return q.replaceTerms(ctx, c.ID, prev, terms)
}

func (q *queries) CustomersByID(ctx context.Context, ids []string) (map[string]*retention.Customer, error) {
	out := map[string]*retention.Customer{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []customerRow
	// In id order: a transaction that locks several customers locks them in
	// the one order every such transaction follows (see Store.update).
	sel := q.idb.NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).OrderExpr("id")
	if err := q.forUpdate(sel).Scan(ctx); err != nil {
		return nil, internal("customers by id", err)
	}
	for i := range rows {
		out[rows[i].ID] = rows[i].domain()
	}
	return out, nil
}
