package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
)

// tokenRow is an API token. Hash is the SHA-256 of the secret; the secret
// itself is never stored.
type tokenRow struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID         string `bun:"id,pk"`
	Name       string `bun:"name"`
	Role       string `bun:"role"`
	Hash       string `bun:"hash"`
	CreatedAt  int64  `bun:"created_at"`
	CreatedBy  string `bun:"created_by"`
	LastUsedAt *int64 `bun:"last_used_at"`
	RevokedAt  *int64 `bun:"revoked_at"`
}

func (r *tokenRow) domain() retention.APIToken {
	return retention.APIToken{ID: r.ID, Name: r.Name, Role: retention.Role(r.Role), CreatedAt: fromMicros(r.CreatedAt),
		CreatedBy: r.CreatedBy, LastUsedAt: fromMicrosPtr(r.LastUsedAt), RevokedAt: fromMicrosPtr(r.RevokedAt)}
}

func (q *queries) TokenByHash(ctx context.Context, hash retention.TokenHash) (*retention.APIToken, error) {
	var row tokenRow
	err := q.idb.NewSelect().Model(&row).Where("hash = ?", string(hash)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, retention.Errorf(retention.CodeNotFound, "unknown token")
	}
	if err != nil {
		return nil, internal("token", err)
	}
	t := row.domain()
	return &t, nil
}

func (q *queries) Tokens(ctx context.Context) ([]retention.APIToken, error) {
	var rows []tokenRow
	if err := q.idb.NewSelect().Model(&rows).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, internal("tokens", err)
	}
	out := make([]retention.APIToken, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (q *queries) InsertToken(ctx context.Context, t retention.APIToken, hash retention.TokenHash) error {
	row := &tokenRow{ID: t.ID, Name: t.Name, Role: string(t.Role), Hash: string(hash), CreatedAt: toMicros(t.CreatedAt), CreatedBy: t.CreatedBy}
	// The partial unique index on live names makes a taken name a no-op
	// insert rather than an error that would abort a PostgreSQL transaction.
	res, err := q.idb.NewInsert().Model(row).On("CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING").Exec(ctx)
	if err != nil {
		return internal("insert token", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return retention.FieldErrorf("name", "a token named %q exists: revoke it first (lethe token revoke --name %s) or pick another name", t.Name, t.Name)
	}
	return nil
}

func (q *queries) RevokeToken(ctx context.Context, name string, at time.Time) (retention.APIToken, error) {
	var row tokenRow
	err := q.forUpdate(q.idb.NewSelect().Model(&row).Where("name = ? AND revoked_at IS NULL", name)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return retention.APIToken{}, retention.Errorf(retention.CodeNotFound, "no live token named %q", name)
	}
	if err != nil {
		return retention.APIToken{}, internal("revoke token", err)
	}
	row.RevokedAt = toMicrosPtr(&at)
	if _, err := q.idb.NewUpdate().Model(&row).Column("revoked_at").WherePK().Exec(ctx); err != nil {
		return retention.APIToken{}, internal("revoke token", err)
	}
	return row.domain(), nil
}

func (q *queries) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := q.idb.NewUpdate().Model((*tokenRow)(nil)).Set("last_used_at = ?", toMicros(at)).Where("id = ?", id).Exec(ctx)
	return internal("touch token", err)
}
