package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/auditchain"
	"github.com/lethe-privacy/lethe/retention"
)

// auditRow is one line of the append-only audit log. The store inserts and
// selects these rows, never updates or deletes them (the database refuses
// that too: see the migration).
type auditRow struct {
	bun.BaseModel `bun:"table:audit_log"`

	Seq     int64   `bun:"seq,pk,autoincrement"`
	ID      string  `bun:"id"`
	At      int64   `bun:"at"`
	Actor   string  `bun:"actor"`
	Action  string  `bun:"action"`
	Subject *string `bun:"subject"`
	Details *string `bun:"details"`
}

func (r *auditRow) domain() retention.AuditEvent {
	e := retention.AuditEvent{ID: r.ID, At: fromMicros(r.At), Actor: r.Actor, Action: r.Action, Subject: strVal(r.Subject)}
	if r.Details != nil {
		// A row that does not parse still shows who did what and when.
		_ = json.Unmarshal([]byte(*r.Details), &e.Details)
	}
	return e
}

// AppendAudit records an event; it is chained and inserted at the end of
// the transaction (flushAudit).
func (q *queries) AppendAudit(ctx context.Context, e retention.AuditEvent) error {
	return q.AppendAudits(ctx, []retention.AuditEvent{e})
}

// AppendAudits records many events (a sweep writes one per customer).
func (q *queries) AppendAudits(_ context.Context, events []retention.AuditEvent) error {
	if !q.inTx {
		return internal("append audit", errors.New("audit events are written in a write transaction"))
	}
	for _, e := range events {
		ce := auditchain.Event{ID: e.ID, At: toMicros(e.At), Actor: e.Actor, Action: e.Action, Subject: strPtr(e.Subject)}
		if len(e.Details) > 0 {
			b, err := json.Marshal(e.Details)
			if err != nil {
				return internal("audit details", err)
			}
			s := string(b)
			ce.Details = &s
		}
		q.pendingAudit = append(q.pendingAudit, ce)
	}
	return nil
}

func (q *queries) AuditLog(ctx context.Context, aq retention.AuditQuery) ([]retention.AuditEvent, error) {
	out := []retention.AuditEvent{}
	if aq.First <= 0 {
		return out, nil
	}
	sel := q.idb.NewSelect().Model((*auditRow)(nil))
	if aq.Subject != "" {
		sel = sel.Where("subject = ?", aq.Subject)
	}
	if len(aq.Subjects) > 0 {
		sel = sel.Where("subject IN (?)", bun.In(aq.Subjects))
	}
	if aq.Action != "" {
		sel = sel.Where("action = ?", aq.Action)
	}
	if aq.Actor != "" {
		sel = sel.Where("actor = ?", aq.Actor)
	}
	if aq.From != nil {
		sel = sel.Where("at >= ?", toMicros(*aq.From))
	}
	if aq.To != nil {
		sel = sel.Where("at < ?", toMicros(*aq.To))
	}
	if aq.Text != "" {
		// Part of the actor or the subject, case-insensitive; the user's %
		// and _ are matched as themselves.
		like := "%" + likeEscaper.Replace(strings.ToLower(aq.Text)) + "%"
		sel = sel.Where(`(LOWER(actor) LIKE ? ESCAPE '\' OR LOWER(subject) LIKE ? ESCAPE '\')`, like, like)
	}
	if aq.After != "" {
		var seq int64
		err := q.idb.NewSelect().Model((*auditRow)(nil)).Column("seq").Where("id = ?", aq.After).Scan(ctx, &seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, retention.FieldErrorf("after", "no audit event with id %q: pass the id of the last event of the previous page", truncateID(aq.After))
		}
		if err != nil {
			return nil, internal("audit cursor", err)
		}
		sel = sel.Where("seq < ?", seq)
	}
	var rows []auditRow
	if err := sel.Model(&rows).OrderExpr("seq DESC").Limit(int64(aq.First)).Scan(ctx); err != nil {
		return nil, internal("audit log", err)
	}
	for i := range rows {
		out = append(out, rows[i].domain())
	}
	return out, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

func truncateID(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
